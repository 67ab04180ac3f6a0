"""Date ranges: serial and a local process pool give the same bytes, a failing session is
reported with its reason while the others complete, and the summary lists every session in date
order (SPEC §4, §7)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replay.cli import app
from replay.gold.layout import gold_file, manifest_file
from replay.gold.verify import compare
from replay.labels.layout import outcomes_file
from replay.lake.ingest import ingest
from replay.sample import generate_session

DATES = [dt.date(2025, 11, 14), dt.date(2025, 11, 17), dt.date(2025, 11, 18)]
runner = CliRunner()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("range")
    generate_session(root / "src", minutes=3, days=3)  # Fri 11-14, Mon 11-17, Tue 11-18
    ingest(sorted((root / "src").glob("*.dbn.zst")), root / "lake")
    return root / "lake"


def _replay(lake: Path, out: Path, *extra: str) -> object:
    args = ["replay", "--lake", str(lake), "--date", "2025-11-14", "--end-date", "2025-11-20"]
    return runner.invoke(app, [*args, "--out", str(out), *extra])


def _summary(out: Path) -> dict:
    """The range's JSON summary, its replayable sessions only (skipped dates apart)."""
    doc = json.loads((out / "gold/_runs/replay-summary.json").read_text())
    doc["skipped_dates"] = [x for x in doc["sessions"] if x["status"] == "skipped"]
    doc["sessions"] = [x for x in doc["sessions"] if x["status"] != "skipped"]
    return doc


def test_serial_and_a_process_pool_give_the_same_runs(lake: Path, tmp_path: Path) -> None:
    serial = _replay(lake, tmp_path / "s")
    pool = _replay(lake, tmp_path / "p", "--workers", "2")
    assert serial.exit_code == 0 and pool.exit_code == 0, pool.output
    assert compare(tmp_path / "s", tmp_path / "p") == []  # Gold bytes and deterministic parts
    for out in (tmp_path / "s", tmp_path / "p"):
        s = _summary(out)
        assert [x["date"] for x in s["sessions"]] == [d.isoformat() for d in DATES]
        assert s["ok"] == 3 and s["failed"] == 0
    assert "3 of 3 sessions ok, 0 resumed, 0 failed; 4 dates skipped" in pool.output
    # read_gold over all, several or a range of sessions (session order, then Gold order)
    from replay.api import read_gold

    every = read_gold(tmp_path / "s")
    rows = [json.loads(manifest_file(tmp_path / "s", d).read_text())["deterministic"]["rows"]
            for d in DATES]  # fmt: skip
    assert every.height == sum(rows)
    assert every["session_date"].unique(maintain_order=True).to_list() == DATES
    two = read_gold(tmp_path / "s", ["2025-11-18", "2025-11-14"])
    assert two["session_date"].unique(maintain_order=True).to_list() == [DATES[0], DATES[2]]
    span = read_gold(tmp_path / "s", "2025-11-15", "2025-11-17")
    assert span.height == rows[1]
    # 11-14..11-20: Sat 15, Sun 16 and Wed 19, Thu 20 (not in the lake) are listed, with reasons
    assert [(x["date"], x["reason"]) for x in _summary(tmp_path / "s")["skipped_dates"]] == [
        ("2025-11-15", "no data (Saturday: no trade date)"),
        ("2025-11-16", "no data (Sunday: no trade date)"),
        ("2025-11-19", "no data in the lake"),
        ("2025-11-20", "no data in the lake"),
    ]
    rows = [x["rows"] for x in _summary(tmp_path / "s")["sessions"]]
    assert rows == [x["rows"] for x in _summary(tmp_path / "p")["sessions"]] and min(rows) > 0
    # The 3-session table reads directly as a hive dataset, row counts as the manifests say.
    import polars as pl
    import pyarrow.dataset as ds

    from replay.gold.layout import table_dir

    manifests = {
        d.isoformat(): json.loads(manifest_file(tmp_path / "p", d).read_text())["deterministic"]
        for d in DATES
    }
    want = {d: m["rows"] for d, m in manifests.items()}
    df = pl.scan_parquet(table_dir(tmp_path / "p"), hive_partitioning=True).collect()
    assert {str(k): v for k, v in df.group_by("date").len().iter_rows()} == want
    t = ds.dataset(table_dir(tmp_path / "p"), format="parquet", partitioning="hive").to_table()
    assert t.num_rows == sum(want.values()) == sum(rows)


def test_a_failing_session_is_reported_while_the_others_complete(
    lake: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "lake"
    shutil.copytree(lake, bad)
    part = bad / "bronze/futures_mbp10/date=2025-11-17/part-00000.parquet"
    part.write_bytes(b"PAR1 this is not parquet PAR1")
    res = _replay(bad, tmp_path / "out", "--workers", "2")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "FAILED 2025-11-17" in res.output and "1 of 3 sessions failed: 2025-11-17" in res.output
    s = _summary(tmp_path / "out")
    assert [x["status"] for x in s["sessions"]] == ["ok", "failed", "ok"]
    assert s["sessions"][1]["reason"]
    assert gold_file(tmp_path / "out", DATES[0]).is_file()
    assert gold_file(tmp_path / "out", DATES[2]).is_file()
    assert not gold_file(tmp_path / "out", DATES[1]).exists()


def test_a_range_without_data_and_bad_workers_exit_2(lake: Path, tmp_path: Path) -> None:
    args = ["replay", "--lake", str(lake), "--date", "2025-12-01", "--end-date", "2025-12-05"]
    res = runner.invoke(app, [*args, "--out", str(tmp_path)])
    assert res.exit_code == 2 and "no replayable session from 2025-12-01" in res.output
    assert "the lake has 3 dates, 2025-11-14 to 2025-11-18" in res.output
    res = _replay(lake, tmp_path, "--workers", "0")
    assert res.exit_code == 2 and "--workers 0" in res.output


def test_resume_completes_only_what_is_missing_or_stale(lake: Path, tmp_path: Path) -> None:
    """An interrupted range: 11-17 never written, 11-18 left with a Gold file its manifest does
    not record (a kill between the two writes). --resume keeps 11-14 untouched, redoes the other
    two, and the run equals an uninterrupted one. Another config is another job: all redone."""
    assert _replay(lake, tmp_path / "full").exit_code == 0
    out = tmp_path / "r"
    assert _replay(lake, out).exit_code == 0
    shutil.rmtree(gold_file(out, DATES[1]).parent)
    manifest_file(out, DATES[1]).unlink()
    gold_file(out, DATES[2]).write_bytes(b"half a file")
    kept = gold_file(out, DATES[0]).stat().st_mtime_ns
    res = _replay(lake, out, "--resume")
    assert res.exit_code == 0, res.output
    assert [x["status"] for x in _summary(out)["sessions"]] == ["resumed", "ok", "ok"]
    assert "2 of 3 sessions ok, 1 resumed, 0 failed" in res.output
    assert gold_file(out, DATES[0]).stat().st_mtime_ns == kept
    assert compare(tmp_path / "full", out) == []
    (tmp_path / "c.toml").write_text("[engine]\ndisplay_ratio = 0.5\n")
    res = _replay(lake, out, "--resume", "--config", str(tmp_path / "c.toml"))
    assert [x["status"] for x in _summary(out)["sessions"]] == ["ok", "ok", "ok"]


def test_a_dask_cluster_gives_the_same_runs(lake: Path, tmp_path: Path) -> None:
    """A real LocalCluster (2 worker processes): the same bytes and deterministic manifests as a
    serial run; the executor is recorded in the manifests' run part."""
    from distributed import LocalCluster

    assert _replay(lake, tmp_path / "s").exit_code == 0
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        res = _replay(lake, tmp_path / "d", "--scheduler", cluster.scheduler_address)
        labels = [
            runner.invoke(app, [*_label_args(lake, tmp_path / out), *extra])
            for out, extra in (("s", []), ("d", ["--scheduler", cluster.scheduler_address]))
        ]
    assert res.exit_code == 0, res.output
    assert compare(tmp_path / "s", tmp_path / "d") == []
    run = json.loads(manifest_file(tmp_path / "d", DATES[0]).read_text())["run"]
    assert (run["executor"], run["workers"]) == ("dask", 2)
    # labels (SPEC §10.1) on the cluster: the same bytes as labelled in this process
    assert all(r.exit_code == 0 for r in labels), labels[1].output
    for d in DATES:
        want = outcomes_file(tmp_path / "s", d).read_bytes()
        assert outcomes_file(tmp_path / "d", d).read_bytes() == want
    assert "3 labelled, 0 current (kept), 0 failed; 2 dates without Gold" in labels[1].output


def _label_args(lake: Path, out: Path) -> list[str]:
    args = ["label", "--lake", str(lake), "--gold", str(out)]
    return [*args, "--date", "2025-11-14", "--end-date", "2025-11-18"]


def test_task_keys_and_the_worker_check() -> None:
    from replay.common.errors import UserError
    from replay.run.dask_executor import build_identity, check_workers, task_key
    from replay.run.replay_job import ReplayJob

    job = ReplayJob(Path("l"), DATES[0], Path("o"))
    a, b = task_key(job, "n1"), task_key(job, "n2")
    assert a != b and a.startswith("replay-2025-11-14-") and a.endswith("-n1")
    assert task_key(job, "n1") == a  # the same job and run: the same key (a retry reuses it)
    other = ReplayJob(Path("l"), DATES[0], Path("o2"))
    assert task_key(other, "n1") != a  # another output is another job
    me = build_identity()
    check_workers({"tcp://w1": me}, me)
    with pytest.raises(UserError, match="1 Dask worker"):
        check_workers({"tcp://w1": me, "tcp://w2": {**me, "code_digest": "x"}}, me)
    with pytest.raises(UserError, match="no workers"):
        check_workers({}, me)


def test_a_worker_killed_mid_session_is_retried_with_the_same_output(
    lake: Path, tmp_path: Path
) -> None:
    """SIGKILL the Dask worker process that is writing a session's Gold (its temp file, named
    with the writer's pid, exists in the staging directory): the nanny restarts it, the task
    runs again, and the range's output equals a serial run."""
    import os
    import signal
    import threading
    import time

    from distributed import LocalCluster

    assert _replay(lake, tmp_path / "s").exit_code == 0
    out = tmp_path / "d"
    staging = out / "gold" / "_staging"
    killed: list[int] = []

    def kill_first_writer() -> None:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            for p in sorted(staging.glob(".*.tmp-writing-*")) if staging.is_dir() else []:
                pid = int(p.name.rsplit("-", 1)[1])
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.001)

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        killer = threading.Thread(target=kill_first_writer, daemon=True)
        killer.start()
        res = _replay(lake, out, "--scheduler", cluster.scheduler_address)
        killer.join(timeout=1)
    assert killed, "no session was caught mid-write"
    assert killed[0] != os.getpid()
    assert res.exit_code == 0, res.output
    assert compare(tmp_path / "s", out) == []
    assert [x["status"] for x in _summary(out)["sessions"]] == ["ok", "ok", "ok"]


def test_info_says_which_dates_replay_and_why_not(lake: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    odd = tmp_path / "lake"
    shutil.copytree(lake, odd)
    # 11-17 without depth (trades only); 11-18 depth whose asks are all undefined (one-sided)
    shutil.rmtree(odd / "bronze/futures_mbp10/date=2025-11-17")
    p = odd / "bronze/futures_mbp10/date=2025-11-18/part-00000.parquet"
    t = pq.read_table(p)
    undef = pa.array([2**63 - 1] * t.num_rows, pa.int64())
    pq.write_table(t.set_column(t.schema.get_field_index("ask_px_00"), "ask_px_00", undef), p)
    res = runner.invoke(app, ["info", "--lake", str(odd)])
    assert res.exit_code == 0, res.output
    # replayable sessions first, with their primary future; then the others with the reason
    lines = res.output.splitlines()
    assert lines[0].endswith(": 3 date(s), 1 replayable")
    assert lines[1] == "  2025-11-14  replayable, primary future ESZ5"
    i = lines.index("not replayable (2):")
    assert lines[i + 1] == "  2025-11-17  futures trades but no MBP-10 depth"
    assert "  2025-11-18  its MBP-10 depth never shows a two-sided book" in lines[i + 2 :]
    # spans carry their dates: the 3-minute sessions open at 08:30 CT = 14:30 UTC
    assert "2025-11-14 14:30:00 → 14:32:59 UTC" in res.output
    out = tmp_path / "out"
    res = _replay(odd, out)
    assert res.exit_code == 0, res.output
    assert [x["date"] for x in _summary(out)["sessions"]] == ["2025-11-14"]
