"""Crash-safe file replacement: write to a temp file in the target directory, fsync, rename.

A reader (or a crash) never sees a half-written Parquet or JSON file: either the previous
version or the complete new one is at the final path.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from replay.common.errors import UserError


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory's entry list: what makes a rename durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path_for(final: Path, tag: str, staging: Path | None = None) -> Path:
    """A hidden sibling of ``final``, or a file in ``staging`` (which must be on the same
    filesystem, so the rename is atomic); its name is unique to this process and thread."""
    name = f".{final.parent.name}.{final.name}.tmp-{tag}-{os.getpid()}-{threading.get_native_id()}"
    return (staging or final.parent) / name


def commit(temp: Path, final: Path) -> None:
    """fsync ``temp`` and atomically move it over ``final``."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fsync_path(temp)
    os.replace(temp, final)
    fsync_path(final.parent)


def write_bytes_atomic(
    final: Path, data: bytes, tag: str = "w", staging: Path | None = None
) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(final, tag, staging)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    with tmp.open("wb") as f:
        f.write(data)
    commit(tmp, final)


@contextmanager
def writes_into(root: Path, what: str) -> Iterator[None]:
    """An ``OSError`` left over from writing ``what`` under ``root`` (inputs are read through
    their own checks first) — a full disk, a read-only filesystem, a file-size limit — is a user
    error naming the place; the temp file was already removed by the writer that failed."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = exc.filename or root
        raise UserError(
            f"could not write {what}: {reason}",
            path=str(where),
            expected="a writable filesystem with free space; nothing half-written was left in "
            "place, and the previous version (if any) is intact",
        ) from None
