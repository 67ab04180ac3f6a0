"""sha256 of Bronze partitions, computed once while ingest writes them.

The manifest names every input partition by sha256 (SPEC §3.2). Hashing a heavy day's 1.3 GB of
Bronze took ~0.8 s of every replay before any event was read, so ingest hashes each partition once
as it closes it (from the page cache) and leaves the digest beside the partition in
``_<part>.sha256.json`` together with the file's size and mtime. A replay trusts that digest only
while size and mtime_ns still match — the stat test git uses for its index — and otherwise hashes
the file itself. Leading ``_``: Arrow dataset readers skip such files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from replay.common.atomic import write_bytes_atomic
from replay.common.errors import UserError
from replay.common.hashing import sha256_file


def sidecar(path: Path) -> Path:
    return path.with_name(f"_{path.stem}.sha256.json")


def record(path: Path, sha256: str, staging: Path | None = None) -> None:
    """Leave ``sha256`` beside the committed file ``path``, with the stat it is valid for; the
    temp file is written in ``staging`` when given (ingest's: see ``sorted_runs.commit_to``)."""
    st = path.stat()
    doc = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    text = json.dumps(doc, sort_keys=True).encode() + b"\n"
    write_bytes_atomic(sidecar(path), text, "sha", staging)


class PartitionChanged(UserError):
    """A partition's bytes are not those ingest (or the Silver build) recorded (SPEC §8)."""


def partition_sha256(path: Path) -> str:
    """The recorded digest while the file's size and mtime match it, else a fresh hash, which
    must equal the recorded one: a partition edited or re-ordered after ingest is refused (a
    copy that only changed the mtime passes). Without a record (a lake from before records,
    or copied without them) the fresh hash is all there is."""
    try:
        doc = json.loads(sidecar(path).read_bytes())
        recorded = str(doc["sha256"])
        st = os.stat(path)
        if doc["size"] == st.st_size and doc["mtime_ns"] == st.st_mtime_ns:
            return recorded
    except (OSError, ValueError, KeyError, TypeError):
        return sha256_file(path)
    actual = sha256_file(path)
    if actual != recorded:
        raise PartitionChanged(
            f"changed since it was written (sha256 {actual[:12]}…, recorded {recorded[:12]}…)",
            path=str(path),
            expected="the partition as ingest wrote it: re-ingest its source files into a fresh "
            "lake, or restore the file",
        )
    return actual
