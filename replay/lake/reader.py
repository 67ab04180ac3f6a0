"""Streaming a session's Bronze partitions as engine batches (SPEC §2.3, §2.4).

Only the columns replay needs are read, in record batches, so memory follows the batch size, not
the session. Futures streams are filtered to the session's primary future. Every batch keeps the
partition order (``ts_recv``, ``sequence``, ``src_key``, ``src_row``), which within a stream *is*
the merged order, and carries those key columns for the cross-stream merge.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engines.contract.events import (
    N_LEVELS,
    DepthBatch,
    OptionDefinitions,
    OptionTradeBatch,
    TradeBatch,
)
from replay.common.errors import UserError
from replay.lake.layout import read_errors_named
from replay.lake.level_block import levels_block

READ_BATCH_ROWS = 1 << 16
KEY_COLUMNS = ("ts_recv", "sequence", "src_key", "src_row")
DEPTH_LEVEL_COLUMNS = tuple(
    f"{s}_{k}_{i:02d}" for i in range(N_LEVELS) for s in ("bid", "ask") for k in ("px", "sz")
)
DEPTH_COLUMNS = (
    "ts_recv",
    "sequence",
    "src_key",
    "src_row",
    "instrument_id",
    "flags",
    *DEPTH_LEVEL_COLUMNS,
)
TRADE_COLUMNS = (
    "ts_recv",
    "sequence",
    "src_key",
    "src_row",
    "instrument_id",
    "price",
    "size",
    "side",
)


def chars_to_codes(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """One-character strings -> uint8 ASCII codes straight from the Arrow buffers."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if len(arr) == 0:
        return np.zeros(0, dtype=np.uint8)
    if pa.types.is_large_string(arr.type):
        offs = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    else:
        offs = np.frombuffer(arr.buffers()[1], dtype=np.int32)
    offs = offs[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    return data[offs[:-1]].copy()


@dataclass(frozen=True)
class Keyed:
    """A stream batch plus its merge keys (``ts``, ``seq``, ``src_key``, ``src_row``)."""

    ts: np.ndarray
    seq: np.ndarray
    src_key: np.ndarray
    src_row: np.ndarray
    batch: DepthBatch | TradeBatch | OptionTradeBatch

    def __len__(self) -> int:
        return int(self.ts.shape[0])


class PartitionOutOfOrder(UserError):
    """A partition's rows are not in ``ts_recv`` order (edited or re-ordered after ingest)."""


def _readable(batches: Iterator[Keyed], path: Path) -> Iterator[Keyed]:
    """A read error mid-partition (a corrupt page) is a user error naming the partition."""
    with read_errors_named(path):
        yield from batches


def in_partition_order(batches: Iterator[Keyed], path: Path) -> Iterator[Keyed]:
    """Pass ``batches`` through, refusing any ``ts_recv`` step backwards: the merge relies on
    every stream being in partition order (one vectorised comparison per batch)."""
    last: int | None = None
    for k in _readable(batches, path):
        ts = k.ts
        if ts.shape[0]:
            back = np.flatnonzero(ts[1:] < ts[:-1])
            if last is not None and int(ts[0]) < last:
                i, before = 0, last
            elif back.shape[0]:
                i, before = int(back[0]) + 1, int(ts[back[0]])
            else:
                last = int(ts[-1])
                yield k
                continue
            raise PartitionOutOfOrder(
                f"rows out of ts_recv order: source row {int(k.src_row[i])} at ts_recv "
                f"{int(ts[i])} follows ts_recv {before}",
                path=str(path),
                expected="rows sorted by (ts_recv, sequence) as ingest wrote them: re-ingest",
            )
        yield k


def _keys(t: pa.Table) -> tuple[np.ndarray, ...]:
    return tuple(t.column(c).to_numpy().astype(np.int64) for c in KEY_COLUMNS)


def _keep(t: pa.Table, mask: pa.Array) -> pa.Table:
    """``t.filter(mask)``, without the full copy when every row is kept (the usual case)."""
    if pc.all(mask).as_py():
        return t
    return t.filter(mask)


def _prints(t: pa.Table) -> dict[str, np.ndarray]:
    """Price, size and aggressor side of trade rows, as the trade batches hold them."""
    return {
        "price": t.column("price").to_numpy().astype(np.int64),
        "size": t.column("size").to_numpy().astype(np.int64),
        "side": chars_to_codes(t.column("side")),
    }


def depth_keyed(t: pa.Table, primary_id: int) -> Keyed | None:
    """The primary future's rows of a Bronze-shaped MBP-10 table as a DepthBatch (None: none)."""
    t = _keep(t, pc.equal(t.column("instrument_id"), primary_id))
    if t.num_rows == 0:
        return None
    ts, seq, sk, sr = _keys(t)
    batch = DepthBatch(
        ts_recv=ts,
        sequence=seq,
        flags=t.column("flags").to_numpy().astype(np.uint8),
        levels=levels_block(t),
    )
    return Keyed(ts, seq, sk, sr, batch)


def trade_rows(t: pa.Table, primary_id: int, from_depth: bool) -> pa.Table:
    """The primary future's trade rows of a table (MBP-10 ``T`` records when ``from_depth``):
    the trades as the engines see them (SPEC §5.11), for replay and labels alike."""
    mask = pc.equal(t.column("instrument_id"), primary_id)
    if from_depth:
        mask = pc.and_(mask, pc.equal(t.column("action"), "T"))
    return _keep(t, mask)


def trade_columns(from_depth: bool) -> list[str]:
    """What ``trade_rows`` needs besides the columns its caller reads."""
    return ["instrument_id"] + (["action"] if from_depth else [])


def trades_keyed(t: pa.Table, primary_id: int, from_depth: bool) -> Keyed | None:
    """The primary future's trades (MBP-10 ``T`` records when ``from_depth``) as a TradeBatch."""
    t = trade_rows(t, primary_id, from_depth)
    if t.num_rows == 0:
        return None
    ts, seq, sk, sr = _keys(t)
    return Keyed(ts, seq, sk, sr, TradeBatch(ts_recv=ts, **_prints(t)))


def option_keyed(t: pa.Table, defs: OptionDefinitions) -> Keyed | None:
    """Option trades of instruments in ``defs`` as an OptionTradeBatch."""
    known = pa.array(defs.instrument_id.astype(np.uint32))
    t = t.filter(pc.is_in(t.column("instrument_id"), value_set=known))
    if t.num_rows == 0:
        return None
    ts, seq, sk, sr = _keys(t)
    ids = t.column("instrument_id").to_numpy().astype(np.int64)
    return Keyed(ts, seq, sk, sr, OptionTradeBatch(ts_recv=ts, instrument_id=ids, **_prints(t)))


def batches(path: Path, columns: list[str], rows: int = READ_BATCH_ROWS) -> Iterator[pa.Table]:
    """A partition's ``columns`` in tables of ``rows`` rows, in partition order."""
    return _batches(path, columns, rows)


def _batches(path: Path, columns: list[str], rows: int) -> Iterator[pa.Table]:
    pf = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering caches every range read: RSS grows
    for b in pf.iter_batches(batch_size=rows, columns=columns):
        yield pa.Table.from_batches([b])


def iter_depth(path: Path, primary_id: int, rows: int = READ_BATCH_ROWS) -> Iterator[Keyed]:
    for t in _batches(path, list(DEPTH_COLUMNS), rows):
        k = depth_keyed(t, primary_id)
        if k is not None:
            yield k


def iter_trades(
    path: Path, primary_id: int, from_depth: bool, rows: int = READ_BATCH_ROWS
) -> Iterator[Keyed]:
    cols = list(TRADE_COLUMNS) + (["action"] if from_depth else [])
    for t in _batches(path, cols, rows):
        k = trades_keyed(t, primary_id, from_depth)
        if k is not None:
            yield k


def iter_option_trades(
    path: Path, defs: OptionDefinitions, rows: int = READ_BATCH_ROWS
) -> Iterator[Keyed]:
    for t in _batches(path, list(TRADE_COLUMNS), rows):
        k = option_keyed(t, defs)
        if k is not None:
            yield k
