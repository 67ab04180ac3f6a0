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

import contextlib
import dataclasses
import datetime as dt
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from replay.common.atomic import write_bytes_atomic
from replay.common.dates import date_range
from replay.common.errors import LevelReplayError, UserError
from replay.common.locks import LockBusy, file_lock
from replay.gold.layout import session_lock, stale_temps
from replay.lake.replayable import replayability
from replay.run.dask_executor import DEFAULT_CONNECT_TIMEOUT, run_dask
from replay.run.replay_job import ReplayJob, check_existing, replay_session
from replay.run.resume import committed_verdict

Progress = Callable[[int, int], None]
Runner = Callable[..., "SessionReport"]
"""``runner(job, on_snap, resume) -> SessionReport``, a module-level function (picklable): the
executors run replays (``run_job``) and labels alike."""
OK, FAILED, RESUMED, SKIPPED = "ok", "failed", "resumed", "skipped"
REPLAYED_NOT_RESUMED = "replayed, not resumed"
RETRIED = "its pair was committed by an earlier attempt of this run, on a worker since lost"


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
    note: str | None = None  # said beside the status (e.g. why --resume replayed it)

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["date"] = self.date.isoformat()
        d["seconds"] = round(self.seconds, 3)
        return d


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


def run_job(job: ReplayJob, on_snap: Progress | None = None, resume: bool = False) -> SessionReport:
    """Replay one session; any failure becomes the report's reason (never an exception).

    ``resume``: a session whose committed pair is whole and this job's (``run/resume.py``) is
    left as it is (RESUMED, its killed writers' temp files removed); any other is replayed over
    what is there, and the report's note says why."""
    t0 = time.perf_counter()
    note = None
    if resume:
        verdict = committed_verdict(job)
        if verdict.manifest is not None:
            clean_stale_temps(job.out, job.date)
            det = verdict.manifest["deterministic"]
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
        note = None if verdict.reason is None else f"{REPLAYED_NOT_RESUMED}: {verdict.reason}"
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
        note=note,
    )


def clean_stale_temps(out: Path, date: dt.date) -> int:
    """Remove the temp files killed writers of this session left in staging, if no live writer
    holds the session (its lock, taken without waiting); how many were removed."""
    try:
        with file_lock(session_lock(out, date), f"session {date} of {out}", wait=False):
            temps = stale_temps(out, date)
            for tmp in temps:
                tmp.unlink(missing_ok=True)
            return len(temps)
    except LockBusy:
        return 0


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
    each report as its session completes; a lost worker fails its sessions, not the run. The
    workers die with this process, even when it is SIGKILLed (``die_with_parent``)."""
    if workers < 1:
        raise UserError(f"--workers {workers}", expected="at least 1")
    jobs = [dataclasses.replace(j, executor="process-pool", workers=workers) for j in jobs]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=min(workers, max(1, len(jobs))),
        mp_context=ctx,
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
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


def die_with_parent(parent: int) -> None:
    """A pool worker's first act: ask the kernel to SIGKILL it when its parent dies (Linux
    ``PR_SET_PDEATHSIG``), and watch the parent from a thread everywhere (a pipe closing is
    not seen by a worker blocked in a session). Without it a SIGKILLed ``--workers`` parent
    left its workers replaying, and the resource tracker they keep open, running for good."""
    import ctypes
    import signal
    import threading

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def confirm(job: ReplayJob, rep: SessionReport) -> SessionReport:
    """A remote worker's OK, checked from here: the session's pair must be visible to this
    process and whole, with the digest the worker reported (a worker with another working
    directory or filesystem wrote it where the user will never find it)."""
    if rep.status != OK:
        return rep
    try:
        why = job.unseen_here(rep.outputs_digest)  # each kind of job knows its own outputs
    except LevelReplayError as exc:
        why = str(exc)
    if why is None:
        return rep
    return SessionReport(
        job.date,
        FAILED,
        f"the worker reported it written, but not where this client can see it ({why})",
        seconds=rep.seconds,
    )


def _on_dask(
    jobs: list[ReplayJob], scheduler: str, resume: bool, runner: Runner, connect_timeout: float
) -> Iterator[SessionReport]:
    """Sessions on Dask, safe to retry: the scheduler reruns a session whose worker died, and
    that worker may have committed the pair before it died. So "output already exists" is
    decided here, once, before anything is submitted; the tasks then run with ``resume`` (a
    whole pair of this very job is kept, anything else replayed over), and a kept pair the user
    did not ask to resume is reported OK, saying it came from the lost attempt."""
    todo: list[ReplayJob] = []
    for job in jobs:
        if isinstance(job, ReplayJob) and not (resume or job.force):
            try:
                check_existing(job.out, job.date, force=False)
            except UserError as exc:
                yield lost(job, str(exc))
                continue
        todo.append(job)
    if not todo:
        return

    def checked(job: ReplayJob, rep: SessionReport) -> SessionReport:
        if not resume and isinstance(job, ReplayJob):
            if rep.status == RESUMED:
                rep = dataclasses.replace(rep, status=OK, note=RETRIED)
            elif rep.note is not None and rep.note.startswith(REPLAYED_NOT_RESUMED):
                rep = dataclasses.replace(rep, note=None)  # a half pair completed, as always
        return confirm(job, rep)

    yield from run_dask(todo, scheduler, True, runner, checked, lost, connect_timeout)


def lost(job: ReplayJob, reason: str) -> SessionReport:
    return SessionReport(job.date, FAILED, reason)


def execute(
    jobs: list[ReplayJob],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    progress: Callable[[ReplayJob], object] | None = None,
    runner: Runner = run_job,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> Iterator[SessionReport]:
    """The jobs on the executor the options name: a Dask cluster (``scheduler``), a local
    process pool (``workers`` > 1), else serially in this process (with ``progress``)."""
    if scheduler is not None:
        return _on_dask(jobs, scheduler, resume, runner, connect_timeout)
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
