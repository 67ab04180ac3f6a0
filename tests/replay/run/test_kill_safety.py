"""SIGKILL of `ingest` and `replay` at random moments (SPEC §8): the previous Bronze and Gold stay
readable, a session's Gold and manifest are consistent or reported incomplete, and a rerun is
byte-identical to an uninterrupted run. Three trials of each in `make test`; fifty with
`make test-slow` (LEVELREPLAY_SLOW=1). The moments come from a seeded generator: a failing trial
can be replayed."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from replay.common.faults import FAULT_ENV
from replay.gold.verify import NotAGoldRun, compare, read_session
from replay.lake.layout import list_dates, partition_file
from replay.lake.schemas import TABLES
from replay.sample import generate_session

DATE = dt.date(2025, 11, 14)
ROOT = Path(__file__).resolve().parents[3]
SLOW = bool(os.environ.get("LEVELREPLAY_SLOW"))


def _cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "replay.cli", *map(str, args)]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != FAULT_ENV}


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cli(*args), capture_output=True, text=True, env=_env(), cwd=ROOT)


def _kill_after(cmd: list[str], seconds: float) -> int:
    """Start ``cmd``, SIGKILL it after ``seconds`` (if still running); its return code."""
    p = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(), cwd=ROOT
    )
    try:
        p.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
    return p.returncode


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("kill")
    src = generate_session(root / "src", minutes=3)
    lake = root / "lake"
    cfg = root / "other.toml"
    cfg.write_text("[engine]\nround_spacing_pts = 5.0\n")
    old = root / "old"  # a complete run of another config: the Gold a killed rerun must keep
    # untimed first: imports and numba's cache are warm before the runs that set the kill window
    assert _run("ingest", *sorted(src.files), "--lake", root / "warm").returncode == 0
    assert (
        _run(
            "replay", "--lake", root / "warm", "--date", DATE, "--out", old, "--config", cfg
        ).returncode
        == 0
    )
    t0 = time.perf_counter()
    assert _run("ingest", *sorted(src.files), "--lake", lake).returncode == 0
    t1 = time.perf_counter()
    assert _run("replay", "--lake", lake, "--date", DATE, "--out", root / "clean").returncode == 0
    t2 = time.perf_counter()
    (root / "durations").write_text(f"{t1 - t0} {t2 - t1}")  # a whole run: kills land inside
    return {"root": root, "src": root / "src", "lake": lake, "clean": root / "clean", "old": old}


def _durations(w: dict[str, Path]) -> tuple[float, float]:
    """How long an uninterrupted ingest and replay took in this process's setup."""
    a, b = (w["root"] / "durations").read_text().split()
    return float(a), float(b)


def _replay_trials(w: dict[str, Path], tmp_path: Path, trials: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    seen = []
    for i in range(trials):
        out = tmp_path / f"out{i}"
        shutil.copytree(w["old"], out)
        delay = rng.uniform(0.2, 1.0) * _durations(w)[1]
        rc = _kill_after(
            _cli("replay", "--lake", w["lake"], "--date", DATE, "--out", out, "--force"), delay
        )
        try:
            s = read_session(out, DATE.isoformat())  # consistent: the old pair or the new one
            pq.read_table(s.gold)  # and readable
            state = "new" if compare(out, w["clean"]) == [] else "old"
        except NotAGoldRun as exc:
            assert "incomplete session" in str(exc), str(exc)
            state = "incomplete"
        seen.append(f"{delay:.2f}s rc={rc} {state}")
        rerun = _run("replay", "--lake", w["lake"], "--date", DATE, "--out", out, "--force")
        assert rerun.returncode == 0, rerun.stderr
        assert compare(out, w["clean"]) == [], seen[-1]
        staged = [p for p in (out / "gold/_staging").iterdir() if p.is_file()]
        assert staged == [], staged  # the killed run's temp files are gone after the rerun
    return seen


def _ingest_trials(w: dict[str, Path], tmp_path: Path, trials: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    files = sorted(w["src"].glob("*.dbn.zst"))
    first, rest = files[:1], files[1:]  # the lake already holds the definitions: previous Bronze
    seen = []
    for i in range(trials):
        lake = tmp_path / f"lake{i}"
        assert _run("ingest", *first, "--lake", lake).returncode == 0
        before = {
            p: p.read_bytes()
            for t in TABLES
            for d in list_dates(lake, t)
            for p in [partition_file(lake, t, d)]
        }
        delay = rng.uniform(0.2, 1.0) * _durations(w)[0]
        rc = _kill_after(_cli("ingest", *rest, "--lake", lake), delay)
        for t in TABLES:  # every partition there is readable Parquet, old or new
            for d in list_dates(lake, t):
                pq.read_metadata(partition_file(lake, t, d))
        for p, data in before.items():
            assert p.read_bytes() == data  # rows of the earlier ingest untouched
        seen.append(f"{delay:.2f}s rc={rc}")
        again = _run("ingest", *files, "--lake", lake)  # the whole call again: completes
        assert again.returncode == 0, again.stderr
        for t in TABLES:
            for d in list_dates(w["lake"], t):
                want = partition_file(w["lake"], t, d).read_bytes()
                assert partition_file(lake, t, d).read_bytes() == want, (t, d, seen[-1])
    return seen


def test_replay_killed_at_random_moments(world: dict[str, Path], tmp_path: Path) -> None:
    seen = _replay_trials(world, tmp_path, trials=3, seed=12)
    assert any(" rc=-9 " in x for x in seen), seen  # at least one kill landed mid-run


def test_ingest_killed_at_random_moments(world: dict[str, Path], tmp_path: Path) -> None:
    seen = _ingest_trials(world, tmp_path, trials=3, seed=12)
    assert any(" rc=-9" in x for x in seen), seen


@pytest.mark.slow
@pytest.mark.skipif(not SLOW, reason="make test-slow")
def test_fifty_kills_of_each(world: dict[str, Path], tmp_path: Path) -> None:
    t0 = time.perf_counter()
    replays = _replay_trials(world, tmp_path / "r", trials=50, seed=1)
    ingests = _ingest_trials(world, tmp_path / "i", trials=50, seed=1)
    killed = sum(" rc=-9" in x for x in ingests)
    print(f"\nkill trials: 50 replays, 50 ingests ({killed} killed mid-run), 0 failures")
    print(f"in {time.perf_counter() - t0:.0f} s")
    print(
        "replay outcomes:",
        {s: sum(x.endswith(s) for x in replays) for s in ("old", "incomplete", "new")},
    )
