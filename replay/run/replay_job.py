"""One session's replay as a value: ``ReplayJob`` → ``replay_session(job)`` → Gold + manifest.

A job is frozen and picklable, so a process pool or a Dask worker runs exactly what the CLI runs.
``replay_session`` resolves the session from the lake (``run/session.py``), builds the job's
engine over the session seam (``engines/seam/session_engine.py``) with the Gold writer as its sink,
drives it (``run/drive.py``), then writes the manifest (``gold/manifest.py``): Gold first, then
its manifest, each atomically.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from engines.contract.config import EngineConfig
from engines.create import ENGINES, create_engine
from engines.seam.session_engine import EngineCounters, RowSink
from replay.common.atomic import writes_into
from replay.common.errors import UserError
from replay.common.faults import GOLD_COMMITTED, fault_point
from replay.common.hashing import sha256_file
from replay.common.locks import file_lock
from replay.gold.layout import (
    gold_file,
    manifest_file,
    output_key,
    session_lock,
    staging_dir,
    stale_temps,
)
from replay.gold.manifest import run_info, utc_iso, write_manifest
from replay.gold.verify import NotAGoldRun, read_session
from replay.gold.writer import GoldWriter
from replay.lake.layout import bronze_root, date_lock, lake_dates
from replay.lake.replayable import replayability
from replay.run.drive import drive
from replay.run.session import OpenSession, open_session
from replay.run.session_manifest import session_manifest
from replay.run.sinks import CollectingSink


@dataclass(frozen=True)
class ReplayJob:
    """Everything that decides one session's replay (and nothing that does not)."""

    lake: Path
    date: dt.date
    out: Path
    config: EngineConfig = field(default_factory=EngineConfig)
    chunk_events: int | None = None  # events per engine call (None: as read); never changes Gold
    engine: str = "fast"  # "fast" or "reference": same Gold bytes
    symbol: str | None = None  # primary future (None: the session's most traded)
    use_silver: bool = True  # read MBP-10 from Silver when it mirrors Bronze (same Gold)
    force: bool = False  # overwrite an existing Gold + manifest
    executor: str = "serial"  # where it runs (serial, process pool, dask): the manifest's run part
    workers: int = 1
    wait: bool = True  # another writer of the session or its lake date: wait (else exit 2)

    def __post_init__(self) -> None:
        if self.chunk_events is not None and self.chunk_events < 1:
            raise UserError(
                f"--chunk-events {self.chunk_events}", expected="a positive event count"
            )
        if self.engine not in ENGINES:
            raise UserError(f"unknown engine {self.engine!r}", expected=" or ".join(ENGINES))

    def unseen_here(self, outputs_digest: str) -> str | None:
        """Why this process cannot see the pair a worker reported with ``outputs_digest`` (None:
        it can, whole, with that digest)."""
        seen = read_session(self.out, self.date.isoformat()).det["outputs_digest"]
        if seen == outputs_digest:
            return None
        return f"this client sees outputs_digest {seen[:16]}…, not {outputs_digest}"


@dataclass(frozen=True)
class ReplayResult:
    """What a finished session reports back (small: counts, digests, timings; never data)."""

    date: dt.date
    gold: Path
    manifest: Path
    rows: int
    snaps: int
    events: dict[str, int]
    digest: str
    outputs_digest: str
    seconds: float
    loop_seconds: float  # first chunk read -> Gold committed (no session resolve / JIT start-up)


def replay_session(
    job: ReplayJob, on_snap: Callable[[int, int], None] | None = None
) -> ReplayResult:
    """Replay one session from Bronze (or Silver) into Gold + manifest.

    ``on_snap(k, total)`` reports progress (snaps scored, estimated total).
    """
    with file_lock(
        session_lock(job.out, job.date), f"session {job.date} of {job.out}", wait=job.wait
    ):
        for tmp in stale_temps(job.out, job.date):  # a killed writer's; none can be live here
            tmp.unlink(missing_ok=True)
        check_existing(job.out, job.date, job.force)
        verdict = replayability(job.lake, job.date)
        if not verdict.replayable and bronze_root(job.lake).is_dir():
            have = lake_dates(job.lake)
            listed = ", ".join(have) if len(have) <= 10 else f"{have[0]} … {have[-1]}"
            raise UserError(
                f"session {job.date} cannot be replayed: {verdict.reason}",
                path=str(job.lake),
                expected="a session with MBP-10 depth and a two-sided book; the lake has "
                + (f"{len(have)} dated session(s): {listed}" if have else "no sessions yet")
                + " (levelreplay info says which replay)",
            )
        with _lake_read_lock(job), writes_into(job.out, f"the Gold of session {job.date}"):
            return _replay_locked(job, on_snap)


def _lake_read_lock(job: ReplayJob) -> contextlib.AbstractContextManager[None]:
    """The session's lake date, shared: an ingest of this date waits until the replay is done
    (nothing is created in a path that is not a lake; a read-only lake is read unlocked)."""
    if not bronze_root(job.lake).is_dir():
        return contextlib.nullcontext()
    what = f"session {job.date} of {job.lake}"
    lock = date_lock(job.lake, job.date)
    return file_lock(lock, what, shared=True, wait=job.wait, required=False)


def check_existing(out: Path, date: dt.date, force: bool) -> None:
    """A complete, consistent pair is kept unless ``force``; a half-written one (Gold without
    the manifest that records it, e.g. after a kill between the two writes) is replayed over."""
    gold, man = gold_file(out, date), manifest_file(out, date)
    if force or not (gold.exists() or man.exists()):
        return
    try:
        read_session(out, date.isoformat())
    except NotAGoldRun:
        return  # incomplete: completed by this run
    raise UserError(
        "output already exists", path=str(gold.parent), expected="a new --out or --force"
    )


def _replay_locked(job: ReplayJob, on_snap: Callable[[int, int], None] | None) -> ReplayResult:
    started = time.time()
    wall0 = time.perf_counter()
    gold = gold_file(job.out, job.date)
    man = manifest_file(job.out, job.date)
    cfg = job.config
    session = _open(job)
    writer = GoldWriter(gold, staging_dir(job.out))
    loop0 = time.perf_counter()
    try:
        counters = _run(job, session, writer, on_snap)
        gold_path = writer.commit()
    except BaseException:
        writer.abort()
        raise
    fault_point(GOLD_COMMITTED)
    loop_s = time.perf_counter() - loop0
    run = run_info(
        utc_iso(started), time.perf_counter() - wall0, job.chunk_events, job.workers, job.executor
    )
    run |= {"depth_source": session.depth_source, "event_loop_s": round(loop_s, 3)}
    manifest = session_manifest(
        cfg=cfg,
        sources=session.sources,
        setup=session.setup,
        counters=counters,
        rows=writer.rows,
        outputs={output_key(job.out, gold_path): sha256_file(gold_path)},
        run=run,
    )
    write_manifest(man, manifest, staging_dir(job.out))
    return ReplayResult(
        date=job.date,
        gold=gold_path,
        manifest=man,
        rows=writer.rows,
        snaps=counters.snaps,
        events=dict(counters.events),
        digest=manifest["deterministic"]["digest"],
        outputs_digest=manifest["deterministic"]["outputs_digest"],
        seconds=time.perf_counter() - wall0,
        loop_seconds=loop_s,
    )


def replay_rows(job: ReplayJob) -> pa.Table:
    """One session's Gold rows in memory, nothing written (``job.out`` and ``force`` unused)."""
    sink = CollectingSink()
    _run(job, _open(job), sink, None)
    return sink.table()


def _open(job: ReplayJob) -> OpenSession:
    return open_session(
        job.lake,
        job.date,
        job.config.snap_ns,
        symbol=job.symbol,
        use_silver=job.use_silver,
        chunk_events=job.chunk_events,
    )


def _run(
    job: ReplayJob,
    session: OpenSession,
    sink: RowSink,
    on_snap: Callable[[int, int], None] | None,
) -> EngineCounters:
    """Drive the job's engine over the session's chunks into ``sink``."""
    total = session.total_snaps
    engine = create_engine(job.engine, job.config, session.setup, sink)
    progress = None if on_snap is None else (lambda k: on_snap(min(k, total), total))
    drive(engine, session.chunks, progress)
    counters = engine.counters()
    if on_snap is not None:
        on_snap(counters.snaps, counters.snaps)
    return counters
