"""Streaming a session's Bronze partitions as engine batches (SPEC §2.3, §2.4).

Only the columns replay needs are read, in record batches, so memory follows the batch size, not
the session. Futures streams are filtered to the session's primary future. Every batch keeps the
partition order (``ts_recv``, ``sequence``, ``src_key``, ``src_row``), which within a stream *is*
the merged order, and carries those key columns for the cross-stream merge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engines.events import N_LEVELS, DepthBatch, OptionDefinitions, OptionTradeBatch, TradeBatch
from replay.errors import UserError
from replay.lake.instruments import ES_OUTRIGHT
from replay.lake.layout import bronze_root, list_dates, partition_file
from replay.lake.level_block import levels_block
from replay.lake.partition_digest import partition_sha256
from replay.lake.silver import iter_silver_depth, silver_file, silver_stamp

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


@dataclass(frozen=True)
class PartitionInfo:
    """One input partition as the manifest records it."""

    table: str
    path: str  # relative to the lake root
    sha256: str
    rows: int


@dataclass(frozen=True)
class SessionInputs:
    """What a replay of one trade date reads, resolved before the first event."""

    date: dt.date
    primary_id: int
    primary_symbol: str
    depth_path: Path | None
    trades_path: Path | None
    options_path: Path | None
    trades_from_depth: bool  # SPEC §5.11: MBP-10 T records when there is no trades record
    silver_path: Path | None  # the depth partition's Silver mirror, when its stamp matches
    options: OptionDefinitions
    option_trades_without_definition: int
    partitions: tuple[PartitionInfo, ...]


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


def _existing(lake: Path, table: str, date: dt.date) -> Path | None:
    p = partition_file(lake, table, date)
    return p if p.is_file() else None


def _volume_by_instrument(path: Path, trades_only: bool) -> dict[int, int]:
    cols = ["instrument_id", "size"] + (["action"] if trades_only else [])
    out: dict[int, int] = {}
    pf = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering caches every range read: RSS grows
    for b in pf.iter_batches(batch_size=1 << 20, columns=cols):
        t = pa.Table.from_batches([b])
        if trades_only:
            t = t.filter(pc.equal(t.column("action"), "T"))
        if t.num_rows == 0:
            continue
        g = t.group_by("instrument_id").aggregate([("size", "sum")])
        for iid, s in zip(
            g.column("instrument_id").to_pylist(), g.column("size_sum").to_pylist(), strict=True
        ):
            out[int(iid)] = out.get(int(iid), 0) + int(s)
    return out


def _stat_pair(rg: pq.RowGroupMetaData, i_col: int, s_col: int) -> tuple[int, str] | None:
    """(id, symbol) when the row group's statistics show a single value of each."""
    si = rg.column(i_col).statistics
    ss = rg.column(s_col).statistics
    if si is None or ss is None or not (si.has_min_max and ss.has_min_max):
        return None
    if si.null_count or ss.null_count or si.min != si.max or ss.min != ss.max:
        return None
    return int(si.min), str(ss.min)


def _symbols(path: Path) -> dict[int, str]:
    """instrument_id -> its smallest symbol in the partition.

    Row groups whose statistics show one instrument and one symbol (ingest writes statistics for
    both) are answered from the footer; the others are read, as distinct (id, symbol) pairs from
    the dictionary-encoded column (a hash of id·2³² + dictionary index, never strings per row).
    """
    pf = pq.ParquetFile(path, read_dictionary=["symbol"])
    md = pf.metadata
    names = md.schema.to_arrow_schema().names
    i_col, s_col = names.index("instrument_id"), names.index("symbol")
    pairs: set[tuple[int, str | None]] = set()
    unread = []
    for g in range(md.num_row_groups):
        pair = _stat_pair(md.row_group(g), i_col, s_col)
        if pair is None:
            unread.append(g)
        else:
            pairs.add(pair)
    if unread:
        t = pf.read_row_groups(unread, columns=["instrument_id", "symbol"])
        for b in t.to_batches():  # batches keep the two columns aligned (chunks need not)
            ci, cs = b.column(0), b.column(1)
            if len(ci):
                idx = pc.fill_null(pc.cast(cs.indices, pa.int64()), -1)  # -1: null symbol
                key = pc.add(pc.multiply(pc.cast(ci, pa.int64()), 1 << 32), pc.add(idx, 1))
                for k in pc.unique(key).to_pylist():
                    j = (k & 0xFFFFFFFF) - 1
                    pairs.add((k >> 32, None if j < 0 else cs.dictionary[j].as_py()))
    out: dict[int, str] = {}
    for iid, sym in sorted(pairs, key=lambda x: (x[0], x[1] or "")):
        if sym is not None:
            out.setdefault(int(iid), sym)
    return out


def _definitions_upto(lake: Path, date: dt.date) -> pa.Table | None:
    """Every definition on or before ``date``: the latest per instrument wins (by ts_recv)."""
    parts = [partition_file(lake, "definitions", d) for d in list_dates(lake, "definitions")]
    parts = [p for p, d in zip(parts, list_dates(lake, "definitions"), strict=True) if d <= date]
    if not parts:
        return None
    cols = [
        "ts_recv",
        "src_key",
        "src_row",
        "instrument_id",
        "raw_symbol",
        "instrument_class",
        "strike_price",
        "expiration",
        "underlying",
    ]
    t = pa.concat_tables([pq.read_table(p, columns=cols) for p in parts])
    order = np.lexsort(
        [t.column(c).to_numpy() for c in ("src_row", "src_key", "ts_recv", "instrument_id")]
    )
    t = t.take(pa.array(order))
    ids = t.column("instrument_id").to_numpy()
    last = np.ones(len(ids), dtype=bool)
    last[:-1] = ids[1:] != ids[:-1]
    return t.filter(pa.array(last))


def resolve_session(lake: Path, date: dt.date, symbol: str | None = None) -> SessionInputs:
    """Find the session's partitions, its primary future and its option universe."""
    root = bronze_root(lake)
    if not root.is_dir():
        raise UserError("no Bronze lake here", path=str(lake), expected="a lake written by ingest")
    depth = _existing(lake, "futures_mbp10", date)
    trades = _existing(lake, "futures_trades", date)
    options = _existing(lake, "option_trades", date)
    if depth is None and trades is None:
        have = sorted(
            {
                d.isoformat()
                for t in ("futures_mbp10", "futures_trades")
                for d in list_dates(lake, t)
            }
        )
        raise UserError(
            f"no futures data for session {date.isoformat()}",
            path=str(lake),
            expected="one of the ingested sessions: " + (", ".join(have) if have else "none yet"),
        )
    trades_from_depth = trades is None
    vol = (
        _volume_by_instrument(trades, False)
        if trades is not None
        else _volume_by_instrument(depth, True)  # type: ignore[arg-type]
    )
    syms: dict[int, str] = {}
    for p in (depth, trades):
        if p is not None:
            for k, v in _symbols(p).items():
                syms.setdefault(k, v)
    defs = _definitions_upto(lake, date)
    if defs is not None:
        for iid, raw in zip(
            defs.column("instrument_id").to_pylist(),
            defs.column("raw_symbol").to_pylist(),
            strict=True,
        ):
            syms.setdefault(int(iid), raw)
    if symbol is not None:
        ids = [i for i, s in sorted(syms.items()) if s == symbol]
        if not ids:
            raise UserError(
                f"--symbol {symbol} has no data in session {date.isoformat()}",
                path=str(lake),
                expected="one of " + ", ".join(sorted(set(syms.values()))),
            )
        primary = ids[0]
    else:
        candidates = vol or dict.fromkeys(syms, 0)
        if not candidates:
            raise UserError(f"session {date.isoformat()} has no ES outright", path=str(lake))
        primary = sorted(candidates.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    opt_defs, orphans = _option_universe(defs, options)
    parts = []
    for table, p in (
        ("futures_mbp10", depth),
        ("futures_trades", trades),
        ("option_trades", options),
    ):
        if p is not None:
            parts.append(
                PartitionInfo(
                    table,
                    str(p.relative_to(lake)),
                    partition_sha256(p),
                    pq.ParquetFile(p).metadata.num_rows,
                )
            )
    for d in list_dates(lake, "definitions"):
        if d <= date:
            p = partition_file(lake, "definitions", d)
            parts.append(
                PartitionInfo(
                    "definitions",
                    str(p.relative_to(lake)),
                    partition_sha256(p),
                    pq.ParquetFile(p).metadata.num_rows,
                )
            )
    silver = silver_file(lake, date)
    depth_sha = next((p.sha256 for p in parts if p.table == "futures_mbp10"), None)
    use_silver = depth_sha is not None and silver.is_file() and silver_stamp(silver) == depth_sha
    return SessionInputs(
        date=date,
        primary_id=int(primary),
        primary_symbol=syms.get(primary, str(primary)),
        depth_path=depth,
        trades_path=trades,
        options_path=options,
        trades_from_depth=trades_from_depth,
        silver_path=silver if use_silver else None,
        options=opt_defs,
        option_trades_without_definition=orphans,
        partitions=tuple(parts),
    )


def _option_universe(defs: pa.Table | None, options: Path | None) -> tuple[OptionDefinitions, int]:
    """C/P definitions on the ES family, sorted by instrument_id; count trades without one."""
    empty = OptionDefinitions(
        np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(0, np.int64)
    )
    if defs is None:
        opt = empty
    else:
        cls = defs.column("instrument_class").to_pylist()
        und = defs.column("underlying").to_pylist()
        keep = [
            i
            for i, (c, u) in enumerate(zip(cls, und, strict=True))
            if c in ("C", "P") and bool(ES_OUTRIGHT.match(u or ""))
        ]
        t = defs.take(pa.array(keep, type=pa.int64()))
        ids = t.column("instrument_id").to_numpy().astype(np.int64)
        order = np.argsort(ids, kind="stable")
        opt = OptionDefinitions(
            instrument_id=ids[order],
            is_call=np.asarray([c == "C" for c in t.column("instrument_class").to_pylist()])[order],
            strike=t.column("strike_price").to_numpy().astype(np.int64)[order],
            expiration=t.column("expiration").to_numpy().astype(np.int64)[order],
        )
    orphans = 0
    if options is not None:
        ids = pq.read_table(options, columns=["instrument_id"]).column(0).to_numpy()
        orphans = int(np.count_nonzero(~np.isin(ids.astype(np.int64), opt.instrument_id)))
    return opt, orphans


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


def _keys(t: pa.Table) -> tuple[np.ndarray, ...]:
    return tuple(t.column(c).to_numpy().astype(np.int64) for c in KEY_COLUMNS)


def _keep(t: pa.Table, mask: pa.Array) -> pa.Table:
    """``t.filter(mask)``, without the full copy when every row is kept (the usual case)."""
    if pc.all(mask).as_py():
        return t
    return t.filter(mask)


def iter_depth(path: Path, primary_id: int, rows: int = READ_BATCH_ROWS) -> Iterator[Keyed]:
    pf = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering caches every range read: RSS grows
    for b in pf.iter_batches(batch_size=rows, columns=list(DEPTH_COLUMNS)):
        t = _keep(pa.Table.from_batches([b]), pc.equal(b.column("instrument_id"), primary_id))
        if t.num_rows == 0:
            continue
        ts, seq, sk, sr = _keys(t)

        batch = DepthBatch(
            ts_recv=ts,
            sequence=seq,
            flags=t.column("flags").to_numpy().astype(np.uint8),
            levels=levels_block(t),
        )
        yield Keyed(ts, seq, sk, sr, batch)


def iter_session_depth(inputs: SessionInputs, use_silver: bool = True) -> Iterator[Keyed]:
    """The primary future's MBP-10 records: from Silver when it mirrors the partition, else Bronze.

    Both give the same DepthBatches (tested), so the choice never changes Gold.
    """
    if use_silver and inputs.silver_path is not None:
        assert inputs.depth_path is not None
        silver, bronze, iid = inputs.silver_path, inputs.depth_path, inputs.primary_id
        for ts, seq, sk, sr, batch in iter_silver_depth(silver, bronze, iid):
            yield Keyed(ts, seq, sk, sr, batch)
    elif inputs.depth_path is not None:
        yield from iter_depth(inputs.depth_path, inputs.primary_id)


def iter_trades(
    path: Path, primary_id: int, from_depth: bool, rows: int = READ_BATCH_ROWS
) -> Iterator[Keyed]:
    pf = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering caches every range read: RSS grows
    cols = list(TRADE_COLUMNS) + (["action"] if from_depth else [])
    for b in pf.iter_batches(batch_size=rows, columns=cols):
        mask = pc.equal(b.column("instrument_id"), primary_id)
        if from_depth:
            mask = pc.and_(mask, pc.equal(b.column("action"), "T"))
        t = _keep(pa.Table.from_batches([b]), mask)
        if t.num_rows == 0:
            continue
        ts, seq, sk, sr = _keys(t)
        batch = TradeBatch(
            ts_recv=ts,
            price=t.column("price").to_numpy().astype(np.int64),
            size=t.column("size").to_numpy().astype(np.int64),
            side=chars_to_codes(t.column("side")),
        )
        yield Keyed(ts, seq, sk, sr, batch)


def iter_option_trades(
    path: Path, defs: OptionDefinitions, rows: int = READ_BATCH_ROWS
) -> Iterator[Keyed]:
    pf = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering caches every range read: RSS grows
    known = pa.array(defs.instrument_id.astype(np.uint32))
    for b in pf.iter_batches(batch_size=rows, columns=list(TRADE_COLUMNS)):
        t = pa.Table.from_batches([b])
        t = t.filter(pc.is_in(t.column("instrument_id"), value_set=known))
        if t.num_rows == 0:
            continue
        ts, seq, sk, sr = _keys(t)
        batch = OptionTradeBatch(
            ts_recv=ts,
            instrument_id=t.column("instrument_id").to_numpy().astype(np.int64),
            price=t.column("price").to_numpy().astype(np.int64),
            size=t.column("size").to_numpy().astype(np.int64),
            side=chars_to_codes(t.column("side")),
        )
        yield Keyed(ts, seq, sk, sr, batch)
