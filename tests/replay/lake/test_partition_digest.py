"""Ingest leaves each partition's sha256 beside it; replay trusts it only while the stat matches."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from replay.common.hashing import sha256_file
from replay.lake.ingest import ingest
from replay.lake.layout import TABLES, list_dates, partition_file
from replay.lake.partition_digest import PartitionChanged, partition_sha256, sidecar
from replay.run.session import resolve_session
from tests.replay.conftest import Session

DATE = dt.date(2025, 11, 14)


def _partitions(lake: Path) -> list[Path]:
    return [partition_file(lake, t, d) for t in TABLES for d in list_dates(lake, t)]


def test_recorded_digest_is_the_file_hash(session: Session, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest([session.definitions, session.mbp10, session.trades], lake)
    parts = _partitions(lake)
    assert len(parts) >= 4  # definitions, mbp-10, trades, option trades (+ the evening session)
    for p in parts:
        doc = json.loads(sidecar(p).read_text())
        # written while encoding, so it must equal a hash of the committed bytes
        assert doc["sha256"] == sha256_file(p)
        assert doc["size"] == p.stat().st_size
    inputs = resolve_session(lake, DATE)
    for part in inputs.partitions:
        if part.table != "definitions":  # the records used, hashed by definitions_used
            assert part.sha256 == sha256_file(lake / part.path)


def test_a_changed_partition_is_hashed_again_and_refused(session: Session, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest([session.mbp10], lake)
    p = partition_file(lake, "futures_mbp10", DATE)
    good = partition_sha256(p)
    st = p.stat()
    original = p.read_bytes()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched, same bytes: accepted
    assert partition_sha256(p) == good
    data = bytearray(original)
    data[10] ^= 0xFF  # same size; only the mtime tells the record is stale
    p.write_bytes(bytes(data))
    with pytest.raises(PartitionChanged, match="changed since it was written"):
        partition_sha256(p)
    # a forged stat (same size and mtime) is trusted: the documented limit of a stat cache
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert partition_sha256(p) == good


def test_a_missing_or_broken_sidecar_falls_back_to_hashing(
    session: Session, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    ingest([session.mbp10], lake)
    p = partition_file(lake, "futures_mbp10", DATE)
    sidecar(p).write_text("not json")
    assert partition_sha256(p) == sha256_file(p)
    sidecar(p).unlink()
    assert partition_sha256(p) == sha256_file(p)
