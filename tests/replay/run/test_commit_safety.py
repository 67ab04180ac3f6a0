"""Gold and its manifest change together (SPEC §3.2, §8): a kill between the two writes leaves an
incomplete pair that readers refuse and a plain rerun completes; concurrent writers of one session
or one lake date wait for each other (or refuse with --no-wait); nothing is lost or corrupt."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from replay.common.faults import (
    FAULT_ENV,
    GOLD_COMMITTED,
    PARTITION_TEMP_WRITTEN,
    PARTITIONS_COMMITTED,
    SILVER_TEMP_WRITTEN,
)
from replay.common.locks import file_lock
from replay.gold.layout import gold_file, session_lock, staging_dir
from replay.gold.verify import NotAGoldRun, compare
from replay.lake.layout import (
    PART_NAME,
    PARTITION_FILES,
    date_lock,
    list_dates,
    partition_entry,
    partition_file,
)
from replay.lake.schemas import TABLES
from replay.lake.silver import silver_file, silver_staging
from replay.sample import generate_session

DATE = dt.date(2025, 11, 14)
ROOT = Path(__file__).resolve().parents[3]


def _cli(*args: str | Path, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop(FAULT_ENV, None)
    if fault is not None:
        env[FAULT_ENV] = fault
    cmd = [sys.executable, "-m", "replay.cli", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("commit-safety")
    return sorted(generate_session(root / "src", minutes=3).files)


@pytest.fixture(scope="module")
def lake(src: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("lake") / "lake"
    assert _cli("ingest", *src, "--lake", lake).returncode == 0
    return lake


def _replay(
    lake: Path, out: Path, *extra: str | Path, fault: str | None = None
) -> subprocess.CompletedProcess[str]:
    return _cli(
        "replay", "--lake", lake, "--date", DATE.isoformat(), "--out", out, *extra, fault=fault
    )


def test_a_kill_between_gold_and_manifest_is_completed_by_a_plain_rerun(
    lake: Path, tmp_path: Path
) -> None:
    clean = tmp_path / "clean"
    assert _replay(lake, clean).returncode == 0
    for trial, first in enumerate(("none", "old pair")):
        out = tmp_path / f"out{trial}"
        if first == "old pair":  # a complete pair of another config is there before the kill
            cfg = tmp_path / "c.toml"
            cfg.write_text("[engine]\nround_spacing_pts = 5.0\n")
            assert _replay(lake, out, "--config", cfg).returncode == 0
        killed = _replay(lake, out, "--force", fault=GOLD_COMMITTED)
        assert killed.returncode == -signal.SIGKILL
        assert gold_file(out, DATE).read_bytes() == gold_file(clean, DATE).read_bytes()
        # the new Gold is beside no manifest, or beside the old one that does not record it
        res = _cli("verify", out, clean)
        assert res.returncode == 2 and "incomplete session 2025-11-14" in res.stderr, res.stderr
        rerun = _replay(lake, out)  # no --force: an incomplete pair is completed, not refused
        assert rerun.returncode == 0, rerun.stderr
        assert compare(out, clean) == []
        assert not [p for p in staging_dir(out).iterdir() if p.is_file()]  # no temp left
    again = _replay(lake, tmp_path / "out0")  # a complete pair is still refused without --force
    assert again.returncode == 2 and "output already exists" in again.stderr


def test_a_kill_between_partitions_and_the_log_is_repaired_by_reingest(
    src: list[Path], lake: Path, tmp_path: Path
) -> None:
    lake2 = tmp_path / "lake"
    killed = _cli("ingest", *src, "--lake", lake2, fault=PARTITIONS_COMMITTED)
    assert killed.returncode == -signal.SIGKILL
    assert _cli("ingest", *src, "--lake", lake2).returncode == 0
    for table in ("futures_mbp10", "futures_trades", "option_trades", "definitions"):
        a, b = partition_file(lake, table, DATE), partition_file(lake2, table, DATE)
        assert a.read_bytes() == b.read_bytes(), table  # no row doubled, none lost


def test_a_kill_before_a_merged_partition_is_renamed_leaves_no_temp_in_the_lake(
    src: list[Path], lake: Path, tmp_path: Path
) -> None:
    """A merge's temp file lives in the ingest's staging directory, not beside its partition, so
    a kill before the rename leaves each partition directory as ingest commits it; debris an
    older version left there is passed over by readers and removed by the next ingest."""
    lake2 = tmp_path / "lake"
    # partitions in place but no log entry: the next ingest of the same files merges into them
    killed = _cli("ingest", *src, "--lake", lake2, fault=PARTITIONS_COMMITTED)
    assert killed.returncode == -signal.SIGKILL
    killed = _cli("ingest", *src, "--lake", lake2, fault=PARTITION_TEMP_WRITTEN)
    assert killed.returncode == -signal.SIGKILL
    dirs = [partition_file(lake2, t, DATE).parent for t in TABLES]
    dirs = [d for d in dirs if d.exists()]  # the first file's (the kill came before the rest)
    assert dirs
    for d in dirs:
        assert sorted(p.name for p in d.iterdir()) == sorted(PARTITION_FILES), d
    staged = [p.name for p in (lake2 / "bronze/_staging").rglob("*.tmp-*")]
    assert len(staged) == 1 and staged[0].startswith(".date=2025-11-14."), staged
    # what a kill of an older version left beside a partition (temps were written there)
    d = dirs[0]
    debris = [
        d / f".{d.name}.{PART_NAME}.tmp-0f0f-1-1",
        d / f".{d.name}._part-00000.sha256.json.tmp-sha-1-1",
    ]
    for p in debris:
        p.write_bytes(b"half")
    table = d.parent.name
    assert partition_entry(lake2, table, DATE) == d / PART_NAME  # readers pass over it
    # a date whose only entry is such debris (a first write killed) is no date at all
    lone = partition_file(lake2, "futures_trades", DATE).parent
    lone.mkdir(parents=True)
    (lone / f".{lone.name}.{PART_NAME}.tmp-0f0f-1-1").write_bytes(b"half")
    assert list_dates(lake2, "futures_trades") == []
    assert partition_entry(lake2, "futures_trades", DATE) is None
    assert _cli("ingest", *src, "--lake", lake2).returncode == 0  # the same call completes
    assert not any(p.exists() for p in debris)  # and removed the debris under the date's lock
    assert sorted(p.name for p in lone.iterdir()) == sorted(PARTITION_FILES)
    for table in TABLES:
        a, b = partition_file(lake, table, DATE), partition_file(lake2, table, DATE)
        assert a.read_bytes() == b.read_bytes(), table


def test_a_killed_silver_build_leaves_no_temp_beside_silver_and_the_next_build_clears_it(
    lake: Path, tmp_path: Path
) -> None:
    """Silver's temp file is written in the lake's Silver staging; the next build of the date
    removes what a killed one left there (or beside the file, from an older version) under the
    date's Silver lock, and writes the bytes an uninterrupted build writes."""
    clean, lake2 = tmp_path / "clean", tmp_path / "lake"
    shutil.copytree(lake, clean)
    shutil.copytree(lake, lake2)
    silver = ("silver", "--date", DATE.isoformat(), "--lake")
    assert _cli(*silver, clean).returncode == 0
    killed = _cli(*silver, lake2, fault=SILVER_TEMP_WRITTEN)
    assert killed.returncode == -signal.SIGKILL
    final = silver_file(lake2, DATE)
    assert list(final.parent.iterdir()) == []  # nothing beside where Silver goes
    assert len(list(silver_staging(lake2).glob(".date=2025-11-14.*.tmp-*"))) == 1
    older = final.parent / f".{final.parent.name}.{final.name}.tmp-0f0f-1-1"
    older.write_bytes(b"half")
    assert _cli(*silver, lake2).returncode == 0
    assert sorted(p.name for p in final.parent.iterdir()) == sorted(PARTITION_FILES)
    assert list(silver_staging(lake2).glob(".date=*.tmp-*")) == []
    assert final.read_bytes() == silver_file(clean, DATE).read_bytes()


def test_a_second_writer_waits_or_refuses_naming_the_holder(lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with file_lock(session_lock(out, DATE), "test holder"):
        res = _replay(lake, out, "--no-wait")
    assert res.returncode == 2 and "is in use by pid " in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    with file_lock(date_lock(lake, DATE), "test holder"):  # an ingest replacing that date
        res = _replay(lake, out, "--no-wait")
    assert res.returncode == 2 and f"session {DATE} of {lake} is in use" in res.stderr
    assert not gold_file(out, DATE).exists()


def _race(cmds: list[list[str | Path]]) -> list[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "replay.cli", *map(str, c)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for c in cmds
    ]
    for p in procs:
        p.wait(timeout=300)
    return procs


def _race_trials(lake: Path, src: list[Path], tmp_path: Path, trials: int) -> None:
    clean = tmp_path / "clean"
    assert _replay(lake, clean).returncode == 0
    want = {
        t: pq.ParquetFile(partition_file(lake, t, DATE)).metadata.num_rows
        for t in ("futures_mbp10", "futures_trades")
    }
    mbp = [p for p in src if ".mbp-10." in p.name]
    rest = [p for p in src if ".mbp-10." not in p.name]
    for i in range(trials):
        out = tmp_path / f"race{i}"
        args = ["replay", "--lake", lake, "--date", DATE.isoformat(), "--out", out, "--force"]
        procs = _race([args, args])
        assert [p.returncode for p in procs] == [0, 0], [p.stderr for p in procs]
        assert compare(out, clean) == []
        # two ingests into one lake at once (the MBP-10 file and the other three): none lost
        lk = tmp_path / f"lake{i}"
        procs = _race([["ingest", *mbp, "--lake", lk], ["ingest", *rest, "--lake", lk]])
        assert [p.returncode for p in procs] == [0, 0], [p.stderr for p in procs]
        for table, n in want.items():
            assert pq.ParquetFile(partition_file(lk, table, DATE)).metadata.num_rows == n


def test_two_replays_and_two_ingests_race(lake: Path, src: list[Path], tmp_path: Path) -> None:
    _race_trials(lake, src, tmp_path, trials=2)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("LEVELREPLAY_SLOW"), reason="make test-slow")
def test_races_ten_trials(lake: Path, src: list[Path], tmp_path: Path) -> None:
    _race_trials(lake, src, tmp_path, trials=10)


def _sigint_default() -> None:
    """The child takes SIGINT as a terminal would deliver it, even when this test runs from a
    background job (which starts its children with SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_cleanly_and_says_what_was_committed(lake: Path, tmp_path: Path) -> None:
    """SIGINT at several moments of a replay: exit 130 with one line saying what is complete
    and no traceback, no Gold and no temp file left; or, if it came too late, a complete run
    (a signal during interpreter start-up or shutdown takes the default action, -SIGINT)."""
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    codes = []
    for i, delay in enumerate((0.3, 0.6, 0.9, 1.2, 1.6, 2.0)):
        out = tmp_path / f"out{i}"
        cmd = [sys.executable, "-m", "replay.cli", "replay", "--lake", str(lake)]
        cmd += ["--date", DATE.isoformat(), "--out", str(out)]
        p = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=_sigint_default,
        )
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        codes.append(p.returncode)
        assert "Traceback" not in err, err
        if p.returncode == 130:
            assert "interrupted" in err, err
            staged = staging_dir(out)
            assert not staged.exists() or not [q for q in staged.iterdir() if q.is_file()]
            if gold_file(out, DATE).exists():  # interrupted after its commit: a whole pair,
                try:  # or a Gold whose manifest was not written yet (reported incomplete)
                    assert compare(out, out) == []
                except NotAGoldRun as exc:
                    assert "incomplete session" in str(exc)
        elif p.returncode == -signal.SIGINT:  # before Python's handler exists, or at exit:
            if gold_file(out, DATE).exists():  # the default action; a committed run is whole
                assert compare(out, out) == []
        else:
            assert p.returncode == 0, err
            assert compare(out, out) == []  # a complete, consistent pair
    assert 130 in codes, codes


def test_after_ctrl_c_finalizer_errors_are_not_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Ctrl-C that cuts an llvmlite object's construction short leaves a finalizer that fails
    at shutdown (AttributeError in ``ObjectRef.__del__``, seen once in a fresh clone's run of the
    test above): after an interrupt the CLI's hook keeps it off stderr; before one it does not."""
    import replay.cli as cli

    def unraisable(exc: BaseException) -> object:
        """A real UnraisableHookArgs (the default hook takes no other type): from a finalizer."""
        seen: list[object] = []

        class Finalized:
            def __del__(self) -> None:
                raise exc

        with monkeypatch.context() as m:
            m.setattr(sys, "unraisablehook", seen.append)
            Finalized()  # collected at once: its __del__ raises into the hook
        return seen[0]

    finalizer_error = AttributeError("'ValueRef' object has no attribute '_as_parameter_'")
    monkeypatch.setattr(cli, "_interrupted", [])
    cli._quiet_unraisable(unraisable(finalizer_error))
    assert "_as_parameter_" in capsys.readouterr().err  # no interrupt: reported as Python does
    monkeypatch.setattr(cli, "_interrupted", [True])
    cli._quiet_unraisable(unraisable(finalizer_error))
    cli._quiet_unraisable(unraisable(KeyboardInterrupt()))
    assert capsys.readouterr().err == ""  # after Ctrl-C: the exit path's one line says it all
