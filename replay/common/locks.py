"""Advisory file locks between levelreplay processes (SPEC §8): nothing lost when runs overlap.

``flock`` locks on small files under a ``_staging/locks`` directory on the same filesystem as
what they guard; the kernel drops them when the holder dies, so a killed run never leaves a
stale lock. Locks are fine-grained by trade date: a range's own workers (one date each), and an
``ingest`` committing one date while another date replays, never wait on each other.

A second writer waits, saying once on stderr who holds the lock, or, with ``wait=False``
(``--no-wait``), refuses with exit 2 naming the holder. The holder writes its pid, host and
command into the lock file after taking it: information for that message only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from replay.common.errors import UserError


class LockBusy(UserError):
    """Another process holds a lock and the caller chose not to wait."""


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "another process"


@contextlib.contextmanager
def file_lock(
    path: Path, what: str, *, shared: bool = False, wait: bool = True, required: bool = True
) -> Iterator[None]:
    """Hold ``path`` locked (exclusive, or ``shared`` with other readers) for the block.

    ``required=False`` (a reader's lock): where the lock file cannot be created — a read-only
    lake, which no ingest can change either — the block runs unlocked."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if not required:
            yield
            return
        raise UserError(
            f"cannot create the lock for {what} ({exc.strerror})",
            path=str(path),
            expected="a writable directory",
        ) from None
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            if not wait:
                raise LockBusy(
                    f"{what} is in use by {holder}",
                    path=str(path),
                    expected="that run to finish (or leave out --no-wait to wait for it)",
                ) from None
            print(f"waiting for {what}, in use by {holder} …", file=sys.stderr, flush=True)
            fcntl.flock(fd, mode)
        if not shared:
            me = f"pid {os.getpid()} on {socket.gethostname()} ({' '.join(sys.argv[:3])})"
            os.ftruncate(fd, 0)
            os.pwrite(fd, me.encode("utf-8", "replace") + b"\n", 0)
        yield
    finally:
        os.close(fd)  # releases the lock
