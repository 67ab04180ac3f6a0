"""One session's inputs, resolved from the lake (SPEC §2.3, §2.4, §5.7): which partitions, which
primary future, which option universe, which previous session; and the engine's view of them.

``SessionSources`` is where a replay reads from (lake paths, partitions and their sha256 for the
manifest); ``session_setup`` turns it into the engines' ``SessionSetup``, which holds no paths, so
live mode builds the same thing from a NATS session message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engines.contract.events import MergedChunk, OptionDefinitions
from engines.seam.session_engine import SessionSetup
from engines.state.session_context import PriorSession
from replay.common.errors import UserError
from replay.lake.instruments import ES_OUTRIGHT
from replay.lake.layout import (
    bronze_root,
    list_dates,
    open_partition,
    partition_entry,
    read_errors_named,
)
from replay.lake.partition_digest import partition_sha256
from replay.lake.partition_quality import orphan_file, partition_counts, rebuilt_from_mbo
from replay.lake.reader import (
    Keyed,
    in_partition_order,
    iter_depth,
    iter_option_trades,
    iter_trades,
)
from replay.lake.schemas import DEF_SORT_KEY, TABLES
from replay.lake.silver import iter_silver_depth, silver_file, silver_stamp
from replay.run.definitions_used import DAY_COLUMN, DefinitionsUsed, definitions_used
from replay.run.merge import merged_chunks, with_arrivals

SILVER_TABLE = "silver_mbp10"


@dataclass(frozen=True)
class PartitionInfo:
    """One input partition as the manifest records it."""

    table: str
    path: str  # relative to the lake root
    sha256: str
    rows: int
    instruments: int | None = None  # definitions only: how many instruments' records
    rebuilt_from: str | None = None  # "mbo" for futures depth and trades rebuilt from MBO

    @classmethod
    def of(cls, lake: Path, table: str, path: Path, sha256: str | None = None) -> PartitionInfo:
        """A committed partition file (its sha256 from the digest ingest left beside it)."""
        rows = pq.ParquetFile(path).metadata.num_rows
        sha = partition_sha256(path) if sha256 is None else sha256
        mbo = table in ("futures_mbp10", "futures_trades") and rebuilt_from_mbo(path)
        return cls(
            table, str(path.relative_to(lake)), sha, rows, rebuilt_from="mbo" if mbo else None
        )

    @classmethod
    def of_definitions(cls, used: DefinitionsUsed) -> PartitionInfo:
        """The definition records the session used (from several partitions: the table's path)."""
        return cls("definitions", "bronze/definitions", used.sha256, used.records, used.instruments)

    def record(self) -> dict[str, object]:
        """The manifest's ``inputs`` entry."""
        out: dict[str, object] = {"table": self.table, "path": self.path, "sha256": self.sha256}
        out["rows"] = self.rows
        if self.instruments is not None:
            out["instruments"] = self.instruments
        if self.rebuilt_from is not None:
            out["rebuilt_from"] = self.rebuilt_from
        return out


@dataclass(frozen=True)
class SessionSources:
    """Where a replay of one trade date reads from, resolved before the first event."""

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
    partitions: tuple[PartitionInfo, ...]  # every input read; Silver only when it is read
    ingest_quality: dict[str, int]  # from the session's own partitions' footers

    def without_silver(self) -> SessionSources:
        """The same session read from Bronze alone."""
        parts = tuple(p for p in self.partitions if p.table != SILVER_TABLE)
        return dataclasses.replace(self, silver_path=None, partitions=parts)


def _existing(lake: Path, table: str, date: dt.date) -> Path | None:
    return partition_entry(lake, table, date)  # damaged: exit 2 naming it


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


def definitions_upto(lake: Path, date: dt.date) -> pa.Table | None:
    """Every definition record on or before ``date``, each with its partition's trade date
    (``DAY_COLUMN``), sorted by (instrument_id, ts_recv, src_key, src_row)."""
    tables = []
    for d in list_dates(lake, "definitions"):
        p = partition_entry(lake, "definitions", d) if d <= date else None
        if p is not None:
            open_partition(p, "definitions")
            t = pq.read_table(p)
            tables.append(t.append_column(DAY_COLUMN, pa.array([d] * t.num_rows, pa.date32())))
    if not tables:
        return None
    t = pa.concat_tables(tables)
    keys = ("src_row", "src_key", "ts_recv", "instrument_id")
    return t.take(pa.array(np.lexsort([t.column(c).to_numpy() for c in keys])))


def _latest(defs: pa.Table) -> pa.Table:
    """The latest record per instrument (by ts_recv) of a table sorted as above."""
    ids = defs.column("instrument_id").to_numpy()
    last = np.ones(len(ids), dtype=bool)
    last[:-1] = ids[1:] != ids[:-1]
    return defs.filter(pa.array(last))


def resolve_session(lake: Path, date: dt.date, symbol: str | None = None) -> SessionSources:
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
    shas: dict[Path, str] = {}
    for table, p in (
        ("futures_mbp10", depth),
        ("futures_trades", trades),
        ("option_trades", options),
    ):
        if p is not None:
            open_partition(p, table)  # unreadable or the wrong columns: exit 2, named
            shas[p] = partition_sha256(p)  # edited since ingest: exit 2, before a row is read
    trades_from_depth = trades is None
    volume_of = trades if trades is not None else depth
    assert volume_of is not None
    with read_errors_named(volume_of):
        vol = _volume_by_instrument(volume_of, trades is None)
    syms: dict[int, str] = {}
    for p in (depth, trades):
        if p is not None:
            with read_errors_named(p):
                found = _symbols(p)
            for k, v in found.items():
                syms.setdefault(k, v)
    all_defs = definitions_upto(lake, date)
    defs = None if all_defs is None else _latest(all_defs)
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
        # the most traded outright; without a print, an outright of the session's own records
        # (never one that only the lake's definitions name)
        own = {i for p in (depth, trades) if p is not None for i in _symbols(p)}
        candidates = vol or dict.fromkeys(sorted(own), 0)
        if not candidates:
            raise UserError(f"session {date.isoformat()} has no ES outright", path=str(lake))
        primary = sorted(candidates.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    opt_defs, orphans, traded = _option_universe(defs, options)
    parts = [
        PartitionInfo.of(lake, table, p, shas[p])
        for table, p in (
            ("futures_mbp10", depth),
            ("futures_trades", trades),
            ("option_trades", options),
        )
        if p is not None
    ]
    used = definitions_used(all_defs, date, np.append(traded, np.int64(primary)))
    parts.append(PartitionInfo.of_definitions(used))
    own = [p for p in (depth, trades, options, _existing(lake, "definitions", date)) if p]
    silver = silver_file(lake, date)
    depth_sha = next((p.sha256 for p in parts if p.table == "futures_mbp10"), None)
    use_silver = depth_sha is not None and silver.is_file() and silver_stamp(silver) == depth_sha
    if use_silver:
        parts.append(PartitionInfo.of(lake, SILVER_TABLE, silver))
    return SessionSources(
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
        ingest_quality=partition_counts(own, [orphan_file(lake, t, date) for t in TABLES]),
    )


def option_definitions(defs: pa.Table | None) -> OptionDefinitions:
    """C/P definitions on the ES family among Bronze-shaped definition rows, sorted by
    instrument_id: the option universe, offline (the lake's latest) and live (as received)."""
    if defs is None:
        return OptionDefinitions(
            np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(0, np.int64)
        )
    keep = np.flatnonzero(option_family(defs))
    t = defs.take(pa.array(keep, type=pa.int64()))
    ids = t.column("instrument_id").to_numpy().astype(np.int64)
    order = np.argsort(ids, kind="stable")
    return OptionDefinitions(
        instrument_id=ids[order],
        is_call=np.asarray([c == "C" for c in t.column("instrument_class").to_pylist()])[order],
        strike=t.column("strike_price").to_numpy().astype(np.int64)[order],
        expiration=t.column("expiration").to_numpy().astype(np.int64)[order],
    )


def option_family(defs: pa.Table) -> np.ndarray:
    """Which definition rows are calls or puts on an ES outright."""
    cls = defs.column("instrument_class").to_pylist()
    und = defs.column("underlying").to_pylist()
    return np.asarray(
        [
            c in ("C", "P") and bool(ES_OUTRIGHT.match(u or ""))
            for c, u in zip(cls, und, strict=True)
        ],
        dtype=bool,
    )


def split_definitions(
    defs: pa.Table | None, first_ts: int
) -> tuple[pa.Table | None, pa.Table | None]:
    """A session's definitions (``definitions_upto`` order) as the rows in effect from its start
    (the latest per instrument with ``ts_recv`` at or before its first event) and the ES-family
    option rows that arrive later, in their merged order (SPEC §2.4: they take effect from their
    ``ts_recv``, rank 0 before any event at the same time)."""
    if defs is None:
        return None, None
    ts = defs.column("ts_recv").to_numpy()
    start = defs.filter(pa.array(ts <= first_ts))
    later = defs.filter(pa.array(ts > first_ts))
    later = later.filter(pa.array(option_family(later))) if later.num_rows else later
    if later.num_rows:
        keys = [later.column(c).to_numpy() for c in reversed(DEF_SORT_KEY)]
        later = later.take(pa.array(np.lexsort(keys)))
    return (_latest(start) if start.num_rows else None), (later if later.num_rows else None)


def arrivals(later: pa.Table) -> list[tuple[int, OptionDefinitions]]:
    """Mid-session option definitions grouped by ``ts_recv``, in time order."""
    ts = later.column("ts_recv").to_numpy()
    out = []
    for t in np.unique(ts).tolist():
        out.append((int(t), option_definitions(later.filter(pa.array(ts == t)))))
    return out


def _option_universe(
    defs: pa.Table | None, options: Path | None
) -> tuple[OptionDefinitions, int, np.ndarray]:
    """The option universe; the count of trades without a definition in it; the distinct traded
    option instruments."""
    opt = option_definitions(defs)
    orphans, traded = 0, np.zeros(0, np.int64)
    if options is not None:
        ids = pq.read_table(options, columns=["instrument_id"]).column(0).to_numpy()
        orphans = int(np.count_nonzero(~np.isin(ids.astype(np.int64), opt.instrument_id)))
        traded = np.unique(ids.astype(np.int64))
    return opt, orphans, traded


def iter_session_depth(inputs: SessionSources) -> Iterator[Keyed]:
    """The primary future's MBP-10 records: from Silver when it mirrors the partition, else Bronze.

    Both give the same DepthBatches (tested), so the choice never changes Gold.
    """
    if inputs.silver_path is not None:
        assert inputs.depth_path is not None
        silver, bronze, iid = inputs.silver_path, inputs.depth_path, inputs.primary_id
        for ts, seq, sk, sr, batch in iter_silver_depth(silver, bronze, iid):
            yield Keyed(ts, seq, sk, sr, batch)
    elif inputs.depth_path is not None:
        yield from iter_depth(inputs.depth_path, inputs.primary_id)


PRIOR_MAX_DAYS = 4  # a weekend plus a holiday (SPEC §5.7)


def prior_session(
    lake: Path, date: dt.date, primary_id: int
) -> tuple[PriorSession | None, PartitionInfo | None]:
    """PDH/PDL/PDC (SPEC §5.7): high, low and last trade of the **same contract** on the latest
    earlier trade date at most 4 calendar days back whose Bronze has trades of it; none after a
    roll or a longer gap. Also the partition read, which is an input of the session."""
    earliest = date - dt.timedelta(days=PRIOR_MAX_DAYS)
    for d in reversed(list_dates(lake, "futures_trades")):
        if d >= date:
            continue
        if d < earliest:
            break
        p = partition_entry(lake, "futures_trades", d)  # damaged: this session fails, named
        if p is None:
            continue
        open_partition(p, "futures_trades")
        t = pq.read_table(p, columns=["instrument_id", "price"])  # in partition (merged) order
        mine = t.column("instrument_id").to_numpy() == primary_id
        if not mine.any():
            continue  # that day traded other contracts only: look one day further back
        px = t.column("price").to_numpy().astype(np.int64)[mine]
        info = PartitionInfo.of(lake, "futures_trades", p)
        return PriorSession(high=int(px.max()), low=int(px.min()), close=int(px[-1])), info
    return None, None


def _resolve(
    lake: Path, date: dt.date, symbol: str | None, use_silver: bool
) -> tuple[SessionSources, PriorSession | None]:
    """The session's sources with every input partition the manifest will list (the previous
    session's behind PDH/PDL/PDC included), and that previous session."""
    src = resolve_session(lake, date, symbol)
    if not use_silver:
        src = src.without_silver()
    prior, prior_input = prior_session(lake, date, src.primary_id)
    if prior_input is not None:
        src = dataclasses.replace(src, partitions=(*src.partitions, prior_input))
    return src, prior


def session_inputs(
    lake: Path, date: dt.date, symbol: str | None = None, use_silver: bool = True
) -> SessionSources:
    """What a replay of the session would read, without reading any event (``--resume``)."""
    return _resolve(lake, date, symbol, use_silver)[0]


def _peek(it: Iterator[Keyed]) -> tuple[int | None, Iterator[Keyed]]:
    first = next(it, None)
    if first is None:
        return None, iter(())
    return int(first.ts[0]), itertools.chain([first], it)


def max_ts_recv(path: Path | None) -> int | None:
    """Largest ts_recv in a partition, from the row-group statistics Bronze always writes."""
    if path is None:
        return None
    md = pq.ParquetFile(path).metadata
    col = md.schema.to_arrow_schema().get_field_index("ts_recv")
    out = None
    for g in range(md.num_row_groups):
        st = md.row_group(g).column(col).statistics
        if st is not None and st.has_min_max:
            out = st.max if out is None else max(out, st.max)
    return out


@dataclass
class OpenSession:
    """A resolved session ready to replay: the engines' setup and its merged chunks."""

    sources: SessionSources
    setup: SessionSetup
    chunks: Iterator[MergedChunk]
    total_snaps: int  # estimated from the partitions' footers (progress only)
    depth_source: str  # "silver" or "bronze"
    first_event_ts: int  # the primary future's first event: definitions after it arrive mid-session


def open_session(
    lake: Path,
    date: dt.date,
    snap_ns: int,
    *,
    symbol: str | None = None,
    use_silver: bool = True,
    chunk_events: int | None = None,
) -> OpenSession:
    """Resolve a session, open its streams and merge them (nothing is read past the first batch
    of each stream until the chunks are consumed)."""
    src, prior = _resolve(lake, date, symbol, use_silver)
    depth_it = iter_session_depth(src)
    if src.depth_path is not None:
        depth_it = in_partition_order(depth_it, src.depth_path)
    depth_source = "silver" if src.silver_path is not None else "bronze"
    trades_src = src.trades_path or src.depth_path
    trades_it: Iterator[Keyed] = iter(())
    if trades_src is not None:
        trades = iter_trades(trades_src, src.primary_id, src.trades_from_depth)
        trades_it = in_partition_order(trades, trades_src)
    d0, depth_it = _peek(depth_it)
    t0_trade, trades_it = _peek(trades_it)
    firsts = [x for x in (d0, t0_trade) if x is not None]
    if not firsts:
        raise UserError(
            f"session {date.isoformat()} has no events of {src.primary_symbol}", path=str(lake)
        )
    first_ts = min(firsts)
    t0 = -(-first_ts // snap_ns) * snap_ns
    start_rows, later = split_definitions(definitions_upto(lake, date), first_ts)
    universe = src.options if later is None else option_definitions(start_rows)
    coming = [] if later is None else arrivals(later)
    every = universe
    for _, defs in coming:
        every = every.union(defs)
    opt_it: Iterator[Keyed] = iter(())
    if src.options_path is not None and len(every):
        options = iter_option_trades(src.options_path, every)
        opt_it = in_partition_order(options, src.options_path)
    ends = [max_ts_recv(p) for p in (src.depth_path, src.trades_path, src.options_path)]
    last_est = max(x for x in (*ends, t0) if x is not None)
    setup = SessionSetup(
        date=date,
        primary_id=src.primary_id,
        primary_symbol=src.primary_symbol,
        t0=t0,
        options=universe,
        prior=prior,
    )
    chunks = merged_chunks(depth_it, trades_it, opt_it, chunk_events)
    return OpenSession(
        sources=src,
        setup=setup,
        chunks=with_arrivals(chunks, universe, coming) if coming else chunks,
        total_snaps=(last_est - t0 + snap_ns - 1) // snap_ns + 1,
        depth_source=depth_source,
        first_event_ts=first_ts,
    )
