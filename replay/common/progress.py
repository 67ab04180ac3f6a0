"""Progress for long work: a rich bar on a terminal, nothing extra otherwise (the caller prints
one summary line)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn


@contextmanager
def snap_progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """Yields ``on_snap(done, total)`` on a TTY, else None."""
    if not sys.stderr.isatty():
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} snaps"),
        TimeRemainingColumn(),
        transient=True,
    ) as prog:
        task = prog.add_task(label, total=1)

        def on_snap(done: int, total: int) -> None:
            prog.update(task, completed=done, total=max(total, done, 1))

        yield on_snap
