"""Crash-safe file replacement: write to a temp file in the target directory, fsync, rename.

A reader (or a crash) never sees a half-written Parquet or JSON file: either the previous
version or the complete new one is at the final path.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


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
