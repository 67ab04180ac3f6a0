"""Many sessions: a date range as ``ReplayJob``s, and the executor that runs them.

One job per session; the jobs differ only in their date, so a range is ``range_jobs(job, end)``.
``run_serial`` runs them one after another in this process, in date order. (A process pool and a
Dask cluster run the same jobs: SPEC §7, next.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from replay.errors import UserError
from replay.lake.layout import list_dates
from replay.run.replay_job import ReplayJob, ReplayResult, replay_session

Progress = Callable[[int, int], None]


def date_range(first: dt.date, last: dt.date | None) -> list[dt.date]:
    """Every calendar date from ``first`` through ``last`` (``first`` alone when None)."""
    last = first if last is None else last
    if last < first:
        raise UserError(f"--end-date {last} is before --date {first}", expected="end >= start")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def range_jobs(job: ReplayJob, end: dt.date | None) -> list[ReplayJob]:
    """The job of every session with futures data from ``job.date`` through ``end`` (a single
    date is always kept, so a missing session is reported by its replay)."""
    dates = date_range(job.date, end)
    if end is not None:
        have = set(list_dates(job.lake, "futures_mbp10")) | set(
            list_dates(job.lake, "futures_trades")
        )
        dates = [d for d in dates if d in have]
    return [dataclasses.replace(job, date=d) for d in dates]


def run_serial(
    jobs: list[ReplayJob],
    progress: Callable[[ReplayJob], AbstractContextManager[Progress | None]],
) -> Iterator[ReplayResult]:
    """Run each job in this process, in order, yielding its result as it completes."""
    for job in jobs:
        with progress(job) as on_snap:
            yield replay_session(job, on_snap)
