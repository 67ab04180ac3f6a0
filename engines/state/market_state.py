"""MarketState: folds the primary future's depth and trades into per-bucket window sums (SPEC §5.1).

Why it looks the way it does
----------------------------
* **Two streams, one bucket.** ``filled_p = min(removed_p, passive_p)`` needs the depth *and* the
  trades of a bucket, but the driver hands each chunk's depth slice and trade slice in separate
  calls. So folds never close buckets themselves: they append per-record contributions
  ``(bucket, side, price, size)`` to a small pending log per stream (both bucket-sorted), and a
  bucket is *closed* (aggregated per price, fills split, added to the running window sums) only
  when it is provably complete: by ``advance_to(T_k)`` (the driver promises every event
  ``<= T_k`` is folded), by ``fold(depth, trades)`` (both slices of a chunk are in, so every bucket
  before the chunk's last event is complete), or automatically for buckets older than *both*
  streams' latest bucket. Because per-bucket sums commute, the result is identical whatever the
  chunking and whatever the order of the two calls within a chunk.
* **O(active levels x zone prices) per snap.** Closing a bucket adds one sparse *entry* per price
  touched in that bucket to running window sums (one set per configured window: W_b and W_t) and
  subtracts entries that fall out of each window (one cursor per window into the entry ring). A
  zone query then reads ``2·z/tick + 1`` dense slots. Entries older than ``cfg.ring_buckets`` are
  purged by bucket index, so memory is bounded by the window, never by the session.
* **Per-price storage: a dense array over the tick grid that re-centres (and grows) when a price
  falls outside it**, plus a small side table keyed by exact int64 price for prices that are not a
  multiple of the tick (never in real ES data; kept correct for synthetic data). Dense beats a
  sorted map here: a closed price interval ``[lo, hi]`` maps to one contiguous slot range
  (``ceil(lo/tick) .. floor(hi/tick)``), so off-grid *levels* (VWAP 6879.625) need nothing special.
  Re-centring copies the slots still referenced by live entries, so nothing in a window is lost;
  it happens a few times a day at most.
* **Exact sums.** Σ px·size overflows int64 over a day (7e12 x 3e6), so VWAP and sweep notionals
  are kept as two int64 sums over ``px = q·1e9 + r`` (``q = px // 1e9``, ``0 <= r < 1e9``):
  Σ q·size and Σ r·size, each far from overflow for any realistic session (< 9e9 contracts), and
  recombined exactly with Python ints at query time.
* **Book.** Depth flow uses every record (``F_LAST`` or not). The *current* book is the last record
  with ``F_LAST``; until the session has shown its first ``F_LAST`` record, every record becomes the
  current book ("never sets it" is decided *so far*, never with hindsight, so a chunk boundary
  cannot change it). Each record that becomes the current book is classified: two-sided with
  bid < ask is *valid* and becomes the quoted book; otherwise it counts as crossed (bid > ask),
  locked (bid == ask) or one-sided (either best level empty, including an empty book) and the last
  valid book stays quoted.

All sequential work runs in numba kernels over numpy arrays, one module per job: ``layout`` (the
arrays' fields and slots), ``depth_fold``, ``trade_fold`` and ``windows`` (bucket close and zone
queries); the Python methods here only check arguments and grow buffers (doubling, restartable
kernels).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from engines.contract.config import PRICE_SCALE, EngineConfig
from engines.contract.events import F_LAST, N_LEVELS, UNDEF_PRICE, DepthBatch, TradeBatch
from engines.state import layout as L
from engines.state.depth_fold import _classify, _fold_depth_kernel, _mid_path_kernel
from engines.state.trade_fold import _fold_trades_kernel, _sweep_kernel, _velocity_kernel
from engines.state.windows import _close_kernel, _live_range_kernel, _prepass_kernel, _query_kernel


# =====================================================================================
# Python API
# =====================================================================================
@dataclass(frozen=True)
class Book:
    """Top-10 book (int64 arrays of length 10, level 0 best); empty level = UNDEF_PRICE, size 0."""

    bid_px: np.ndarray
    ask_px: np.ndarray
    bid_sz: np.ndarray
    ask_sz: np.ndarray


@dataclass(frozen=True)
class Sweep:
    """One sweep cluster: side is the aggressor byte (B or A); notional in exact 1e-9 units."""

    side: int
    start_ns: int
    end_ns: int
    size: int
    num_prints: int
    min_px: int
    max_px: int
    notional_units: int  # Σ px·size, exact (units·contracts)


class MarketState:
    """Explicit, deep-copyable state of the primary future for one session (SPEC §5.1)."""

    def __init__(self, cfg: EngineConfig, t0_ns: int) -> None:
        """Use :meth:`create`."""
        w_b = cfg.window_buckets(cfg.barrier_window_s)
        w_t = cfg.window_buckets(cfg.tape_window_s)
        self.cfg = cfg
        meta = np.zeros(L.N_META, dtype=np.int64)
        meta[L.M_T0] = t0_ns
        meta[L.M_SNAP] = cfg.snap_ns
        meta[L.M_TICK] = cfg.tick_units
        meta[L.M_NGRID] = L._INIT_GRID
        meta[L.M_ODD_CAP] = 0
        meta[L.M_CLOSED] = -1
        meta[L.M_W0] = w_b
        meta[L.M_W1] = w_t
        meta[L.M_RING] = cfg.ring_buckets
        meta[L.M_LAST_DB] = -1
        meta[L.M_LAST_TB] = -1
        meta[L.M_VEL_NS] = cfg.window_buckets(cfg.velocity_window_s) * cfg.snap_ns
        meta[L.M_TAPE_NS] = w_t * cfg.snap_ns
        meta[L.M_GAP_NS] = cfg.sweep_max_gap_ns
        meta[L.M_SW_MIN] = cfg.sweep_min_size
        meta[L.M_ENT_CAP] = 1024
        meta[L.M_VR_CAP] = 256
        meta[L.M_SW_CAP] = 16
        self._meta = meta
        self._books = np.zeros((3, 4, N_LEVELS), dtype=np.int64)
        self._books[:, L.K_BPX, :] = UNDEF_PRICE
        self._books[:, L.K_APX, :] = UNDEF_PRICE
        self._dlog = np.zeros((4096, 4), dtype=np.int64)
        self._tlog = np.zeros((1024, 4), dtype=np.int64)
        s = L._INIT_GRID
        self._sums = np.zeros((2, s, L.N_FIELDS), dtype=np.int64)  # price-major: one slot's fields
        self._scratch = np.zeros((s, L.N_FIELDS), dtype=np.int64)  # share a cache line or two
        self._mark = np.zeros(s, dtype=np.int8)
        self._touched = np.zeros(s, dtype=np.int64)
        self._odd_px = np.zeros(0, dtype=np.int64)
        self._ent_b = np.zeros(1024, dtype=np.int64)
        self._ent_px = np.zeros(1024, dtype=np.int64)
        self._ent_v = np.zeros((1024, L.N_FIELDS), dtype=np.int64)
        self._vr_ts = np.zeros(256, dtype=np.int64)
        self._vr_px = np.zeros(256, dtype=np.int64)
        self._sw = np.zeros((16, L.N_SW), dtype=np.int64)

    @classmethod
    def create(cls, cfg: EngineConfig, t0_ns: int) -> MarketState:
        """Empty state for a session whose snap clock starts at ``t0_ns`` (SPEC §2.4)."""
        if cfg.tick_units <= 0:
            raise ValueError("tick_units must be > 0")
        return cls(cfg, int(t0_ns))

    def copy(self) -> MarketState:
        """Independent deep copy (e.g. to score a what-if without disturbing the replay)."""
        return copy.deepcopy(self)

    # ------------------------------------------------------------------ clock
    @property
    def t0_ns(self) -> int:
        return int(self._meta[L.M_T0])

    def bucket_of(self, ts_ns: int) -> int:
        """Bucket index: 0 for ts <= T_0, else k with T_{k-1} < ts <= T_k."""
        return int(L._bucket(np.int64(ts_ns), self._meta[L.M_T0], self._meta[L.M_SNAP]))

    @property
    def closed_bucket(self) -> int:
        """Last closed bucket (-1 before any): window queries end here."""
        return int(self._meta[L.M_CLOSED])

    @property
    def now_ns(self) -> int | None:
        """Snap time of the last closed bucket (the "T" of window queries), None before any."""
        k = int(self._meta[L.M_CLOSED])
        return None if k < 0 else int(self._meta[L.M_T0] + k * self._meta[L.M_SNAP])

    def _check_after_closed(self, ts: np.ndarray, what: str) -> None:
        if ts.shape[0] and self._meta[L.M_CLOSED] >= 0:
            t_closed = int(self._meta[L.M_T0] + self._meta[L.M_CLOSED] * self._meta[L.M_SNAP])
            if int(ts[0]) <= t_closed:
                raise ValueError(
                    f"{what}: event ts_recv {int(ts[0])} <= {t_closed}, the end of an already "
                    f"closed bucket; events must be folded before advance_to() passes them"
                )

    # ------------------------------------------------------------------ folding
    def fold_depth(self, batch: DepthBatch) -> None:
        """Fold MBP-10 records (the next ones in merged order) into flow and book."""
        n = len(batch)
        if n == 0:
            return
        self._check_after_closed(batch.ts_recv, "fold_depth")
        ts = np.ascontiguousarray(batch.ts_recv, dtype=np.int64)
        flags = np.ascontiguousarray(batch.flags, dtype=np.uint8)
        lv = np.ascontiguousarray(batch.levels, dtype=np.int64)
        r = 0
        while True:
            r = _fold_depth_kernel(self._meta, self._books, self._dlog, ts, flags, lv, r)
            if r >= n:
                break
            self.grow_depth_log()
        self._auto_close()

    def fold_trades(self, batch: TradeBatch) -> None:
        """Fold primary-future trades (the next ones in merged order)."""
        n = len(batch)
        if n == 0:
            return
        self._check_after_closed(batch.ts_recv, "fold_trades")
        ts = np.ascontiguousarray(batch.ts_recv, dtype=np.int64)
        px = np.ascontiguousarray(batch.price, dtype=np.int64)
        sz = np.ascontiguousarray(batch.size, dtype=np.int64)
        sd = np.ascontiguousarray(batch.side, dtype=np.uint8)
        r = 0
        while True:
            r, need = _fold_trades_kernel(
                self._meta, self._tlog, self._vr_ts, self._vr_px, self._sw, ts, px, sz, sd, r
            )
            if r >= n:
                break
            self.grow_trade_buffers(int(need))
        self._auto_close()

    def grow_depth_log(self) -> None:
        """Double the pending depth-contribution log (a fold kernel stopped on it)."""
        self._dlog = _grow_rows(self._dlog, int(self._meta[L.M_DLOG_N]))

    def grow_trade_buffers(self, need: int) -> None:
        """Grow what the trade fold kernel asked for: 1 log, 2 velocity ring, 4 sweep ring."""
        m = self._meta
        if need & 1:
            self._tlog = _grow_rows(self._tlog, int(m[L.M_TLOG_N]))
        if need & 2:
            self._vr_ts, self._vr_px = _grow_ring(
                (self._vr_ts, self._vr_px), m, L.M_VR_HEAD, L.M_VR_TAIL, L.M_VR_CAP
            )
        if need & 4:
            (self._sw,) = _grow_ring((self._sw,), m, L.M_SW_HEAD, L.M_SW_TAIL, L.M_SW_CAP)

    def kernel_arrays(self) -> tuple:
        """The state arrays in the order ``engines.fast.snap_kernel.run`` takes them (re-read after
        any grow / prepare_close: those replace arrays)."""
        return (
            self._meta,
            self._books,
            self._dlog,
            self._tlog,
            self._vr_ts,
            self._vr_px,
            self._sw,
            self._scratch,
            self._mark,
            self._touched,
            self._sums,
            self._odd_px,
            (self._ent_b, self._ent_px, self._ent_v),
        )

    def fold(self, depth: DepthBatch, trades: TradeBatch) -> None:
        """Fold one merged chunk (both slices); closes the buckets before its last event."""
        self.fold_depth(depth)
        self.fold_trades(trades)
        last = max(int(self._meta[L.M_LAST_DB]), int(self._meta[L.M_LAST_TB]))
        if last - 1 > self._meta[L.M_CLOSED]:
            self._close_through(last - 1)

    def advance_to(self, t_snap_ns: int) -> None:
        """Close every bucket up to the snap at ``t_snap_ns`` so window queries see snap T.

        Contract: every event with ts_recv <= t_snap_ns has been folded already.
        """
        t0 = int(self._meta[L.M_T0])
        snap = int(self._meta[L.M_SNAP])
        t = int(t_snap_ns)
        if t < t0 or (t - t0) % snap != 0:
            raise ValueError(f"advance_to({t}): not a snap time T_0 + k·{snap} (T_0 = {t0})")
        k = (t - t0) // snap
        if k > self._meta[L.M_CLOSED]:
            self._close_through(k)

    def _auto_close(self) -> None:
        # Buckets older than both streams' latest bucket can receive nothing more.
        safe = min(int(self._meta[L.M_LAST_DB]), int(self._meta[L.M_LAST_TB])) - 1
        if safe > self._meta[L.M_CLOSED]:
            self._close_through(safe)

    def _close_through(self, target: int) -> None:
        self.prepare_close(target)
        m = self._meta
        _close_kernel(
            m,
            self._dlog,
            self._tlog,
            self._scratch,
            self._mark,
            self._touched,
            self._sums,
            self._odd_px,
            self._ent_b,
            self._ent_px,
            self._ent_v,
            np.int64(target),
        )

    def prepare_close(self, target: int) -> None:
        """Grow / re-centre the buffers so that closing buckets <= target fits (rare)."""
        m = self._meta
        lo, hi, n_odd, n_odd_all, n_contrib = _prepass_kernel(
            m, self._dlog, self._tlog, self._odd_px, target
        )
        if n_contrib:
            lo, hi = int(lo), int(hi)
            base, ng = int(m[L.M_BASE]), int(m[L.M_NGRID])
            grid_bad = lo <= hi and (m[L.M_GRID_INIT] == 0 or lo < base or hi >= base + ng)
            odd_bad = int(m[L.M_ODD_N]) + int(n_odd) > int(m[L.M_ODD_CAP])
            if grid_bad or odd_bad:
                self._reslot(lo, hi, int(n_odd_all))
            live = int(m[L.M_ENT_TAIL] - m[L.M_ENT_HEAD])
            if live + int(n_contrib) > int(m[L.M_ENT_CAP]):
                cap = int(m[L.M_ENT_CAP])
                while cap < live + int(n_contrib):
                    cap *= 2
                self._ent_b, self._ent_px, self._ent_v = _grow_ring(
                    (self._ent_b, self._ent_px, self._ent_v),
                    m,
                    L.M_ENT_HEAD,
                    L.M_ENT_TAIL,
                    L.M_ENT_CAP,
                    cap,
                )

    def _reslot(self, lo: int, hi: int, n_odd_pending: int) -> None:
        """Re-centre/grow the dense grid and compact/grow the off-grid table (rare)."""
        m = self._meta
        live_lo, live_hi, live_odd = _live_range_kernel(m, self._ent_px)
        lo_all, hi_all = lo, hi
        if lo > hi:  # pending has only off-grid prices
            lo_all, hi_all = int(live_lo), int(live_hi)
        else:
            if live_lo <= live_hi:
                lo_all, hi_all = min(lo, int(live_lo)), max(hi, int(live_hi))
        old_base, old_ng = int(m[L.M_BASE]), int(m[L.M_NGRID])
        new_ng = old_ng
        if lo_all <= hi_all:
            span = hi_all - lo_all + 1
            while new_ng < 2 * span:
                new_ng *= 2
            in_range = m[L.M_GRID_INIT] == 1 and lo_all >= old_base and hi_all < old_base + old_ng
            new_base = old_base if in_range else (lo_all + hi_all) // 2 - new_ng // 2
        else:
            new_base = old_base
        kept_odd = np.asarray(live_odd, dtype=np.int64)
        need_odd = len(kept_odd) + n_odd_pending  # compaction may drop pending prices: re-added
        new_odd_cap = max(int(m[L.M_ODD_CAP]), 16)
        while new_odd_cap < need_odd:
            new_odd_cap *= 2
        s_new = new_ng + new_odd_cap
        sums = np.zeros((2, s_new, L.N_FIELDS), dtype=np.int64)
        # grid overlap
        if m[L.M_GRID_INIT] == 1:
            a = max(old_base, new_base)
            z = min(old_base + old_ng, new_base + new_ng)
            if a < z:
                sums[:, a - new_base : z - new_base] = self._sums[:, a - old_base : z - old_base]
        # off-grid columns still referenced by live entries
        old_odd = self._odd_px[: int(m[L.M_ODD_N])]
        odd_px = np.zeros(new_odd_cap, dtype=np.int64)
        for j, p in enumerate(kept_odd):
            odd_px[j] = p
            k = int(np.nonzero(old_odd == p)[0][0])
            sums[:, new_ng + j] = self._sums[:, old_ng + k]
        self._sums = sums
        self._scratch = np.zeros((s_new, L.N_FIELDS), dtype=np.int64)
        self._mark = np.zeros(s_new, dtype=np.int8)
        self._touched = np.zeros(s_new, dtype=np.int64)
        self._odd_px = odd_px
        m[L.M_BASE] = new_base
        m[L.M_NGRID] = new_ng
        m[L.M_ODD_N] = len(kept_odd)
        m[L.M_ODD_CAP] = new_odd_cap
        m[L.M_GRID_INIT] = 1

    # ------------------------------------------------------------------ window queries
    def window_fields(
        self, lo_px: np.ndarray, hi_px: np.ndarray, window_buckets: int
    ) -> np.ndarray:
        """All N_FIELDS window sums for many closed intervals at once: int64 (m, N_FIELDS).

        The window is the last ``window_buckets`` closed buckets (k - w, k], k = closed_bucket.
        The configured W_b and W_t windows read running sums (O(prices in interval)); any other
        window up to ``cfg.ring_buckets`` scans the retained entries.
        """
        wb = int(window_buckets)
        if wb <= 0 or wb > int(self._meta[L.M_RING]):
            raise ValueError(f"window_buckets {wb} outside 1..{int(self._meta[L.M_RING])}")
        lo = np.ascontiguousarray(lo_px, dtype=np.int64).reshape(-1)
        hi = np.ascontiguousarray(hi_px, dtype=np.int64).reshape(-1)
        out = np.zeros((lo.shape[0], L.N_FIELDS), dtype=np.int64)
        _query_kernel(
            self._meta,
            self._sums,
            self._odd_px,
            self._ent_b,
            self._ent_px,
            self._ent_v,
            lo,
            hi,
            np.int64(wb),
            out,
        )
        return out

    def window_depth(
        self, side: str, lo_px: int, hi_px: int, window_buckets: int
    ) -> tuple[int, int, int]:
        """(added, canceled, filled) on ``side`` ("bid"/"ask") over prices in [lo_px, hi_px]."""
        row = self.window_fields(np.array([lo_px]), np.array([hi_px]), window_buckets)[0]
        if side == "bid":
            return int(row[L.F_BID_ADD]), int(row[L.F_BID_CXL]), int(row[L.F_BID_FILL])
        if side == "ask":
            return int(row[L.F_ASK_ADD]), int(row[L.F_ASK_CXL]), int(row[L.F_ASK_FILL])
        raise ValueError(f"side must be 'bid' or 'ask', not {side!r}")

    def window_trades(self, lo_px: int, hi_px: int, window_buckets: int) -> tuple[int, int]:
        """(buy_vol, sell_vol): aggressor B / A size at prices in [lo_px, hi_px]."""
        row = self.window_fields(np.array([lo_px]), np.array([hi_px]), window_buckets)[0]
        return int(row[L.F_BUY_VOL]), int(row[L.F_SELL_VOL])

    def velocity(self) -> float:
        """Least-squares slope (points/s) of the prints in the last W_v before now (0 if none)."""
        now = self.now_ns
        if now is None:
            return 0.0
        return float(_velocity_kernel(self._meta, self._vr_ts, self._vr_px, np.int64(now)))

    def best_sweep(self, lo_px: int, hi_px: int) -> Sweep | None:
        """Largest-notional sweep ending in (now - W_t, now] whose price range meets [lo, hi]."""
        now = self.now_ns
        if now is None:
            return None
        out = np.zeros(L.N_SW, dtype=np.int64)
        if not _sweep_kernel(self._meta, self._sw, np.int64(now), lo_px, hi_px, out):
            return None
        return Sweep(
            side=int(out[L.S_SIDE]),
            start_ns=int(out[L.S_START]),
            end_ns=int(out[L.S_END]),
            size=int(out[L.S_SIZE]),
            num_prints=int(out[L.S_N]),
            min_px=int(out[L.S_MIN]),
            max_px=int(out[L.S_MAX]),
            notional_units=int(out[L.S_NH]) * PRICE_SCALE + int(out[L.S_NL]),
        )

    # ------------------------------------------------------------------ book and trades
    def book(self) -> Book | None:
        """The quoted book: last valid two-sided current book (copies), None before any."""
        if self._meta[L.M_HAS_VALID] == 0:
            return None
        b = self._books[L.B_VALID]
        return Book(b[L.K_BPX].copy(), b[L.K_APX].copy(), b[L.K_BSZ].copy(), b[L.K_ASZ].copy())

    @property
    def book_is_current(self) -> bool:
        """True when the current (F_LAST) book is itself valid, i.e. the quote is not stale."""
        m = self._meta
        if m[L.M_HAS_CUR] == 0:
            return False
        b = self._books[L.B_CUR]
        return _classify(b[L.K_BPX, 0], b[L.K_BSZ, 0], b[L.K_APX, 0], b[L.K_ASZ, 0]) == 0

    def bid(self) -> int | None:
        return None if self._meta[L.M_HAS_VALID] == 0 else int(self._books[L.B_VALID, L.K_BPX, 0])

    def ask(self) -> int | None:
        return None if self._meta[L.M_HAS_VALID] == 0 else int(self._books[L.B_VALID, L.K_APX, 0])

    def mid(self) -> int | None:
        """(bid + ask) // 2 of the quoted book, in int64 units."""
        if self._meta[L.M_HAS_VALID] == 0:
            return None
        return (
            int(self._books[L.B_VALID, L.K_BPX, 0]) + int(self._books[L.B_VALID, L.K_APX, 0])
        ) // 2

    def spot(self) -> int | None:
        """Last trade price; the quoted mid before the first trade; None when neither exists."""
        if self._meta[L.M_N_TRADES] > 0:
            return int(self._meta[L.M_LAST_PX])
        return self.mid()

    def last_trade_px(self) -> int | None:
        return int(self._meta[L.M_LAST_PX]) if self._meta[L.M_N_TRADES] > 0 else None

    def vwap(self) -> int | None:
        """Session VWAP floored to an int64 unit, from exact integer sums; None before a trade."""
        m = self._meta
        size = int(m[L.M_VW_SIZE])
        if size <= 0:
            return None
        total = int(m[L.M_VW_HI]) * PRICE_SCALE + int(m[L.M_VW_LO])
        return total // size

    def vwap_sums(self) -> tuple[int, int]:
        """(Σ px·size exactly, Σ size) as Python ints."""
        m = self._meta
        return int(m[L.M_VW_HI]) * PRICE_SCALE + int(m[L.M_VW_LO]), int(m[L.M_VW_SIZE])

    def session_high(self) -> int | None:
        return int(self._meta[L.M_HIGH]) if self._meta[L.M_N_TRADES] > 0 else None

    def session_low(self) -> int | None:
        return int(self._meta[L.M_LOW]) if self._meta[L.M_N_TRADES] > 0 else None

    def counters(self) -> dict[str, int]:
        """Data-quality and volume counters for the manifest."""
        m = self._meta
        return {
            "depth_records": int(m[L.M_N_DEPTH]),
            "trades": int(m[L.M_N_TRADES]),
            "crossed_books": int(m[L.M_N_CROSSED]),
            "locked_books": int(m[L.M_N_LOCKED]),
            "one_sided_books": int(m[L.M_N_ONESIDED]),
            "undefined_price_trades": int(m[L.M_N_BAD_TRADES]),
        }

    # ------------------------------------------------------------------ option pricing helper
    def mid_at(self, ts: np.ndarray, depth: DepthBatch) -> np.ndarray:
        """Quoted mid at each ``ts`` given the *pre-fold* state and the chunk's depth slice.

        For each ts: mid (bid + ask) // 2 of the last valid current book among records with
        ts_recv <= ts (this chunk's, else the state's), -1 when there is none. Does not mutate.
        """
        mid0 = self.mid()
        return quoted_mid_at(
            -1 if mid0 is None else mid0, int(self._meta[L.M_SEEN_FLAST]), ts, depth
        )[0]


def quoted_mid_at(mid0: int, seen0: int, ts: np.ndarray, depth: DepthBatch) -> tuple:
    """MarketState.mid_at from just (quoted mid, F_LAST seen) before ``depth``.

    Returns (mid at each ts, mid after the batch, seen after the batch), so a reader thread can
    track the quote alone, ahead of the engines.
    """
    q = np.ascontiguousarray(ts, dtype=np.int64)
    n = len(depth)
    if n == 0:
        return np.full(q.shape[0], mid0, dtype=np.int64), mid0, seen0
    flags = np.ascontiguousarray(depth.flags, dtype=np.uint8)
    path = np.empty(n, dtype=np.int64)
    _mid_path_kernel(
        np.int64(mid0),
        np.int64(seen0),
        flags,
        np.ascontiguousarray(depth.levels, dtype=np.int64),
        path,
    )
    idx = np.searchsorted(depth.ts_recv, q, side="right") - 1
    mids = np.where(idx >= 0, path[np.maximum(idx, 0)], np.int64(mid0)).astype(np.int64)
    seen = 1 if seen0 or bool(np.any(flags & F_LAST)) else 0
    return mids, int(path[-1]), seen


def _grow_rows(a: np.ndarray, used: int) -> np.ndarray:
    out = np.zeros((a.shape[0] * 2,) + a.shape[1:], dtype=a.dtype)
    out[:used] = a[:used]
    return out


def _grow_ring(
    arrays: tuple[np.ndarray, ...],
    meta: np.ndarray,
    i_head: int,
    i_tail: int,
    i_cap: int,
    new_cap: int | None = None,
) -> tuple[np.ndarray, ...]:
    """Re-lay a ring (monotone head/tail counters, slot = counter % cap) at a larger capacity."""
    old_cap = int(meta[i_cap])
    cap = new_cap if new_cap is not None else old_cap * 2
    ctr = np.arange(int(meta[i_head]), int(meta[i_tail]), dtype=np.int64)
    out = []
    for a in arrays:
        b = np.zeros((cap,) + a.shape[1:], dtype=a.dtype)
        b[ctr % cap] = a[ctr % old_cap]
        out.append(b)
    meta[i_cap] = cap
    return tuple(out)


__all__ = ["Book", "MarketState", "Sweep", "quoted_mid_at"]
