"""SIGKILL during a range (issue 21): of the ``replay --workers 2`` parent, of one pool worker,
of a Dask worker under a nanny, of the only Dask worker (no nanny) and of the Dask scheduler,
each at a seeded moment; then ``replay --resume``. Every trial ends with Gold byte-identical to a
clean serial run and no process of the killed run left; a run that lost its worker or scheduler
ends within ``--connect-timeout`` (plus the work in hand), naming the address, never waits.

One trial of each kind in ``make test``; five more with ``make test-slow`` (LEVELREPLAY_SLOW=1). The
moments come from ``random.Random(seed)``: a failing trial can be replayed. The processes are the
real ones: the CLI as a subprocess, ``dask scheduler`` and ``dask worker`` from the venv.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from replay.common.faults import FAULT_ENV
from replay.gold.layout import staging_dir
from replay.gold.verify import compare
from replay.sample import generate_session

ROOT = Path(__file__).resolve().parents[3]
SLOW = bool(os.environ.get("LEVELREPLAY_SLOW"))
SLOW_SEEDS = range(1, 6)  # make test-slow: five more moments of each kind
DATES = ["2025-11-14", "2025-11-17", "2025-11-18", "2025-11-19"]
TIMEOUT = 3.0  # --connect-timeout of the Dask trials
SLACK = 20.0  # seconds a killed run may take beyond its timeout: the session in hand finishing
DASK = str(Path(sys.executable).with_name("dask"))


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != FAULT_ENV}


def _cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "replay.cli", *map(str, args)]


def _range(lake: Path, out: Path, *extra: str) -> list[str]:
    return _cli(
        "replay", "--lake", lake, "--date", DATES[0], "--end-date", DATES[-1], "--out", out, *extra
    )


def _start(cmd: list[str], cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    """A process in its own session: a kill of it is the only signal its children get."""
    return subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_env(),
        cwd=cwd,
        start_new_session=True,
    )


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    """Those still running (a zombie has exited: only its parent's reaping is left)."""
    left = []
    for p in procs:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                left.append(p)
        except psutil.NoSuchProcess:
            pass
    return left


def _left_after(procs: list[psutil.Process], within: float) -> list[str]:
    deadline = time.monotonic() + within
    while _alive(procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [f"{p.pid} {' '.join(p.cmdline())[:120]}" for p in _alive(procs)]


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _writer_pid(out: Path, within: float, date: str = "") -> int | None:
    """The pid of a process writing a session (of ``date``, if given) now: staging temp names
    carry it (``.date=D.part-00000.parquet.tmp-writing-<pid>-<tid>``)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        stage = staging_dir(out)
        for p in sorted(stage.iterdir()) if stage.is_dir() else []:
            if ".tmp-writing-" in p.name and f"date={date}" in p.name:
                return int(p.name.rsplit(".tmp-writing-", 1)[1].split("-")[0])
        time.sleep(0.005)
    return None


def _at_moment(out: Path, rng: random.Random) -> int | None:
    """The seeded moment of a kill: while a seeded session is being written (its writer's temp
    file seen in staging), plus a seeded 0–50 ms; the writer's pid (None if that session was
    never seen being written: the kill then lands after it)."""
    date = rng.choice(DATES)
    pid = _writer_pid(out, 60.0, date)
    time.sleep(rng.uniform(0.0, 0.05))
    return pid


def _finish(p: subprocess.Popen[bytes], within: float) -> tuple[int | None, float, str]:
    """Wait for ``p`` at most ``within`` seconds: return code (None if it hung), seconds, stderr."""
    t0 = time.monotonic()
    try:
        _, err = p.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        _, err = p.communicate()
        return None, time.monotonic() - t0, err.decode(errors="replace")
    return p.returncode, time.monotonic() - t0, err.decode(errors="replace")


@dataclass
class World:
    root: Path
    lake: Path
    clean: Path  # the clean serial run
    seconds: float  # an uninterrupted ``--workers 2`` range: the kill moments land inside


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("killmatrix")
    src = generate_session(root / "src", minutes=20 if SLOW else 10, days=len(DATES))
    lake = root / "lake"
    ok = subprocess.run(_cli("ingest", *sorted(src.files), "--lake", lake), env=_env(), cwd=ROOT)
    assert ok.returncode == 0
    assert subprocess.run(_range(lake, root / "clean"), env=_env(), cwd=ROOT).returncode == 0
    t0 = time.monotonic()
    ok = subprocess.run(_range(lake, root / "timed", "--workers", "2"), env=_env(), cwd=ROOT)
    assert ok.returncode == 0
    return World(root, lake, root / "clean", time.monotonic() - t0)


def _resumed_equals_clean(w: World, out: Path) -> str:
    """``--resume`` (serial) over what the killed run left: Gold identical to the clean run,
    and no temp file of the killed run left in staging. The resume's summary line."""
    res = subprocess.run(
        _range(w.lake, out, "--resume"), env=_env(), cwd=ROOT, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr, res.stderr
    assert compare(out, w.clean) == [], compare(out, w.clean)
    left = [p.name for p in staging_dir(out).iterdir() if p.is_file()]
    assert left == [], left
    return res.stdout.strip().splitlines()[-1]


@dataclass
class Cluster:
    """A ``dask scheduler`` and ``dask worker`` processes, each in its own session."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]

    def processes(self) -> list[psutil.Process]:
        return [q for p in [self.scheduler, *self.workers] for q in _tree(p.pid)]

    def stop(self) -> None:
        procs = self.processes()
        for p in [self.scheduler, *self.workers]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
        assert _left_after(procs, 10.0) == []


def _cluster(tmp: Path, workers: int, nanny: bool) -> Cluster:
    """A real scheduler and workers, the workers started in another directory than the run."""
    file = tmp / "scheduler.json"
    sched = _start(
        [
            DASK,
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(file),
        ]
    )
    deadline = time.monotonic() + 60
    while not file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    address = json.loads(file.read_text())["address"]
    (tmp / "wd").mkdir()
    flags = ["--nthreads", "1", "--no-dashboard"] + ([] if nanny else ["--no-nanny"])
    procs = [_start([DASK, "worker", address, *flags], cwd=tmp / "wd") for _ in range(workers)]
    cluster = Cluster(address, sched, procs)
    from distributed import Client

    with Client(address, timeout="30s", set_as_default=False) as client:
        client.wait_for_workers(workers, timeout=60)
    return cluster


def _kill_parent(w: World, tmp: Path, rng: random.Random) -> str:
    """SIGKILL of the ``--workers 2`` parent: its pool workers and resource tracker die with it."""
    out = tmp / "out"
    p = _start(_range(w.lake, out, "--workers", "2"))
    pid = _at_moment(out, rng)
    family = _tree(p.pid)
    os.kill(p.pid, signal.SIGKILL)
    p.communicate()
    left = _left_after(family, 10.0)
    assert left == [], left  # nothing of the killed run still running
    when = "mid-run" if p.returncode == -signal.SIGKILL else f"after it ended (rc={p.returncode})"
    return f"killed {when}; {len(family) - 1} descendants (writer {pid}), all gone"


def _kill_pool_worker(w: World, tmp: Path, rng: random.Random) -> str:
    """SIGKILL of the pool worker writing a session: the run ends (its sessions failed)."""
    out = tmp / "out"
    p = _start(_range(w.lake, out, "--workers", "2"))
    pid = _at_moment(out, rng)
    family = _tree(p.pid)
    with_victim = pid in {q.pid for q in family}
    os.kill(pid, signal.SIGKILL) if with_victim and pid else None
    rc, secs, err = _finish(p, w.seconds + SLACK)
    assert rc is not None, "the run hung after its worker was killed"
    assert "Traceback" not in err, err
    assert rc in (0, 1), err
    assert _left_after(family, 10.0) == []
    return f"rc={rc} in {secs:.1f}s; " + (_first_failure(err) or "finished before the kill")


def _first_failure(err: str) -> str:
    return next((line for line in err.splitlines() if "FAILED" in line), "")[:150]


def _kill_dask_worker(nanny: bool, workers: int) -> Callable[[World, Path, random.Random], str]:
    def trial(w: World, tmp: Path, rng: random.Random) -> str:
        cluster = _cluster(tmp, workers, nanny)
        try:
            out = tmp / "out"
            p = _start(
                _range(
                    w.lake, out, "--scheduler", cluster.address, "--connect-timeout", str(TIMEOUT)
                )
            )
            pid = _at_moment(out, rng)
            with contextlib.suppress(ProcessLookupError, TypeError):
                os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]
            rc, secs, err = _finish(p, TIMEOUT + SLACK + w.seconds)
            assert rc is not None, "the run waited on a lost worker"
            assert "Traceback" not in err, err
            if nanny:  # the nanny restarts it; the scheduler retries the session
                assert rc == 0, err
            else:  # no worker is left: the pending sessions fail, naming the cluster
                assert rc == 1 and cluster.address in err, err
            assert _left_after(_tree(p.pid), 10.0) == []
            return f"rc={rc} in {secs:.1f}s; " + (_first_failure(err) or "retried, all ok")
        finally:
            cluster.stop()

    return trial


def _kill_scheduler(w: World, tmp: Path, rng: random.Random) -> str:
    """SIGKILL of the scheduler mid-range: the run fails its pending sessions within the
    timeout, naming the address."""
    cluster = _cluster(tmp, 2, nanny=True)
    try:
        out = tmp / "out"
        p = _start(
            _range(w.lake, out, "--scheduler", cluster.address, "--connect-timeout", str(TIMEOUT))
        )
        _at_moment(out, rng)
        os.killpg(cluster.scheduler.pid, signal.SIGKILL)
        rc, secs, err = _finish(p, TIMEOUT + SLACK + w.seconds)
        assert rc is not None, "the run waited on a lost scheduler"
        assert "Traceback" not in err, err
        assert rc in (0, 1), err
        if rc == 1:
            assert cluster.address in err, err
        return f"rc={rc} in {secs:.1f}s; " + (_first_failure(err) or "finished before the kill")
    finally:
        cluster.stop()


KINDS: dict[str, Callable[[World, Path, random.Random], str]] = {
    "parent of --workers 2": _kill_parent,
    "one pool worker": _kill_pool_worker,
    "a Dask worker (nanny)": _kill_dask_worker(nanny=True, workers=2),
    "the only Dask worker (no nanny)": _kill_dask_worker(nanny=False, workers=1),
    "the Dask scheduler": _kill_scheduler,
}


@pytest.fixture(scope="module")
def table() -> Iterator[list[str]]:
    rows: list[str] = []
    yield rows
    print("\n| SIGKILL of | seed | killed run | resume |\n|---|---|---|---|")
    print("\n".join(rows))


def _trial(world: World, tmp_path: Path, kind: str, seed: int, table: list[str]) -> None:
    rng = random.Random(f"{kind}/{seed}")
    seen = KINDS[kind](world, tmp_path, rng)
    summary = _resumed_equals_clean(world, tmp_path / "out")
    table.append(f"| {kind} | {seed} | {seen} | {summary} |")


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_killed_range_resumes_to_the_clean_bytes(
    world: World, tmp_path: Path, kind: str, table: list[str]
) -> None:
    _trial(world, tmp_path, kind, 0, table)


@pytest.mark.slow
@pytest.mark.skipif(not SLOW, reason="make test-slow")
@pytest.mark.parametrize("seed", SLOW_SEEDS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_more_killed_ranges_resume_to_the_clean_bytes(
    world: World, tmp_path: Path, kind: str, seed: int, table: list[str]
) -> None:
    _trial(world, tmp_path, kind, seed, table)
