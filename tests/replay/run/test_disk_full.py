"""A disk that fills (SPEC §8): exit 2 naming the place, nothing half-written, the previous
version intact, and a rerun with room completes.

Two real faults, in subprocesses: a file-size limit (``RLIMIT_FSIZE``, SIGXFSZ ignored, so a
write past it fails with EFBIG like a quota) — available to any user — and, where the test may
mount one, a small tmpfs that really runs out of space (ENOSPC)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from replay.common.faults import FAULT_ENV
from replay.gold.layout import gold_file, staging_dir
from replay.gold.verify import compare
from replay.lake.layout import partition_file
from replay.sample import generate_session

DATE = dt.date(2025, 11, 14)
ROOT = Path(__file__).resolve().parents[3]
LIMIT = 64 * 1024  # bytes any one file may grow to


def _limited(limit: int) -> Callable[[], None]:
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


def _cli(*args: str | Path, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    return subprocess.run(
        [sys.executable, "-m", "replay.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        preexec_fn=None if limit is None else _limited(limit),
    )


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    res = generate_session(tmp_path_factory.mktemp("disk") / "src", minutes=3)
    return {p.name.split(".")[1]: p for p in res.files}


@pytest.fixture(scope="module")
def lake(src: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("lake") / "lake"
    assert _cli("ingest", *src.values(), "--lake", lake).returncode == 0
    return lake


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".lock")


def test_a_size_limit_mid_ingest_commits_nothing_of_that_file(
    src: dict[str, Path], lake: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "lake"
    assert _cli("ingest", src["definition"], "--lake", mine).returncode == 0
    before = {p: p.read_bytes() for p in _files(mine)}
    assert partition_file(lake, "futures_mbp10", DATE).stat().st_size > LIMIT  # it must hit it
    res = _cli("ingest", src["mbp-10"], "--lake", mine, limit=LIMIT)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert f"{mine}: could not write the partitions of {src['mbp-10'].name}" in res.stderr
    assert "File too large" in res.stderr
    assert {p: p.read_bytes() for p in _files(mine)} == before  # not a byte more or less
    # with room again the same call completes, equal to the lake ingested in one go
    assert _cli("ingest", src["mbp-10"], "--lake", mine).returncode == 0
    a, b = partition_file(mine, "futures_mbp10", DATE), partition_file(lake, "futures_mbp10", DATE)
    assert a.read_bytes() == b.read_bytes()


def test_a_size_limit_mid_replay_keeps_the_previous_pair(lake: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    replay = ("replay", "--lake", lake, "--date", DATE.isoformat(), "--out", out)
    assert _cli(*replay).returncode == 0
    kept = {p: p.read_bytes() for p in _files(out)}
    assert gold_file(out, DATE).stat().st_size > LIMIT
    cfg = tmp_path / "c.toml"
    cfg.write_text("[engine]\nround_spacing_pts = 5.0\n")
    res = _cli(*replay, "--force", "--config", cfg, limit=LIMIT)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert f"{out}: could not write the Gold of session {DATE}: " in res.stderr
    assert "File too large" in res.stderr
    assert {p: p.read_bytes() for p in _files(out)} == kept  # the old pair, whole; no temp
    assert compare(out, out) == []


@contextlib.contextmanager
def _tmpfs(mnt: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``mnt``, where this process may mount one (root in a container);
    else the test is skipped (the size-limit tests above cover the same code path)."""
    mnt.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
        capture_output=True,
        check=False,
    )
    if res.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with _tmpfs(tmp_path / "small", "256k") as mnt:
        yield mnt


def test_a_full_disk_mid_replay_leaves_no_temp_and_frees_its_space(
    lake: Path, small_disk: Path, tmp_path: Path
) -> None:
    out = small_disk / "out"
    res = _cli("replay", "--lake", lake, "--date", DATE.isoformat(), "--out", out)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert f"{out}: could not write the Gold of session 2025-11-14: " in res.stderr
    assert "No space left on device" in res.stderr
    assert not gold_file(out, DATE).exists()
    assert _files(staging_dir(out)) == []  # the temp file was removed: the space is free again
    st = os.statvfs(small_disk)
    assert st.f_bfree * st.f_frsize > 200 * 1024  # 256 KiB less lock files and directories


def test_a_read_only_filesystem(src: dict[str, Path], lake: Path, tmp_path: Path) -> None:
    """A lake on a read-only mount replays (read without its lock: nothing can ingest there);
    an --out or an ingest there exits 2 naming the place."""
    with _tmpfs(tmp_path / "ro", "64m") as mnt:
        shutil.copytree(lake, mnt / "lake")
        (mnt / "out").mkdir()
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        ok = _cli("replay", "--lake", mnt / "lake", "--date", DATE.isoformat(), "--out", tmp_path)
        assert ok.returncode == 0, ok.stderr
        res = _cli("replay", "--lake", lake, "--date", DATE.isoformat(), "--out", mnt / "out")
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        assert f"{mnt / 'out'}" in res.stderr and "Read-only file system" in res.stderr
        res = _cli("ingest", src["trades"], "--lake", mnt / "lake")
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        assert "Read-only file system" in res.stderr and str(mnt / "lake") in res.stderr
