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
    return json.loads((out / "gold/_runs/replay-summary.json").read_text())


def test_serial_and_a_process_pool_give_the_same_runs(lake: Path, tmp_path: Path) -> None:
    serial = _replay(lake, tmp_path / "s")
    pool = _replay(lake, tmp_path / "p", "--workers", "2")
    assert serial.exit_code == 0 and pool.exit_code == 0, pool.output
    assert compare(tmp_path / "s", tmp_path / "p") == []  # Gold bytes and deterministic parts
    for out in (tmp_path / "s", tmp_path / "p"):
        s = _summary(out)
        assert [x["date"] for x in s["sessions"]] == [d.isoformat() for d in DATES]
        assert s["ok"] == 3 and s["failed"] == 0
    assert "3 of 3 sessions ok, 0 resumed, 0 failed" in pool.output
    rows = [x["rows"] for x in _summary(tmp_path / "s")["sessions"]]
    assert rows == [x["rows"] for x in _summary(tmp_path / "p")["sessions"]] and min(rows) > 0


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
    assert res.exit_code == 2 and "no session with futures data" in res.output
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
    assert res.exit_code == 0, res.output
    assert compare(tmp_path / "s", tmp_path / "d") == []
    run = json.loads(manifest_file(tmp_path / "d", DATES[0]).read_text())["run"]
    assert (run["executor"], run["workers"]) == ("dask", 2)


def test_task_keys_and_the_worker_check() -> None:
    from replay.errors import UserError
    from replay.run.executor import build_identity, check_workers, task_key
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
