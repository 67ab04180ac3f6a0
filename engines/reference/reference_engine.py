"""The reference session engine: the engines level by level in Python (the readable definition).

For each merged chunk it cuts the per-stream slices at the next snap time ``T_k``: everything with
``ts_recv <= T_k`` is folded, and once an event after ``T_k`` has been seen (merged order is by
``ts_recv`` first) snap k is scored. So no snap reads an event after its time, and the chunk size
changes nothing but how often the engines are called. The fast engine is tested against it.
"""

from __future__ import annotations

import numpy as np

from engines.columns.rows import LevelRowBlocks
from engines.contract.config import EngineConfig
from engines.contract.events import (
    DepthBatch,
    EventCounts,
    MergedChunk,
    OptionDefinitions,
    OptionTradeBatch,
    TradeBatch,
    slice_batch,
)
from engines.physics.fuel import empty_fuel_state, fold_option_trades, grow_fuel_state, in_scope
from engines.reference.signal_service import ServiceState, SnapInputs, score_snap
from engines.seam.session_engine import EngineCounters, RowSink, SessionSetup, SnapClock, Stage
from engines.state.market_state import MarketState
from engines.state.session_context import SessionContext, fold_trades


class ReferenceEngine(SnapClock):
    """State of one session's reference replay between chunks (a ``SessionEngine``)."""

    def __init__(self, cfg: EngineConfig, setup: SessionSetup, sink: RowSink):
        self.cfg = cfg
        self.setup = setup
        self.sink = sink
        self.options = setup.options
        self.market = MarketState.create(cfg, setup.t0)
        self.fuel = empty_fuel_state(cfg, self.options)
        self.scope = in_scope(cfg, self.options, setup.date)
        self.context = SessionContext.create(cfg, setup.date, setup.prior)
        self.service = ServiceState.create(cfg)
        self.next_k = 0
        self.counts = EventCounts()
        self.snaps_with_rows = 0
        self._rows = LevelRowBlocks(setup.date, setup.primary_symbol)

    @property
    def next_t(self) -> int:
        return self.setup.t0 + self.next_k * self.cfg.snap_ns

    def stages(self) -> tuple[Stage, ...]:
        return ()

    def counters(self) -> EngineCounters:
        return EngineCounters(
            events=dict(self.counts.events),
            last_event_ts=self.counts.last_event_ts,
            snaps=self.next_k,
            snaps_with_rows=self.snaps_with_rows,
            sequence_gaps=self.counts.sequence_gaps,
            stale_book_snaps=self.service.stale_book_snaps,
            unscored_snaps=self.service.unscored_snaps,
            option_iv_out_of_band=int(self.fuel.bad_iv.sum()),
            option_universe=len(self.options),
            market=self.market.counters(),
        )

    def grow_options(self, defs: OptionDefinitions) -> None:
        """Definitions that take effect now: later option trades of them count."""
        new = self.options.union(defs)
        self.fuel = grow_fuel_state(self.cfg, self.fuel, self.options, new)
        self.options = new
        self.scope = in_scope(self.cfg, new, self.setup.date)

    def _fold(self, d: DepthBatch, t: TradeBatch, o: OptionTradeBatch) -> None:
        if len(d) + len(t) + len(o) == 0:
            return
        if len(o):
            mids = self.market.mid_at(o.ts_recv, d)
            self.fuel = fold_option_trades(self.cfg, self.fuel, self.options, o, mids)
        self.market.fold(d, t)
        if len(t):
            self.context = fold_trades(self.context, t)
        self.counts.add(d, t, o)

    def _score(self) -> None:
        t = self.next_t
        self.market.advance_to(t)
        inp = SnapInputs(
            t, self.next_k, self.market, self.fuel, self.options, self.scope, self.context
        )
        res, self.service = score_snap(self.cfg, inp, self.service)
        if res.rows:
            self.snaps_with_rows += 1
            self._rows.add(res.ts_ns, res.snap_index, res.spot_px, res.bid_px, res.ask_px, res.rows)
            if len(self._rows) >= self.sink.batch_rows:
                self.sink.put(self._rows.take())
        self.next_k += 1

    def _score_through(self, k_last: int) -> None:
        while self.next_k <= k_last:
            self._score()

    def feed(self, item: MergedChunk) -> None:
        """Fold a merged chunk, scoring every snap whose time the chunk has passed."""
        if len(item.new_options):
            if item.new_options_ts is not None:  # snaps before the arrival, without it
                self.close(item.new_options_ts - 1)
            self.grow_options(item.new_options)
        d, t, o = item.depth, item.trades, item.options
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
            self._score()  # an event after T has arrived: snap k is complete

    def _deliver(self) -> None:
        if len(self._rows):
            self.sink.put(self._rows.take())
