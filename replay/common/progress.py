"""Progress for long work: a rich bar on a terminal, nothing extra otherwise (the caller prints
one summary line)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn


def _bars(unit: str = "") -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}" + unit),
        TimeRemainingColumn(),
        transient=True,
    )


def _snap_bar(prog: Progress, label: str) -> tuple[TaskID, Callable[[int, int], None]]:
    """A bar of one session's snaps, and the ``on_snap(done, total)`` that moves it."""
    task = prog.add_task(label, total=1)

    def on_snap(done: int, total: int) -> None:
        prog.update(task, completed=done, total=max(total, done, 1))

    return task, on_snap


@contextmanager
def snap_progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """Yields ``on_snap(done, total)`` on a TTY, else None."""
    if not sys.stderr.isatty():
        yield None
        return
    with _bars(" snaps") as prog:
        yield _snap_bar(prog, label)[1]


class RangeProgress:
    """Progress of a many-session run: one bar of sessions done (any executor) and, for
    sessions run in this process, a bar of the current session's snaps. Inert off a TTY."""

    def __init__(self, prog: Progress | None, total: int, label: str):
        self._prog = prog
        self._task = None if prog is None else prog.add_task(f"{label} sessions", total=total)

    def finished(self) -> None:
        """One more session done (whatever its outcome)."""
        if self._prog is not None and self._task is not None:
            self._prog.advance(self._task)

    @contextmanager
    def session(self, label: str) -> Iterator[Callable[[int, int], None] | None]:
        """Yields ``on_snap(done, total)`` for a session run in this process (None off a TTY)."""
        if self._prog is None:
            yield None
            return
        task, on_snap = _snap_bar(self._prog, label)
        try:
            yield on_snap
        finally:
            self._prog.remove_task(task)


@contextmanager
def range_progress(total: int, label: str) -> Iterator[RangeProgress]:
    """A ``RangeProgress`` over ``total`` sessions, shown on a terminal only."""
    if not sys.stderr.isatty():
        yield RangeProgress(None, total, label)
        return
    with _bars() as prog:
        yield RangeProgress(prog, total, label)
