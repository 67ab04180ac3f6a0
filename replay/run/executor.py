"""Many sessions: a date range as ``ReplayJob``s, and the executors that run them (SPEC §4, §7).

One job per session; the jobs differ only in their date, so a range is ``range_jobs(job, end)``.
Each job runs through ``run_job``, which never raises: a failing session (bad partition, crash)
becomes a ``SessionReport`` with its reason while the others complete, and only that small report
— counts, digests, timings, never data — travels back. ``run_serial`` runs the jobs in this
process in date order; ``run_local`` on a process pool (``--workers N``) and ``run_dask`` on a Dask
cluster (``--scheduler``), both in completion order.
Every write of a job is atomic and idempotent, so a job that runs twice is harmless.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import multiprocessing
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from replay.common.atomic import write_bytes_atomic
from replay.errors import LevelReplayError, UserError
from replay.gold.manifest import OUTPUT_LIBRARIES, code_digest, library_versions
from replay.gold.verify import read_session
from replay.lake.replayable import replayability
from replay.run.replay_job import ReplayJob, replay_session
from replay.run.session import session_inputs

Progress = Callable[[int, int], None]
Runner = Callable[..., "SessionReport"]
"""``runner(job, on_snap, resume) -> SessionReport``, a module-level function (picklable): the
executors run replays (``run_job``) and labels alike."""
OK, FAILED, RESUMED, SKIPPED = "ok", "failed", "resumed", "skipped"


@dataclass(frozen=True)
class SessionReport:
    """One session of a range run, as a worker returns it."""

    date: dt.date
    status: str  # OK, FAILED, RESUMED or SKIPPED
    reason: str | None
    rows: int = 0
    snaps: int = 0
    events: int = 0
    digest: str | None = None
    outputs_digest: str | None = None
    seconds: float = 0.0

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["date"] = self.date.isoformat()
        d["seconds"] = round(self.seconds, 3)
        return d


def date_range(first: dt.date, last: dt.date | None) -> list[dt.date]:
    """Every calendar date from ``first`` through ``last`` (``first`` alone when None)."""
    last = first if last is None else last
    if last < first:
        raise UserError(f"--end-date {last} is before --date {first}", expected="end >= start")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def range_jobs(job: ReplayJob, end: dt.date | None) -> tuple[list[ReplayJob], list[SessionReport]]:
    """The job of every replayable session from ``job.date`` through ``end``, and every other
    date as a SKIPPED report with its reason (SPEC §4). A single date (``end`` None) is always
    a job, so a session that cannot be replayed fails with the replay's own message."""
    if end is None:
        return [job], []
    jobs, skipped = [], []
    for d in date_range(job.date, end):
        r = replayability(job.lake, d)
        if r.replayable:
            jobs.append(dataclasses.replace(job, date=d))
        else:
            skipped.append(SessionReport(d, SKIPPED, r.reason))
    return jobs, skipped


def committed_match(job: ReplayJob) -> dict | None:
    """The manifest of the session's committed Gold when it is consistent (it records the Gold
    file's sha256) and was made by this job: same code digest, config, inputs (sha256 of every
    partition it would read) and output-shaping libraries. None otherwise."""
    try:
        committed = read_session(job.out, job.date.isoformat())
        src = session_inputs(job.lake, job.date, job.symbol, job.use_silver)
        inputs = [p.record() for p in src.partitions]
    except LevelReplayError:  # no consistent pair, or the session no longer resolves
        return None
    det = committed.det
    same = (
        det.get("code_digest") == code_digest()
        and det.get("config_sha256") == job.config.sha256()
        and det.get("inputs") == inputs
        and det.get("libraries") == library_versions(OUTPUT_LIBRARIES)
    )
    return committed.manifest if same else None


def run_job(job: ReplayJob, on_snap: Progress | None = None, resume: bool = False) -> SessionReport:
    """Replay one session; any failure becomes the report's reason (never an exception).

    ``resume``: a session whose committed Gold matches this job is left as it is (RESUMED);
    any other is replayed over what is there (an interrupted or stale pair included)."""
    t0 = time.perf_counter()
    if resume:
        man = committed_match(job)
        if man is not None:
            det = man["deterministic"]
            return SessionReport(
                job.date,
                RESUMED,
                None,
                rows=det["rows"],
                snaps=det["snaps"],
                events=sum(det["events"].values()),
                digest=det["digest"],
                outputs_digest=det["outputs_digest"],
            )
        job = dataclasses.replace(job, force=True)
    try:
        r = replay_session(job, on_snap)
    except LevelReplayError as exc:
        return SessionReport(job.date, FAILED, str(exc), seconds=time.perf_counter() - t0)
    except Exception as exc:  # a crash in one session must not stop the others
        reason = f"{type(exc).__name__}: {exc}"
        return SessionReport(job.date, FAILED, reason, seconds=time.perf_counter() - t0)
    return SessionReport(
        job.date,
        OK,
        None,
        rows=r.rows,
        snaps=r.snaps,
        events=sum(r.events.values()),
        digest=r.digest,
        outputs_digest=r.outputs_digest,
        seconds=r.seconds,
    )


def run_serial(
    jobs: list[ReplayJob],
    progress: Callable[[ReplayJob], object] | None = None,
    resume: bool = False,
    runner: Runner = run_job,
) -> Iterator[SessionReport]:
    """Each job in this process, in date order; ``progress(job)`` is a context manager yielding
    an ``on_snap`` callback (or None) for that session."""
    for job in jobs:
        if progress is None:
            yield runner(job, None, resume)
            continue
        with progress(job) as on_snap:  # type: ignore[attr-defined]
            yield runner(job, on_snap, resume)


def run_local(
    jobs: list[ReplayJob], workers: int, resume: bool = False, runner: Runner = run_job
) -> Iterator[SessionReport]:
    """The jobs on a pool of ``workers`` fresh processes (spawned: no state inherited), yielding
    each report as its session completes; a lost worker fails its sessions, not the run."""
    if workers < 1:
        raise UserError(f"--workers {workers}", expected="at least 1")
    jobs = [dataclasses.replace(j, executor="process-pool", workers=workers) for j in jobs]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, max(1, len(jobs))), mp_context=ctx) as pool:
        pending: dict[Future[SessionReport], ReplayJob] = {
            pool.submit(runner, j, None, resume): j for j in jobs
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: pending[f].date):
                job = pending.pop(fut)
                try:
                    yield fut.result()
                except Exception as exc:  # the worker process died (killed, out of memory)
                    reason = f"worker lost ({type(exc).__name__}: {exc})"
                    yield SessionReport(job.date, FAILED, reason)


def execute(
    jobs: list[ReplayJob],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    progress: Callable[[ReplayJob], object] | None = None,
    runner: Runner = run_job,
) -> Iterator[SessionReport]:
    """The jobs on the executor the options name: a Dask cluster (``scheduler``), a local
    process pool (``workers`` > 1), else serially in this process (with ``progress``)."""
    if scheduler is not None:
        return run_dask(jobs, scheduler, resume, runner=runner)
    if workers > 1:
        return run_local(jobs, workers, resume, runner)
    return run_serial(jobs, progress, resume, runner)


def summary_lines(reports: list[SessionReport]) -> list[str]:
    """The range's table, in date order whatever order the sessions finished in."""
    head = f"{'session':<10}  {'status':<7} {'events':>11}  {'snaps':>8}  {'rows':>9}  "
    head += f"{'seconds':>7}  outputs digest"
    lines = [head]
    for r in sorted(reports, key=lambda r: r.date):
        digest = (r.outputs_digest or "")[:16] if r.status in (OK, RESUMED) else (r.reason or "")
        if r.status == SKIPPED:
            lines.append(f"{r.date.isoformat():<10}  {r.status:<7} {'':>42}  {digest}")
            continue
        lines.append(
            f"{r.date.isoformat():<10}  {r.status:<7} {r.events:>11,}  {r.snaps:>8,}  "
            f"{r.rows:>9,}  {r.seconds:>7.1f}  {digest}"
        )
    n = {st: sum(r.status == st for r in reports) for st in (OK, RESUMED, FAILED, SKIPPED)}
    lines.append(
        f"{n[OK]} of {len(reports) - n[SKIPPED]} sessions ok, {n[RESUMED]} resumed, "
        f"{n[FAILED]} failed; {n[SKIPPED]} dates skipped"
    )
    return lines


def write_summary(path: Path, command: str, reports: list[SessionReport]) -> None:
    """The range's JSON summary: every session in date order (status, reason, counts, digests,
    timings); written atomically."""
    doc = {
        "command": command,
        "sessions": [r.to_json() for r in sorted(reports, key=lambda r: r.date)],
        "ok": sum(r.status == OK for r in reports),
        "resumed": sum(r.status == RESUMED for r in reports),
        "failed": sum(r.status == FAILED for r in reports),
        "skipped": sum(r.status == SKIPPED for r in reports),
    }
    text = json.dumps(doc, sort_keys=True, indent=2) + "\n"
    write_bytes_atomic(path, text.encode(), tag="summary")


def task_key(job: ReplayJob, nonce: str) -> str:
    """A Dask task key for one session (SPEC §7): a hash of the whole job plus this run's nonce,
    so no two runs (and no two different jobs) ever share a key or a cached result."""
    command = getattr(job, "command", "replay")
    doc = dataclasses.asdict(job) | {"command": command, "config": job.config.to_dict()}
    blob = json.dumps(doc, sort_keys=True, default=str).encode()
    return f"{command}-{job.date.isoformat()}-{hashlib.sha256(blob).hexdigest()[:16]}-{nonce}"


def build_identity() -> dict[str, object]:
    """What a worker must share with the client: the code digest and the versions of the
    libraries that shape Gold bytes."""
    return {"code_digest": code_digest(), "libraries": library_versions(OUTPUT_LIBRARIES)}


def check_workers(identities: dict[str, dict[str, object]], mine: dict[str, object]) -> None:
    """Refuse a cluster whose workers run other code or other output-shaping libraries."""
    if not identities:
        raise UserError("the Dask cluster has no workers", expected="at least one worker")
    bad = sorted(w for w, ident in identities.items() if ident != mine)
    if bad:
        raise UserError(
            f"{len(bad)} Dask worker(s) run other code or libraries than this client: "
            f"{', '.join(bad)} (worker {identities[bad[0]]}, client {mine})",
            expected="workers installed from the same commit and requirements.lock",
        )


def run_dask(
    jobs: list[ReplayJob],
    scheduler: str,
    resume: bool = False,
    retries: int = 2,
    runner: Runner = run_job,
) -> Iterator[SessionReport]:
    """The jobs on a Dask distributed cluster, one task per session, yielding each report as
    it completes; a task that fails after ``retries`` (a lost worker) fails its session only."""
    from distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise UserError(
            f"cannot reach the Dask scheduler ({type(exc).__name__})",
            path=scheduler,
            expected="a running scheduler at tcp://host:port",
        ) from None
    with client:
        check_workers(client.run(build_identity), build_identity())
        nonce = secrets.token_hex(8)  # per run: never a result cached from another run
        n = len(client.scheduler_info().get("workers", {}))
        jobs = [dataclasses.replace(j, executor="dask", workers=n) for j in jobs]
        futures = {
            client.submit(
                runner, job, None, resume, key=task_key(job, nonce), pure=False, retries=retries
            ): job
            for job in jobs
        }
        for fut in as_completed(list(futures)):
            job = futures[fut]
            try:
                yield fut.result()
            except Exception as exc:  # retries exhausted: the worker kept dying
                yield SessionReport(job.date, FAILED, f"task lost ({type(exc).__name__}: {exc})")
