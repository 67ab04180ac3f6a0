"""The definition records a session actually used, as one manifest input (SPEC §3.2).

Listing every definitions partition up to the session date made a session's digest change when an
unrelated instrument's definitions were ingested for another month. What a session depends on is
narrower: the definitions of its primary future and of every option instrument with at least one
trade in it; for each, every record in effect at some point of the session — the latest one from
before the session's trade date, then any that arrive on it. Those records are hashed over all
their DBN fields (not the lake's ``src_key``/``src_row`` bookkeeping, and one copy of a record
ingested twice, e.g. from the DBN file and its Parquet export) in (instrument_id, ts_recv) order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

BOOKKEEPING = ("src_key", "src_row")
DAY_COLUMN = "__trade_date"  # the partition a record came from (added by the reader)


@dataclass(frozen=True)
class DefinitionsUsed:
    """How many instruments' records, how many records, and their sha256."""

    instruments: int
    records: int
    sha256: str


def definitions_used(
    defs: pa.Table | None, date: dt.date, instrument_ids: np.ndarray
) -> DefinitionsUsed:
    """``defs``: every definition record on or before ``date`` (with ``DAY_COLUMN``)."""
    if defs is None or defs.num_rows == 0:
        return _digest(pl.DataFrame())
    df = pl.from_arrow(defs)
    assert isinstance(df, pl.DataFrame)
    ids = np.unique(np.asarray(instrument_ids, dtype=np.int64))
    df = df.filter(pl.col("instrument_id").cast(pl.Int64).is_in(ids.tolist()))
    fields = [c for c in df.columns if c not in BOOKKEEPING and c != DAY_COLUMN]
    before = df.filter(pl.col(DAY_COLUMN) < date)
    latest = (
        before.sort(["instrument_id", "ts_recv", *BOOKKEEPING])
        .group_by("instrument_id", maintain_order=True)
        .last()
    )
    used = pl.concat([latest.select(fields), df.filter(pl.col(DAY_COLUMN) == date).select(fields)])
    order = [
        "instrument_id",
        "ts_recv",
        *(c for c in fields if c not in ("instrument_id", "ts_recv")),
    ]
    return _digest(used.unique().sort(order))


def _digest(used: pl.DataFrame) -> DefinitionsUsed:
    if used.height == 0:
        used = pl.DataFrame()  # no record: one digest, whatever columns an empty filter kept
    h = hashlib.sha256()
    h.update(json.dumps(used.columns).encode())
    for row in used.iter_rows():  # few: one instrument's records per day, not market events
        h.update(b"\n" + json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode())
    n = used.get_column("instrument_id").n_unique() if used.height else 0
    return DefinitionsUsed(instruments=n, records=used.height, sha256=h.hexdigest())
