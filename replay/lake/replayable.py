"""Which trade dates of a lake can be replayed, and why the others cannot (SPEC §4).

A session is replayable when it has MBP-10 depth of an ES outright and, at some point, a two-sided
book (bid and ask both defined at level 0): without depth there is nothing to score, and without
a two-sided book no snap is ever scored. Dates without futures data are weekends, holidays or
days the lake does not hold; a range run lists each as skipped with its reason. The book test
streams the level-0 prices and stops at the first two-sided record (one batch on a real day).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engines.contract.events import UNDEF_PRICE
from replay.lake.layout import DamagedPartition, partition_dir, partition_entry
from replay.lake.schemas import TABLES

_BATCH = 1 << 16


@dataclass(frozen=True)
class Replayability:
    """One trade date: replayable, or the reason it is not."""

    date: dt.date
    reason: str | None  # None: replayable

    @property
    def replayable(self) -> bool:
        return self.reason is None


def _two_sided(path: Path) -> bool:
    """True at the first record with both sides; also when the partition cannot be read, so
    the session is replayed and fails with the reader's own message (a failed session, not a
    skipped date)."""
    try:
        pf = pq.ParquetFile(path, pre_buffer=False)
        for b in pf.iter_batches(batch_size=_BATCH, columns=["bid_px_00", "ask_px_00"]):
            bid = b.column("bid_px_00").to_numpy(zero_copy_only=False)  # by name: a missing
            ask = b.column("ask_px_00").to_numpy(zero_copy_only=False)  # column is a KeyError
            if bool(np.any((bid != UNDEF_PRICE) & (ask != UNDEF_PRICE))):
                return True
    except (OSError, KeyError, IndexError, ValueError, pa.ArrowException):
        return True
    return False


def _entry(lake: Path, table: str, date: dt.date) -> Path | None:
    """The partition file; a damaged entry counts as held (its replay fails, naming it)."""
    try:
        return partition_entry(lake, table, date)
    except DamagedPartition:
        return partition_dir(lake, table, date)


def replayability(lake: Path, date: dt.date) -> Replayability:
    depth = _entry(lake, "futures_mbp10", date)
    if depth is not None:
        if not depth.is_file() or _two_sided(depth):
            return Replayability(date, None)
        return Replayability(date, "its MBP-10 depth never shows a two-sided book")
    held = [t for t in TABLES if _entry(lake, t, date) is not None]
    if "futures_trades" in held:
        return Replayability(date, "futures trades but no MBP-10 depth")
    if held:
        return Replayability(date, f"no futures data ({', '.join(held)} only)")
    if date.weekday() >= 5:
        return Replayability(date, f"no data ({date:%A}: no trade date)")
    return Replayability(date, "no data in the lake")
