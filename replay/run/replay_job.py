"""The replay loop: merged chunks → MarketState / Fuel / context → snaps → Gold (SPEC §2.4, §5.9).

This is the only loop that knows about every part. For each merged chunk it cuts the per-stream
slices at the next snap time ``T_k``: everything with ``ts_recv <= T_k`` is folded, and once an
event after ``T_k`` has been seen (merged order is by ``ts_recv`` first) snap k is scored. So no
snap reads an event after its time, and the chunk size changes nothing but how often the engines
are called.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from engines.config import EngineConfig
from engines.events import DepthBatch, OptionTradeBatch, TradeBatch
from engines.fuel import empty_fuel_state, fold_option_trades, in_scope
from engines.market_state import MarketState
from engines.session_context import PriorSession, SessionContext, fold_trades
from engines.signal_service import ServiceState, SnapInputs, SnapResult, score_snap
from replay.common.hashing import sha256_file
from replay.errors import UserError
from replay.gold.manifest import (
    build_manifest,
    code_digest,
    run_info,
    tool_version,
    write_manifest,
)
from replay.gold.writer import GoldWriter, gold_file, manifest_file
from replay.lake.layout import list_dates, partition_file, read_ingest_log
from replay.lake.reader import (
    Keyed,
    SessionInputs,
    iter_option_trades,
    iter_session_depth,
    iter_trades,
    resolve_session,
)
from replay.run.fast_driver import FastSessionReplay, with_option_ivs, with_option_mids
from replay.run.merge import EventCounts, MergedChunk, merged_chunks, slice_batch
from replay.run.prefetch import prefetch

SnapSink = Callable[[SnapResult], None]


@dataclass(frozen=True)
class ReplayResult:
    date: dt.date
    gold: Path
    manifest: Path
    rows: int
    snaps: int
    events: dict[str, int]
    digest: str
    seconds: float
    loop_seconds: float  # first chunk read -> Gold committed (no session resolve / JIT start-up)


def _peek(it: Iterator[Keyed]) -> tuple[int | None, Iterator[Keyed]]:
    first = next(it, None)
    if first is None:
        return None, iter(())
    return int(first.ts[0]), itertools.chain([first], it)


def _max_ts(path: Path | None) -> int | None:
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


def prior_session(lake: Path, date: dt.date) -> PriorSession | None:
    """PDH/PDL/PDC: the previous session's primary future (largest volume) high, low, last."""
    dates = [d for d in list_dates(lake, "futures_trades") if d < date]
    if not dates:
        return None
    p = partition_file(lake, "futures_trades", dates[-1])
    t = pq.read_table(p, columns=["instrument_id", "price", "size"])
    ids = t.column("instrument_id").to_numpy().astype(np.int64)
    if ids.shape[0] == 0:
        return None
    sizes = t.column("size").to_numpy().astype(np.int64)
    uniq = np.unique(ids)
    vols = [int(sizes[ids == u].sum()) for u in uniq.tolist()]
    best = sorted(zip(uniq.tolist(), vols, strict=True), key=lambda kv: (-kv[1], kv[0]))[0][0]
    px = t.column("price").to_numpy().astype(np.int64)[ids == best]
    return PriorSession(high=int(px.max()), low=int(px.min()), close=int(px[-1]))


class SessionReplay:
    """State of one session's replay between chunks (also used by live mode)."""

    def __init__(
        self, cfg: EngineConfig, inputs: SessionInputs, t0: int, prior: PriorSession | None
    ):
        self.cfg = cfg
        self.inputs = inputs
        self.t0 = t0
        self.market = MarketState.create(cfg, t0)
        self.fuel = empty_fuel_state(cfg, inputs.options)
        self.scope = in_scope(cfg, inputs.options, inputs.date)
        self.context = SessionContext.create(cfg, inputs.date, prior)
        self.service = ServiceState.create(cfg)
        self.next_k = 0
        self.counts = EventCounts()
        self.snaps_with_rows = 0

    @property
    def next_t(self) -> int:
        return self.t0 + self.next_k * self.cfg.snap_ns

    @property
    def stale_book_snaps(self) -> int:
        return self.service.stale_book_snaps

    @property
    def unscored_snaps(self) -> int:
        return self.service.unscored_snaps

    @property
    def option_iv_out_of_band(self) -> int:
        return int(self.fuel.bad_iv.sum())

    def _fold(self, d: DepthBatch, t: TradeBatch, o: OptionTradeBatch) -> None:
        if len(d) + len(t) + len(o) == 0:
            return
        if len(o):
            mids = self.market.mid_at(o.ts_recv, d)
            self.fuel = fold_option_trades(self.cfg, self.fuel, self.inputs.options, o, mids)
        self.market.fold(d, t)
        if len(t):
            self.context = fold_trades(self.context, t)
        self.counts.add(d, t, o)

    def _score(self, sink: SnapSink) -> None:
        t = self.next_t
        self.market.advance_to(t)
        inp = SnapInputs(
            t, self.next_k, self.market, self.fuel, self.inputs.options, self.scope, self.context
        )
        res, self.service = score_snap(self.cfg, inp, self.service)
        self.snaps_with_rows += 1 if res.rows else 0
        sink(res)
        self.next_k += 1

    def feed(self, chunk: MergedChunk, sink: SnapSink) -> None:
        """Fold a merged chunk, scoring every snap whose time the chunk has passed."""
        d, t, o = chunk.depth, chunk.trades, chunk.options
        while True:
            T = self.next_t
            cd = int(np.searchsorted(d.ts_recv, T, side="right"))
            ct = int(np.searchsorted(t.ts_recv, T, side="right"))
            co = int(np.searchsorted(o.ts_recv, T, side="right"))
            self._fold(slice_batch(d, 0, cd), slice_batch(t, 0, ct), slice_batch(o, 0, co))
            d, t, o = (
                slice_batch(d, cd, len(d)),
                slice_batch(t, ct, len(t)),
                slice_batch(o, co, len(o)),
            )
            if len(d) + len(t) + len(o) == 0:
                return
            self._score(sink)  # an event after T has arrived: snap k is complete

    def finish(self, sink: SnapSink) -> None:
        """Score the remaining snaps through the first T_k at or after the last event."""
        last = self.counts.last_event_ts
        last = last if last is not None else self.t0
        while self.next_t < last:
            self._score(sink)
        self._score(sink)


def _run_reference(
    sess: SessionReplay,
    chunks: Iterator[MergedChunk],
    writer: GoldWriter,
    on_snap: Callable[[int, int], None] | None,
    total_snaps: int,
) -> None:
    def sink(res: SnapResult) -> None:
        writer.add(res)
        if on_snap is not None and res.snap_index % 400 == 0:
            on_snap(res.snap_index, total_snaps)

    for chunk in chunks:
        sess.feed(chunk, sink)
    sess.finish(sink)


def _run_fast(
    sess: FastSessionReplay,
    chunks: Iterator[MergedChunk],
    on_snap: Callable[[int, int], None] | None,
    total_snaps: int,
) -> None:
    # Three stages, each on its own thread, a bounded number of chunks apart: reading, merging
    # and option mids (reader), option IV bisection (~2.4 s of a heavy day), then the kernel
    # here. Which of the first two is heavier depends on the source (Bronze decode vs Silver),
    # so the OS balances them over the two cores; all three release the GIL.
    defs = sess.inputs.options
    mids = with_option_mids(defs, chunks, sess.counts)
    prepared = prefetch(with_option_ivs(sess.cfg, defs, prefetch(mids, 2)), 2)
    for chunk, opt in prepared:
        sess.feed(chunk, opt)
        if on_snap is not None:
            on_snap(min(sess.next_k, total_snaps), total_snaps)
    sess.finish()


def _quality_from_log(lake: Path, date: dt.date) -> dict[str, int]:
    log = read_ingest_log(lake).to_pylist()
    rows = [r for r in log if date.isoformat() in (r["dates"] or [])]
    return {
        "ingest_out_of_order_resorted": sum(r["out_of_order_resorted"] for r in rows),
        "ingest_excluded_spread": sum(r["excluded_spread"] for r in rows),
        "ingest_excluded_other_instrument": sum(r["excluded_other_instrument"] for r in rows),
        "ingest_excluded_orphan_option": sum(r["excluded_orphan_option"] for r in rows),
    }


def replay_session(
    lake: Path,
    date: dt.date,
    cfg: EngineConfig,
    out: Path,
    *,
    chunk_events: int | None = None,
    force: bool = False,
    symbol: str | None = None,
    on_snap: Callable[[int, int], None] | None = None,
    workers: int = 1,
    engine: str = "fast",
    use_silver: bool = True,
) -> ReplayResult:
    """Replay one session from Bronze into Gold + manifest.

    ``engine``: ``"fast"`` (numba, one call per chunk) or ``"reference"`` (the engines level by
    level in Python); both write the same Gold bytes and manifest digest. ``use_silver``: read
    MBP-10 from its Silver mirror when it matches the Bronze partition (same Gold either way).
    """
    if chunk_events is not None and chunk_events < 1:
        raise UserError("--chunk-events must be >= 1", expected="a positive event count")
    started = time.time()
    wall0 = time.perf_counter()
    gold = gold_file(out, date)
    man = manifest_file(out, date)
    if (gold.exists() or man.exists()) and not force:
        raise UserError(
            "output already exists", path=str(gold.parent), expected="a new --out or --force"
        )
    inputs = resolve_session(lake, date, symbol)
    depth_it = iter_session_depth(inputs, use_silver)
    depth_source = "silver" if use_silver and inputs.silver_path is not None else "bronze"
    trades_src = inputs.trades_path or inputs.depth_path
    trades_it = (
        iter_trades(trades_src, inputs.primary_id, inputs.trades_from_depth)
        if trades_src is not None
        else iter(())
    )
    opt_it = (
        iter_option_trades(inputs.options_path, inputs.options)
        if inputs.options_path is not None and len(inputs.options)
        else iter(())
    )
    d0, depth_it = _peek(depth_it)
    t0_trade, trades_it = _peek(trades_it)
    firsts = [x for x in (d0, t0_trade) if x is not None]
    if not firsts:
        raise UserError(
            f"session {date.isoformat()} has no events of {inputs.primary_symbol}",
            path=str(lake),
        )
    snap = cfg.snap_ns
    t0 = -(-min(firsts) // snap) * snap
    last_est = max(
        x
        for x in (
            _max_ts(inputs.depth_path),
            _max_ts(inputs.trades_path),
            _max_ts(inputs.options_path),
            t0,
        )
        if x is not None
    )
    total_snaps = (last_est - t0 + snap - 1) // snap + 1
    prior = prior_session(lake, date)
    writer = GoldWriter(gold, date, inputs.primary_symbol)
    chunks = merged_chunks(depth_it, trades_it, opt_it, chunk_events)
    loop0 = time.perf_counter()
    try:
        if engine == "fast":
            sess: SessionReplay | FastSessionReplay = FastSessionReplay(
                cfg, inputs, t0, prior, writer
            )
            _run_fast(sess, chunks, on_snap, total_snaps)
        elif engine == "reference":
            sess = SessionReplay(cfg, inputs, t0, prior)
            _run_reference(sess, chunks, writer, on_snap, total_snaps)
        else:
            raise UserError(f"unknown engine {engine!r}", expected="fast or reference")
        gold_path = writer.commit()
    except BaseException:
        writer.abort()
        raise
    loop_s = time.perf_counter() - loop0
    if on_snap is not None:
        on_snap(sess.next_k, sess.next_k)
    mc = sess.market.counters()
    det = {
        "tool": "levelreplay",
        "tool_version": tool_version(),
        "code_digest": code_digest(),
        "config": cfg.to_dict(),
        "config_sha256": cfg.sha256(),
        "session_date": date.isoformat(),
        "instrument": inputs.primary_symbol,
        "instrument_id": inputs.primary_id,
        "inputs": [
            {"table": p.table, "path": p.path, "sha256": p.sha256, "rows": p.rows}
            for p in inputs.partitions
        ],
        "events": dict(sess.counts.events),
        "snap_t0_ns": t0,
        "snaps": sess.next_k,
        "snaps_with_rows": sess.snaps_with_rows,
        "rows": writer.rows,
        "data_quality": {
            "crossed_books": mc["crossed_books"],
            "locked_books": mc["locked_books"],
            "one_sided_books": mc["one_sided_books"],
            "snaps_scored_with_last_valid_book": sess.stale_book_snaps,
            "snaps_without_valid_book": sess.unscored_snaps,
            "sequence_gaps": sess.counts.sequence_gaps,
            "undefined_price_trades": mc["undefined_price_trades"],
            "option_trades_without_definition": inputs.option_trades_without_definition,
            "option_iv_out_of_band": sess.option_iv_out_of_band,
            **_quality_from_log(lake, date),
        },
        "outputs": {gold_path.name: sha256_file(gold_path)},
    }
    run = run_info(_iso(started), time.perf_counter() - wall0, chunk_events, workers)
    run |= {"depth_source": depth_source, "event_loop_s": round(loop_s, 3)}
    manifest = build_manifest(det, run)
    write_manifest(man, manifest)
    return ReplayResult(
        date=date,
        gold=gold_path,
        manifest=man,
        rows=writer.rows,
        snaps=sess.next_k,
        events=dict(sess.counts.events),
        digest=manifest["deterministic"]["digest"],
        seconds=time.perf_counter() - wall0,
        loop_seconds=loop_s,
    )


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
