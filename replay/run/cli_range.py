"""A range command's options and end on the command line: the executor options checked before any
work, and the closing table, summary file and exit status."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from replay.common.errors import CheckFailed, UserError


def check_executor(workers: int, scheduler: str | None, connect_timeout: float) -> None:
    """The executor options, checked before any work: a bad one is exit 2 naming it."""
    from replay.run.dask_executor import check_connect_timeout, scheduler_address

    if workers < 1:
        raise UserError(f"--workers {workers}", expected="at least 1")
    if scheduler is not None:
        scheduler_address(scheduler)
    if not math.isfinite(connect_timeout):
        raise UserError(f"--connect-timeout {connect_timeout}", expected="seconds in (0, 600]")
    check_connect_timeout(connect_timeout)


def close_range(
    command: str, lines: list[str], root: Path, reports: list[Any], skipped: int
) -> None:
    """A range command's end: its table, ``ROOT/_runs/<command>-summary.json``, and exit 1
    naming the sessions that failed."""
    from replay.run.executor import FAILED, write_summary

    for line in lines:
        typer.echo(line)
    write_summary(root / "_runs" / f"{command}-summary.json", command, reports)
    failed = [r.date.isoformat() for r in reports if r.status == FAILED]
    if failed:
        n = len(reports) - skipped
        raise CheckFailed(f"{len(failed)} of {n} sessions failed: {', '.join(failed)}")
