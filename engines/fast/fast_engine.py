"""The fast session engine: merged chunks → one numba call per chunk → row blocks.

Same contract as ``engines.reference.reference_engine.ReferenceEngine`` (and the same rows, so
byte-identical Gold): a snap is scored once an event after it has been read, or at the end of the
session. Per chunk, the Python side only prepares arrays (option-trade mids and implied vols come
from the reference functions, which are elementwise, so chunking cannot change them) and serves
the kernel's requests: grow a buffer, re-centre MarketState's price grid, or take a full block of
rows (decoded by ``fast_rows``). The two preparation stages (option mids, option IVs) run ahead of
the kernel on the driver's threads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np

from engines.contract.config import EngineConfig, points_to_units
from engines.contract.events import EventCounts, MergedChunk, OptionDefinitions
from engines.fast import snap_codes as C
from engines.fast import snap_kernel as K
from engines.fast.fast_rows import FastRowDecoder
from engines.fast.params import FLOAT_PARAMS, INT_PARAMS, ParamSource
from engines.fast.snap_codes import N_I, N_LI, N_X, T_SMA0
from engines.physics.fuel import (
    empty_fuel_state,
    grow_fuel_state,
    in_scope,
    instrument_index,
    trade_ivs,
)
from engines.seam.session_engine import EngineCounters, RowSink, SessionSetup, SnapClock, Stage
from engines.state.layout import N_FIELDS, N_SW
from engines.state.market_state import MarketState, quoted_mid_at
from engines.state.session_context import SessionContext

_MAX_ROWS_PER_SNAP = 1024  # output headroom past the sink's batch (grown on demand)


def params(cfg: EngineConfig, t0: int, ctx: SessionContext, batch: int) -> tuple:
    """(int64, float64) parameter arrays, filled from ``engines/fast/params.py``'s tables."""
    src = ParamSource(cfg, t0, ctx, batch)
    pi = np.array([get(src) for _, get in INT_PARAMS], dtype=np.int64)
    pf = np.array([get(src) for _, get in FLOAT_PARAMS], dtype=np.float64)
    return pi, pf


def gamma_order(cfg: EngineConfig, defs: OptionDefinitions, date: dt.date) -> tuple:
    """In-scope options sorted by (strike, right [call first], id), as fuel.snap_gamma does."""
    sel = np.flatnonzero(in_scope(cfg, defs, date))
    strike = defs.strike[sel].astype(np.int64)
    is_call = defs.is_call[sel].astype(np.bool_)
    order = np.lexsort((defs.instrument_id[sel], np.where(is_call, 0, 1), strike))
    sel = sel[order]
    u_strike, u_start = np.unique(strike[order], return_index=True)
    return (
        sel.astype(np.int64),
        strike[order],
        is_call[order],
        defs.expiration[sel].astype(np.int64),
        u_strike.astype(np.int64),
        u_start.astype(np.int64),
    )


def _c(a: np.ndarray, dtype: type) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=dtype)


def with_option_mids(
    defs: OptionDefinitions, chunks: Iterator[MergedChunk], counts: EventCounts
) -> Iterator[tuple[MergedChunk, tuple]]:
    """Each chunk with its option trades' definition index (-1 unknown) and futures mid.

    Mids come from the depth stream alone (``quoted_mid_at``), exactly as ``MarketState.mid_at``
    would give them before the chunk, so this runs ahead on the reader thread; so does the event
    counting (``counts``, read only once the stream is exhausted). Definitions a chunk brings
    (``new_options``) join the universe before its trades are looked up.
    """
    mid, seen = -1, 0
    for chunk in chunks:
        defs = defs.union(chunk.new_options)
        counts.add(chunk.depth, chunk.trades, chunk.options)
        o = chunk.options
        idx, known = instrument_index(defs, o.instrument_id)
        ts = _c(o.ts_recv, np.int64)
        mids, mid, seen = quoted_mid_at(mid, seen, ts, chunk.depth)
        yield chunk, (ts, idx, known, mids)


def with_option_ivs(
    cfg: EngineConfig, defs: OptionDefinitions, chunks: Iterator[tuple[MergedChunk, tuple]]
) -> Iterator[tuple[MergedChunk, tuple]]:
    """Each chunk with its option trades as kernel arrays: definition index (-1 unknown), IV, ok.

    IVs are elementwise (the reference functions), so chunking cannot change them.
    """
    for chunk, (ts, idx, known, mids) in chunks:
        defs = defs.union(chunk.new_options)
        o = chunk.options
        iv = np.zeros(len(o))
        ok = np.zeros(len(o), dtype=np.bool_)
        if known.any():
            iv[known], ok[known] = trade_ivs(
                cfg, defs, idx[known], ts[known], o.price[known], mids[known]
            )
        kidx = np.where(known, idx, -1).astype(np.int64)
        yield chunk, (ts, kidx, _c(o.size, np.int64), _c(o.side, np.uint8), iv, ok)


class FastEngine(SnapClock):
    """State of one session's fast replay between chunks (a ``SessionEngine``; the reference is
    ``ReferenceEngine``)."""

    def __init__(self, cfg: EngineConfig, setup: SessionSetup, sink: RowSink):
        self.cfg = cfg
        self.setup = setup
        self.sink = sink
        self.market = MarketState.create(cfg, setup.t0)
        ctx = SessionContext.create(cfg, setup.date, setup.prior)
        self.pi, self.pf = params(cfg, setup.t0, ctx, max(1, int(sink.batch_rows)))
        self.decoder = FastRowDecoder(cfg, setup.date, setup.primary_symbol)
        rank = self.decoder.rank
        self.st = np.zeros(K.N_ST, dtype=np.int64)
        self.st[K.ST_NSLOTS] = T_SMA0 + len(cfg.sma_periods)
        self.cx = np.zeros(K.N_CX, dtype=np.int64)
        # prefix sums of closed-bar closes, the last max(period) + 1 of them (see K._sma)
        self.closes = np.zeros(max(cfg.sma_periods, default=0) + 1, dtype=np.int64)
        user = sorted({points_to_units(p) for p in cfg.user_levels})
        self.lv = (np.array(user, dtype=np.int64), np.array(cfg.sma_periods, dtype=np.int64))
        self._n_user_rank = len(user) + len(rank)
        self._rank = rank
        self.options = OptionDefinitions.empty()
        fuel = empty_fuel_state(cfg, self.options)
        self._fuel = fuel
        self._set_options(setup.options)
        n_slots = 256 + int(self.st[K.ST_NSLOTS])
        self.slots = (np.zeros(n_slots, dtype=np.int64), np.zeros(n_slots, dtype=np.int64))
        self.lvs = (np.zeros((n_slots, N_LI), dtype=np.int64), np.zeros((n_slots, 5)))
        ring_n = cfg.window_buckets(cfg.approach_window_s) + 1
        self.ring = np.full(ring_n, K.NO_SPOT, dtype=np.int64)
        self.scr = (
            np.zeros(1, dtype=np.int64),
            np.zeros(1, dtype=np.int64),
            np.zeros((1, N_FIELDS), dtype=np.int64),
            np.zeros(N_SW, dtype=np.int64),
        )
        self._out_cap = int(self.pi[C.P_BATCH]) + _MAX_ROWS_PER_SNAP
        self.out = (np.zeros((N_I, self._out_cap), dtype=np.int64), np.zeros((N_X, self._out_cap)))
        self.counts = EventCounts()

    def _set_options(self, defs: OptionDefinitions) -> None:
        """(Re)build every array sized by the option universe; inventories carry over."""
        new = self.options.union(defs)
        fuel = grow_fuel_state(self.cfg, self._fuel, self.options, new)
        self.options, self._fuel = new, fuel
        self.fz = (fuel.position, fuel.volume, fuel.last_iv, fuel.bad_iv)
        self.gs = gamma_order(self.cfg, new, self.setup.date)
        n_inst, n_strike = self.gs[0].shape[0], self.gs[4].shape[0]
        self.gsc = (
            np.zeros(n_inst),
            np.zeros(n_strike),
            np.zeros(n_strike),
            np.zeros(n_strike),
            np.zeros(n_strike, dtype=np.int64),
        )
        cfg = self.cfg
        n_round = 2 * cfg.universe_range_units // cfg.round_spacing_units + 2
        n_uni = int(n_round) + n_strike + self._n_user_rank + 4
        self.uni = (
            np.zeros(n_uni, dtype=np.int64),
            np.zeros(n_uni, dtype=np.int64),
            np.zeros(n_uni, dtype=np.int64),
            self._rank,
        )

    def stages(self) -> tuple[Stage, ...]:
        defs = self.options
        return (
            lambda chunks: with_option_mids(defs, chunks, self.counts),
            lambda items: with_option_ivs(self.cfg, defs, items),
        )

    # ------------------------------------------------------------------ counters
    @property
    def next_k(self) -> int:
        return int(self.st[K.ST_K])

    def counters(self) -> EngineCounters:
        return EngineCounters(
            events=dict(self.counts.events),
            last_event_ts=self.counts.last_event_ts,
            snaps=self.next_k,
            snaps_with_rows=int(self.st[K.ST_WITH_ROWS]),
            sequence_gaps=self.counts.sequence_gaps,
            stale_book_snaps=int(self.st[K.ST_STALE]),
            unscored_snaps=int(self.st[K.ST_UNSCORED]),
            option_iv_out_of_band=int(self.fz[3].sum()),
            option_universe=len(self.options),
            market=self.market.counters(),
        )

    # ------------------------------------------------------------------ driving
    def feed(self, item: tuple[MergedChunk, tuple]) -> None:
        """Fold a prepared chunk (the chunk, and its option trades from ``with_option_ivs``),
        scoring every snap whose time the chunk has passed. The chunk was counted into
        ``counts`` by ``with_option_mids``."""
        chunk, opt = item
        if len(chunk.new_options):
            if chunk.new_options_ts is not None:  # snaps before the arrival, without it
                self.close(chunk.new_options_ts - 1)
            self._set_options(chunk.new_options)
        if len(chunk) == 0:
            return
        d, t = chunk.depth, chunk.trades
        dep = (
            _c(d.ts_recv, np.int64),
            _c(d.flags, np.uint8),
            _c(d.levels, np.int64),
        )
        trd = (
            _c(t.ts_recv, np.int64),
            _c(t.price, np.int64),
            _c(t.size, np.int64),
            _c(t.side, np.uint8),
        )
        self.st[[K.ST_PD, K.ST_PT, K.ST_PO]] = 0
        self._drive(dep, trd, opt, final=False)

    def _score_through(self, k_last: int) -> None:
        """The kernel's final mode: score snaps through ``k_last``, folding nothing."""
        if k_last < self.next_k:
            return
        self.pi[C.P_K_LAST] = k_last
        z = np.zeros(0, dtype=np.int64)
        zu = np.zeros(0, dtype=np.uint8)
        dep = (z, zu, np.zeros((0, 4, 10), dtype=np.int64))
        trd = (z, z, z, zu)
        opt = (z, z, z, zu, np.zeros(0), np.zeros(0, dtype=np.bool_))
        self._drive(dep, trd, opt, final=True)

    def _drive(self, dep: tuple, trd: tuple, opt: tuple, *, final: bool) -> None:
        self.pi[C.P_FINAL] = 1 if final else 0
        while True:
            status = K.run(
                self.pi,
                self.pf,
                self.st,
                self.cx,
                self.closes,
                self.lv,
                self.market.kernel_arrays(),
                dep,
                trd,
                opt,
                self.fz,
                self.gs,
                self.gsc,
                self.uni,
                self.slots,
                self.lvs,
                self.ring,
                self.scr,
                self.out,
            )
            if status == K.NEED_INPUT:
                return
            self._serve(status)

    def _serve(self, status: int) -> None:
        if status == K.FLUSH:
            self._flush()
        elif status == K.GROW_DLOG:
            self.market.grow_depth_log()
        elif status == K.GROW_TRADES:
            self.market.grow_trade_buffers(int(self.st[K.ST_NEED]))
        elif status == K.PREPARE_CLOSE:
            self.market.prepare_close(int(self.st[K.ST_TARGET]))
        elif status == K.GROW_SLOTS:
            self.lvs = tuple(_grow(a) for a in self.lvs)  # type: ignore[assignment]
            self.slots = tuple(_grow(a) for a in self.slots)  # type: ignore[assignment]
        elif status == K.GROW_OUT:
            self._out_cap *= 2
            self.out = tuple(_grow(a.T).T.copy() for a in self.out)  # type: ignore[assignment]
        else:
            raise RuntimeError(f"fast replay kernel failed (status {status}, {self.st.tolist()})")

    def _deliver(self) -> None:
        self._flush()

    def _flush(self) -> None:
        n = int(self.st[K.ST_NOUT])
        if n == 0:
            return
        oi, ox = self.out
        # copies: the sink may keep the block while the kernel refills the output arrays
        self.sink.put(self.decoder.decode(oi[:, :n].copy(), ox[:, :n].copy()))
        self.st[K.ST_NOUT] = 0


def _grow(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] * 2,) + a.shape[1:], dtype=a.dtype)
    out[: a.shape[0]] = a
    return out
