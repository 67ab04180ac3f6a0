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

All sequential work runs in numba kernels over numpy arrays; the Python methods only check
arguments and grow buffers (doubling, restartable kernels).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from numba import njit

from engines.contract.config import PRICE_SCALE, EngineConfig
from engines.contract.events import (
    F_LAST,
    LV_ASK_PX,
    LV_ASK_SZ,
    LV_BID_PX,
    LV_BID_SZ,
    N_LEVELS,
    SIDE_ASK,
    SIDE_BID,
    SIDE_NONE,
    UNDEF_PRICE,
    DepthBatch,
    TradeBatch,
)
from engines.jit.borrowing_jit import borrowing_njit

# ----- per-(bucket, price) entry fields (also the columns of the window sums) -----
F_BID_ADD = 0
F_BID_CXL = 1  # while a bucket is open (scratch) this column holds bid *removed*
F_BID_FILL = 2
F_ASK_ADD = 3
F_ASK_CXL = 4  # scratch: ask removed
F_ASK_FILL = 5
F_BUY_VOL = 6  # aggressor B (lifted the ask)  -> passive for the ask side
F_SELL_VOL = 7  # aggressor A (hit the bid)    -> passive for the bid side
F_BUY_CNT = 8
F_SELL_CNT = 9
F_NONE_VOL = 10
F_NONE_CNT = 11
N_FIELDS = 12

# ----- meta: every scalar of the state, in one int64 array the kernels can mutate -----
M_T0 = 0
M_SNAP = 1
M_TICK = 2
M_BASE = 3  # grid slot 0 is price M_BASE * tick
M_NGRID = 4
M_ODD_N = 5
M_ODD_CAP = 6
M_CLOSED = 7  # last closed bucket (-1: none)
M_ENT_HEAD = 8
M_ENT_TAIL = 9
M_ENT_CAP = 10
M_CUR0 = 11  # first entry not yet subtracted from window 0 (barrier)
M_CUR1 = 12  # ... window 1 (tape)
M_W0 = 13
M_W1 = 14
M_RING = 15
M_DLOG_N = 16
M_TLOG_N = 17
M_LAST_DB = 18  # bucket of the last folded depth record (-1)
M_LAST_TB = 19  # bucket of the last folded trade (-1)
M_HAVE_PREV = 20
M_SEEN_FLAST = 21
M_HAS_CUR = 22
M_HAS_VALID = 23
M_N_CROSSED = 24
M_N_LOCKED = 25
M_N_ONESIDED = 26
M_N_DEPTH = 27
M_N_TRADES = 28
M_VW_HI = 29
M_VW_LO = 30
M_VW_SIZE = 31
M_HIGH = 32
M_LOW = 33
M_LAST_PX = 34
M_LAST_TS = 35
M_VR_HEAD = 36
M_VR_TAIL = 37
M_VR_CAP = 38
M_VEL_NS = 39
M_TAPE_NS = 40
M_GAP_NS = 41
M_SW_MIN = 42
M_CL_ACTIVE = 43
M_CL_SIDE = 44
M_CL_START = 45
M_CL_END = 46
M_CL_SIZE = 47
M_CL_N = 48
M_CL_MIN = 49
M_CL_MAX = 50
M_CL_NH = 51
M_CL_NL = 52
M_SW_HEAD = 53
M_SW_TAIL = 54
M_SW_CAP = 55
M_GRID_INIT = 56
M_N_BAD_TRADES = 57
M_LAST_DTS = 58
N_META = 59

# sweep ring columns
S_START = 0
S_END = 1
S_SIDE = 2
S_SIZE = 3
S_N = 4
S_MIN = 5
S_MAX = 6
S_NH = 7
S_NL = 8
N_SW = 9

# book planes: books[which, field, level]
B_PREV = 0  # previous record (any flags): depth-flow reference
B_CUR = 1  # current book (F_LAST rule), possibly invalid
B_VALID = 2  # last valid two-sided book: the quoted one
K_BPX = LV_BID_PX  # the planes of one record, as in DepthBatch.levels
K_APX = LV_ASK_PX
K_BSZ = LV_BID_SZ
K_ASZ = LV_ASK_SZ

_BIG = np.iinfo(np.int64).max
_MAX_CONTRIB_PER_RECORD = 4 * N_LEVELS  # <= 20 distinct prices per side, two sides
_INIT_GRID = 4096  # ticks: 1024 ES points


# =====================================================================================
# kernels
# =====================================================================================
@borrowing_njit
def _bucket(ts: int, t0: int, snap: int) -> int:
    if ts <= t0:
        return 0
    return (ts - t0 + snap - 1) // snap


@borrowing_njit
def _canon(lv, r, side, sgn):  # type: ignore[no-untyped-def]
    """Non-empty level count, and whether they form a prefix sorted best-first (fast path)."""
    c = 0
    ok = True
    for k in range(N_LEVELS):
        p = lv[r, side, k]
        if p != UNDEF_PRICE and lv[r, side + 2, k] > 0:
            if c != k or (k > 0 and sgn * p >= sgn * lv[r, side, k - 1]):
                ok = False
            c += 1
    return c, ok


@borrowing_njit
def _log(dlog, dn, bucket, side, p, d):  # type: ignore[no-untyped-def]
    dlog[dn, 0] = bucket
    dlog[dn, 1] = side
    dlog[dn, 2] = p
    dlog[dn, 3] = d
    return dn + 1


@njit(cache=True, inline="always")  # inlined at numba IR level: called once per record
def _mono(lv, r, side, sgn):  # type: ignore[no-untyped-def]
    """The defined prices of one side strictly better-first (duplicates and disorder fail)."""
    has_last = False
    last_q = 0
    for k in range(N_LEVELS):
        p = lv[r, side, k]
        if p != UNDEF_PRICE:
            if has_last and sgn * p >= last_q:
                return False
            last_q = sgn * p
            has_last = True
    return True


@njit(cache=True, inline="always")  # inlined at numba IR level: called once per record
def _size_flow(pv, pr, nv, nr, side, bucket, dlog, dn):  # type: ignore[no-untyped-def]
    """Same prices, sizes moved: one contribution per level whose (non-negative) size changed."""
    zs = side + 2
    for k in range(N_LEVELS):
        p = nv[nr, side, k]
        a = pv[pr, zs, k]
        z = nv[nr, zs, k]
        if a != z and p != UNDEF_PRICE:
            d = (z if z > 0 else 0) - (a if a > 0 else 0)
            if d != 0:
                dlog[dn, 0] = bucket
                dlog[dn, 1] = side
                dlog[dn, 2] = p
                dlog[dn, 3] = d
                dn += 1
    return dn


@borrowing_njit
def _side_flow(pv, pr, nv, nr, side, bucket, dlog, dn):  # type: ignore[no-untyped-def]
    """Append the per-price size changes of one side between two records (SPEC §5.1).

    Records are rows of (rows, 4, 10) level blocks: ``pv[pr]`` before, ``nv[nr]`` after (a
    batch's ``DepthBatch.levels`` or MarketState's book planes). Prices are plane ``side``
    (0 bid, 1 ask), sizes plane ``side + 2``. Works in "q-space" q = sgn·px (bids sgn=+1, asks
    sgn=-1) where better is larger, so the visible range of a full side is q >= q(level 9) and
    the range inside both books is q >= max of the two bounds.
    """
    sgn = 1 - 2 * side
    zs = side + 2
    # fast path (most records): same prices, only sizes changed, no duplicate prices. Every
    # defined price is then >= (in q-space) the shared 10th price, so no range check is needed.
    same = True
    for k in range(N_LEVELS):
        if pv[pr, side, k] != nv[nr, side, k]:
            same = False
            break
    if same and _mono(nv, nr, side, sgn):
        return _size_flow(pv, pr, nv, nr, side, bucket, dlog, dn)
    cp, okp = _canon(pv, pr, side, sgn)
    cn, okn = _canon(nv, nr, side, sgn)
    has_bound = False
    bound = 0
    if cp == N_LEVELS:
        has_bound = True
        bound = sgn * pv[pr, side, N_LEVELS - 1]
    if cn == N_LEVELS:
        qb = sgn * nv[nr, side, N_LEVELS - 1]
        if not has_bound or qb > bound:
            bound = qb
        has_bound = True
    if okp and okn:
        i = 0
        j = 0
        while i < cp or j < cn:
            if j >= cn or (i < cp and sgn * pv[pr, side, i] > sgn * nv[nr, side, j]):
                p = pv[pr, side, i]
                d = -pv[pr, zs, i]
                i += 1
            elif i >= cp or sgn * nv[nr, side, j] > sgn * pv[pr, side, i]:
                p = nv[nr, side, j]
                d = nv[nr, zs, j]
                j += 1
            else:
                p = nv[nr, side, j]
                d = nv[nr, zs, j] - pv[pr, zs, i]
                i += 1
                j += 1
            if d != 0 and (not has_bound or sgn * p >= bound):
                dn = _log(dlog, dn, bucket, side, p, d)
        return dn
    # general path (unsorted levels, holes, duplicate prices): totals per distinct price
    for pass_ in range(2):
        for k in range(N_LEVELS):
            p = pv[pr, side, k] if pass_ == 0 else nv[nr, side, k]
            if p == UNDEF_PRICE:
                continue
            seen = False
            for k2 in range(k):  # first occurrence within this list only
                if (pv[pr, side, k2] if pass_ == 0 else nv[nr, side, k2]) == p:
                    seen = True
                    break
            if not seen and pass_ == 1:
                for k2 in range(N_LEVELS):  # already handled while walking the prev list
                    if pv[pr, side, k2] == p and pv[pr, zs, k2] > 0:
                        seen = True
                        break
            if seen:
                continue
            tp = 0
            tn = 0
            for k2 in range(N_LEVELS):
                if pv[pr, side, k2] == p and pv[pr, zs, k2] > 0:
                    tp += pv[pr, zs, k2]
                if nv[nr, side, k2] == p and nv[nr, zs, k2] > 0:
                    tn += nv[nr, zs, k2]
            if pass_ == 0 and tp == 0:
                continue  # price shown with size 0 only: handle it from the new list, if at all
            d = tn - tp
            if d != 0 and (not has_bound or sgn * p >= bound):
                dn = _log(dlog, dn, bucket, side, p, d)
    return dn


@borrowing_njit
def _classify(bpx0, bsz0, apx0, asz0):  # type: ignore[no-untyped-def]
    """0 valid, 1 crossed, 2 locked, 3 one-sided (or empty)."""
    if bpx0 == UNDEF_PRICE or bsz0 <= 0 or apx0 == UNDEF_PRICE or asz0 <= 0:
        return 3
    if bpx0 > apx0:
        return 1
    if bpx0 == apx0:
        return 2
    return 0


@borrowing_njit
def _copy_row(books, plane, lv, r):  # type: ignore[no-untyped-def]
    for f in range(4):
        for k in range(N_LEVELS):
            books[plane, f, k] = lv[r, f, k]


@borrowing_njit
def _fold_depth_kernel(meta, books, dlog, ts, flags, lv, start):  # type: ignore[no-untyped-def]
    """Fold records [start, n): depth-flow contributions and the book. Returns where it stopped.

    The previous record is row r - 1 of the batch (the state's copy only for the first row), and
    the prev / current / valid book planes are written once at the end. The common case (a side
    whose prices are unchanged and well ordered, only sizes moved) is inline: a numba call per
    record costs more than the record's whole work.
    """
    t0 = meta[M_T0]
    snap = meta[M_SNAP]
    dn = meta[M_DLOG_N]
    cap = dlog.shape[0]
    n = ts.shape[0]
    seen = meta[M_SEEN_FLAST]
    last_cur = -1
    last_valid = -1
    r = start
    while r < n:
        if dn + _MAX_CONTRIB_PER_RECORD > cap:
            break
        b = _bucket(ts[r], t0, snap)
        if r > start:
            q = r - 1
            for side in range(2):
                zs = side + 2
                same_px = True
                same_sz = True
                for k in range(N_LEVELS):
                    if lv[q, side, k] != lv[r, side, k]:
                        same_px = False
                    if lv[q, zs, k] != lv[r, zs, k]:
                        same_sz = False
                if same_px and same_sz:
                    continue
                if same_px and _mono(lv, r, side, 1 - 2 * side):
                    dn = _size_flow(lv, q, lv, r, side, b, dlog, dn)
                else:
                    dn = _side_flow(lv, q, lv, r, side, b, dlog, dn)
        elif meta[M_HAVE_PREV] == 1:
            for side in range(2):
                dn = _side_flow(books, B_PREV, lv, r, side, b, dlog, dn)
        upd = False
        if flags[r] & F_LAST:
            seen = 1
            upd = True
        elif seen == 0:
            upd = True
        if upd:
            last_cur = r
            c = _classify(lv[r, K_BPX, 0], lv[r, K_BSZ, 0], lv[r, K_APX, 0], lv[r, K_ASZ, 0])
            if c == 0:
                last_valid = r
            elif c == 1:
                meta[M_N_CROSSED] += 1
            elif c == 2:
                meta[M_N_LOCKED] += 1
            else:
                meta[M_N_ONESIDED] += 1
        r += 1
    if r > start:
        _copy_row(books, B_PREV, lv, r - 1)
        meta[M_HAVE_PREV] = 1
        meta[M_N_DEPTH] += r - start
        meta[M_LAST_DB] = _bucket(ts[r - 1], t0, snap)
        meta[M_LAST_DTS] = ts[r - 1]
    meta[M_SEEN_FLAST] = seen
    if last_cur >= 0:
        _copy_row(books, B_CUR, lv, last_cur)
        meta[M_HAS_CUR] = 1
    if last_valid >= 0:
        _copy_row(books, B_VALID, lv, last_valid)
        meta[M_HAS_VALID] = 1
    meta[M_DLOG_N] = dn
    return r


@njit(cache=True, nogil=True)
def _mid_path_kernel(mid0, seen0, flags, lv, out):  # type: ignore[no-untyped-def]
    """Quoted mid after each record, following exactly the book rule of _fold_depth_kernel."""
    mid = mid0
    seen = seen0
    for r in range(flags.shape[0]):
        upd = False
        if flags[r] & F_LAST:
            seen = 1
            upd = True
        elif seen == 0:
            upd = True
        if (
            upd
            and _classify(lv[r, K_BPX, 0], lv[r, K_BSZ, 0], lv[r, K_APX, 0], lv[r, K_ASZ, 0]) == 0
        ):
            mid = (lv[r, K_BPX, 0] + lv[r, K_APX, 0]) // 2
        out[r] = mid


@borrowing_njit
def _close_sweep_cluster(meta, sw):  # type: ignore[no-untyped-def]
    """End the open cluster; keep it only if it is a sweep (size and two-price rules)."""
    if (
        meta[M_CL_ACTIVE] == 1
        and meta[M_CL_SIZE] >= meta[M_SW_MIN]
        and meta[M_CL_MIN] != meta[M_CL_MAX]
    ):
        cap = meta[M_SW_CAP]
        k = meta[M_SW_TAIL] % cap
        sw[k, S_START] = meta[M_CL_START]
        sw[k, S_END] = meta[M_CL_END]
        sw[k, S_SIDE] = meta[M_CL_SIDE]
        sw[k, S_SIZE] = meta[M_CL_SIZE]
        sw[k, S_N] = meta[M_CL_N]
        sw[k, S_MIN] = meta[M_CL_MIN]
        sw[k, S_MAX] = meta[M_CL_MAX]
        sw[k, S_NH] = meta[M_CL_NH]
        sw[k, S_NL] = meta[M_CL_NL]
        meta[M_SW_TAIL] += 1
    meta[M_CL_ACTIVE] = 0


@njit(cache=True, inline="always")
def update_hilo(a, first, i_hi, i_lo, px):  # type: ignore[no-untyped-def]
    """Running high/low in ``a[i_hi]``, ``a[i_lo]`` (the first value sets both)."""
    if first:
        a[i_hi] = px
        a[i_lo] = px
    else:
        if px > a[i_hi]:
            a[i_hi] = px
        if px < a[i_lo]:
            a[i_lo] = px


@borrowing_njit
def _fold_trades_kernel(meta, tlog, vr_ts, vr_px, sw, ts, px, sz, side, start):  # type: ignore[no-untyped-def]
    """Fold trades [start, n). Returns (stop index, grow mask: 1 log, 2 velocity ring, 4 sweeps)."""
    t0 = meta[M_T0]
    snap = meta[M_SNAP]
    tn = meta[M_TLOG_N]
    n = ts.shape[0]
    r = start
    need = 0
    while r < n:
        if tn >= tlog.shape[0]:
            need |= 1
        if meta[M_VR_TAIL] - meta[M_VR_HEAD] >= meta[M_VR_CAP]:
            need |= 2
        if meta[M_SW_TAIL] - meta[M_SW_HEAD] >= meta[M_SW_CAP]:
            need |= 4
        if need != 0:
            break
        t = ts[r]
        p = px[r]
        s = sz[r]
        sd = side[r]
        if p == UNDEF_PRICE:
            meta[M_N_BAD_TRADES] += 1
            r += 1
            continue
        b = _bucket(t, t0, snap)
        tlog[tn, 0] = b
        tlog[tn, 1] = p
        tlog[tn, 2] = sd
        tlog[tn, 3] = s
        tn += 1
        q = p // PRICE_SCALE
        rem = p - q * PRICE_SCALE
        meta[M_VW_HI] += q * s
        lo = meta[M_VW_LO] + rem * s  # < 1e9 + 1e9·(2^32 − 1) < 2^63: no overflow
        carry = lo // PRICE_SCALE  # keep LO below one point so the next trade fits too
        meta[M_VW_HI] += carry
        meta[M_VW_LO] = lo - carry * PRICE_SCALE
        meta[M_VW_SIZE] += s
        update_hilo(meta, meta[M_N_TRADES] == 0, M_HIGH, M_LOW, p)
        meta[M_LAST_PX] = p
        meta[M_LAST_TS] = t
        meta[M_N_TRADES] += 1
        meta[M_LAST_TB] = b
        # velocity ring: drop prints no future window (T >= t) can contain
        vcap = meta[M_VR_CAP]
        while (
            meta[M_VR_HEAD] < meta[M_VR_TAIL]
            and vr_ts[meta[M_VR_HEAD] % vcap] <= t - meta[M_VEL_NS]
        ):
            meta[M_VR_HEAD] += 1
        k = meta[M_VR_TAIL] % vcap
        vr_ts[k] = t
        vr_px[k] = p
        meta[M_VR_TAIL] += 1
        # sweep clusters over the whole session trade sequence
        if (
            meta[M_CL_ACTIVE] == 1
            and sd == meta[M_CL_SIDE]
            and t - meta[M_CL_END] <= meta[M_GAP_NS]
        ):
            meta[M_CL_END] = t
            meta[M_CL_SIZE] += s
            meta[M_CL_N] += 1
            if p < meta[M_CL_MIN]:
                meta[M_CL_MIN] = p
            if p > meta[M_CL_MAX]:
                meta[M_CL_MAX] = p
            meta[M_CL_NH] += q * s
            meta[M_CL_NL] += rem * s
        else:
            _close_sweep_cluster(meta, sw)
            if sd == SIDE_BID or sd == SIDE_ASK:  # noqa: SIM109 (numba-friendly)
                meta[M_CL_ACTIVE] = 1
                meta[M_CL_SIDE] = sd
                meta[M_CL_START] = t
                meta[M_CL_END] = t
                meta[M_CL_SIZE] = s
                meta[M_CL_N] = 1
                meta[M_CL_MIN] = p
                meta[M_CL_MAX] = p
                meta[M_CL_NH] = q * s
                meta[M_CL_NL] = rem * s
        scap = meta[M_SW_CAP]
        while (
            meta[M_SW_HEAD] < meta[M_SW_TAIL]
            and sw[meta[M_SW_HEAD] % scap, S_END] <= t - meta[M_TAPE_NS]
        ):
            meta[M_SW_HEAD] += 1
        r += 1
    meta[M_TLOG_N] = tn
    return r, need


@borrowing_njit
def _slot_of(meta, odd_px, p):  # type: ignore[no-untyped-def]
    """Dense slot of an exact price; off-grid prices live after the grid. -1 if absent."""
    tick = meta[M_TICK]
    ng = meta[M_NGRID]
    if p % tick == 0:
        i = p // tick - meta[M_BASE]
        if 0 <= i < ng:
            return i
        return -1
    for j in range(meta[M_ODD_N]):
        if odd_px[j] == p:
            return ng + j
    return -1


@borrowing_njit
def _prepass_kernel(meta, dlog, tlog, odd_px, target):  # type: ignore[no-untyped-def]
    """Before closing: grid index range, off-grid prices (new, all) and entries the close needs."""
    tick = meta[M_TICK]
    lo = _BIG
    hi = -_BIG
    n_odd = 0
    n_odd_all = 0
    n_contrib = 0
    for which in range(2):
        log = dlog if which == 0 else tlog
        n = meta[M_DLOG_N] if which == 0 else meta[M_TLOG_N]
        pcol = 2 if which == 0 else 1
        for i in range(n):
            if log[i, 0] > target:
                break
            n_contrib += 1
            p = log[i, pcol]
            if p % tick == 0:
                g = p // tick
                if g < lo:
                    lo = g
                if g > hi:
                    hi = g
            else:
                n_odd_all += 1
                found = False
                for j in range(meta[M_ODD_N]):
                    if odd_px[j] == p:
                        found = True
                        break
                if not found:
                    n_odd += 1
    return lo, hi, n_odd, n_odd_all, n_contrib


@njit(cache=True)
def _live_range_kernel(meta, ent_px):  # type: ignore[no-untyped-def]
    """Grid index range and distinct off-grid prices referenced by live entries."""
    tick = meta[M_TICK]
    cap = meta[M_ENT_CAP]
    lo = _BIG
    hi = -_BIG
    odd = np.empty(meta[M_ENT_TAIL] - meta[M_ENT_HEAD], dtype=np.int64)
    n_odd = 0
    for c in range(meta[M_ENT_HEAD], meta[M_ENT_TAIL]):
        p = ent_px[c % cap]
        if p % tick == 0:
            g = p // tick
            if g < lo:
                lo = g
            if g > hi:
                hi = g
        else:
            dup = False
            for j in range(n_odd):
                if odd[j] == p:
                    dup = True
                    break
            if not dup:
                odd[n_odd] = p
                n_odd += 1
    return lo, hi, odd[:n_odd]


@borrowing_njit
def _slot_insert(meta, odd_px, p):  # type: ignore[no-untyped-def]
    s = _slot_of(meta, odd_px, p)
    if s >= 0:
        return s
    j = meta[M_ODD_N]  # capacity guaranteed by the pre-pass
    odd_px[j] = p
    meta[M_ODD_N] = j + 1
    return meta[M_NGRID] + j


@borrowing_njit
def _close_kernel(
    meta, dlog, tlog, scratch, mark, touched, sums, odd_px, ent_b, ent_px, ent_v, target
):  # type: ignore[no-untyped-def]
    """Close every pending bucket <= target, then expire entries that left each window."""
    nd = meta[M_DLOG_N]
    nt = meta[M_TLOG_N]
    ng = meta[M_NGRID]
    tick = meta[M_TICK]
    base = meta[M_BASE]
    cap = meta[M_ENT_CAP]
    i = 0
    j = 0
    while True:
        bd = dlog[i, 0] if i < nd else _BIG
        bt = tlog[j, 0] if j < nt else _BIG
        b = bd if bd < bt else bt
        if b > target:
            break
        ntouch = 0
        while i < nd and dlog[i, 0] == b:
            s = _slot_insert(meta, odd_px, dlog[i, 2])
            if mark[s] == 0:
                mark[s] = 1
                touched[ntouch] = s
                ntouch += 1
            d = dlog[i, 3]
            if dlog[i, 1] == 0:
                if d > 0:
                    scratch[s, F_BID_ADD] += d
                else:
                    scratch[s, F_BID_CXL] -= d
            else:
                if d > 0:
                    scratch[s, F_ASK_ADD] += d
                else:
                    scratch[s, F_ASK_CXL] -= d
            i += 1
        while j < nt and tlog[j, 0] == b:
            s = _slot_insert(meta, odd_px, tlog[j, 1])
            if mark[s] == 0:
                mark[s] = 1
                touched[ntouch] = s
                ntouch += 1
            sd = tlog[j, 2]
            if sd == SIDE_BID:
                scratch[s, F_BUY_VOL] += tlog[j, 3]
                scratch[s, F_BUY_CNT] += 1
            elif sd == SIDE_ASK:
                scratch[s, F_SELL_VOL] += tlog[j, 3]
                scratch[s, F_SELL_CNT] += 1
            else:
                scratch[s, F_NONE_VOL] += tlog[j, 3]
                scratch[s, F_NONE_CNT] += 1
            j += 1
        for k in range(ntouch):
            s = touched[k]
            # fill/pull split per price and bucket: passive bid = A aggressor, ask = B aggressor
            rem_b = scratch[s, F_BID_CXL]
            fill_b = min(rem_b, scratch[s, F_SELL_VOL])
            scratch[s, F_BID_FILL] = fill_b
            scratch[s, F_BID_CXL] = rem_b - fill_b
            rem_a = scratch[s, F_ASK_CXL]
            fill_a = min(rem_a, scratch[s, F_BUY_VOL])
            scratch[s, F_ASK_FILL] = fill_a
            scratch[s, F_ASK_CXL] = rem_a - fill_a
            e = meta[M_ENT_TAIL] % cap
            ent_b[e] = b
            ent_px[e] = (base + s) * tick if s < ng else odd_px[s - ng]
            for f in range(N_FIELDS):
                v = scratch[s, f]
                ent_v[e, f] = v
                sums[0, s, f] += v
                sums[1, s, f] += v
                scratch[s, f] = 0
            mark[s] = 0
            meta[M_ENT_TAIL] += 1
    # drop consumed contributions (the rest belong to later, still open buckets)
    for k in range(nd - i):
        for c in range(4):
            dlog[k, c] = dlog[i + k, c]
    for k in range(nt - j):
        for c in range(4):
            tlog[k, c] = tlog[j + k, c]
    meta[M_DLOG_N] = nd - i
    meta[M_TLOG_N] = nt - j
    if target > meta[M_CLOSED]:
        meta[M_CLOSED] = target
    closed = meta[M_CLOSED]
    tail = meta[M_ENT_TAIL]
    for w in range(2):
        cur = meta[M_CUR0 + w]
        edge = closed - meta[M_W0 + w]
        e = cur % cap  # ring position of cur, stepped without a division per entry
        while cur < tail and ent_b[e] <= edge:
            s = _slot_of(meta, odd_px, ent_px[e])
            for f in range(N_FIELDS):
                sums[w, s, f] -= ent_v[e, f]
            cur += 1
            e = e + 1 if e + 1 < cap else 0
        meta[M_CUR0 + w] = cur
    head = meta[M_ENT_HEAD]
    edge = closed - meta[M_RING]
    while head < tail and ent_b[head % cap] <= edge:
        head += 1
    meta[M_ENT_HEAD] = head


@borrowing_njit
def _query_kernel(meta, sums, odd_px, ent_b, ent_px, ent_v, lo, hi, wb, out):  # type: ignore[no-untyped-def]
    """Window sums of every field over closed price intervals [lo[m], hi[m]], last wb buckets."""
    tick = meta[M_TICK]
    ng = meta[M_NGRID]
    base = meta[M_BASE]
    w = -1
    if wb == meta[M_W0]:
        w = 0
    elif wb == meta[M_W1]:
        w = 1
    for m in range(lo.shape[0]):
        for f in range(N_FIELDS):
            out[m, f] = 0
        if lo[m] > hi[m]:
            continue
        if w >= 0:
            a = -((-lo[m]) // tick) - base
            z = hi[m] // tick - base
            if a < 0:
                a = 0
            if z > ng - 1:
                z = ng - 1
            for s in range(a, z + 1):
                for f in range(N_FIELDS):
                    out[m, f] += sums[w, s, f]
            for jj in range(meta[M_ODD_N]):
                p = odd_px[jj]
                if lo[m] <= p <= hi[m]:
                    for f in range(N_FIELDS):
                        out[m, f] += sums[w, ng + jj, f]
        else:  # any other window length: scan the retained entries (newest first)
            cap = meta[M_ENT_CAP]
            edge = meta[M_CLOSED] - wb
            c = meta[M_ENT_TAIL] - 1
            e = c % cap if c >= 0 else 0  # ring position of c, stepped back without a division
            while c >= meta[M_ENT_HEAD] and ent_b[e] > edge:
                p = ent_px[e]
                if lo[m] <= p <= hi[m]:
                    for f in range(N_FIELDS):
                        out[m, f] += ent_v[e, f]
                c -= 1
                e = e - 1 if e > 0 else cap - 1


@borrowing_njit
def _velocity_kernel(meta, vr_ts, vr_px, now):  # type: ignore[no-untyped-def]
    """Least-squares slope (points/s) of the prints in (now - W_v, now], in event order."""
    cap = meta[M_VR_CAP]
    tail = meta[M_VR_TAIL]
    first = meta[M_VR_HEAD]
    edge = now - meta[M_VEL_NS]
    while first < tail and vr_ts[first % cap] <= edge:
        first += 1
    n = tail - first
    if n < 2:
        return 0.0
    ta = vr_ts[first % cap]
    pa = vr_px[first % cap]
    if vr_ts[(tail - 1) % cap] == ta:
        return 0.0  # all prints at one timestamp (ts is non-decreasing)
    # ring positions first % cap, ... in order, without a division per print
    start = first % cap
    sx = 0.0
    sy = 0.0
    i = start
    for _ in range(n):
        sx += (vr_ts[i] - ta) / 1e9
        sy += (vr_px[i] - pa) / 1e9
        i = i + 1 if i + 1 < cap else 0
    mx = sx / n
    my = sy / n
    sxx = 0.0
    sxy = 0.0
    i = start
    for _ in range(n):
        dx = (vr_ts[i] - ta) / 1e9 - mx
        dy = (vr_px[i] - pa) / 1e9 - my
        sxx += dx * dx
        sxy += dx * dy
        i = i + 1 if i + 1 < cap else 0
    if sxx == 0.0:
        return 0.0
    return sxy / sxx


@borrowing_njit
def _sweep_kernel(meta, sw, now, lo, hi, out):  # type: ignore[no-untyped-def]
    """Largest-notional sweep ending in (now - W_t, now] whose [min, max] meets [lo, hi].

    Candidates are scanned oldest first and replaced only on a strictly larger notional, so ties
    go to the earliest. Notional compared exactly as (q-part + carry, r-part mod 1e9).
    Returns False when none; else fills out with the S_* columns (normalised notional parts).
    """
    edge = now - meta[M_TAPE_NS]
    found = False
    best_h = 0
    best_l = 0
    cap = meta[M_SW_CAP]
    for c in range(meta[M_SW_HEAD], meta[M_SW_TAIL] + 1):
        if c < meta[M_SW_TAIL]:
            k = c % cap
            end = sw[k, S_END]
            mn = sw[k, S_MIN]
            mx = sw[k, S_MAX]
            nh = sw[k, S_NH]
            nl = sw[k, S_NL]
        else:  # the open cluster ends at its last print so far
            if meta[M_CL_ACTIVE] == 0:
                break
            if meta[M_CL_SIZE] < meta[M_SW_MIN] or meta[M_CL_MIN] == meta[M_CL_MAX]:
                break
            end = meta[M_CL_END]
            mn = meta[M_CL_MIN]
            mx = meta[M_CL_MAX]
            nh = meta[M_CL_NH]
            nl = meta[M_CL_NL]
        if end <= edge or end > now:
            continue
        if mx < lo or mn > hi:
            continue
        h = nh + nl // PRICE_SCALE
        low = nl % PRICE_SCALE
        if (not found) or h > best_h or (h == best_h and low > best_l):
            found = True
            best_h = h
            best_l = low
            if c < meta[M_SW_TAIL]:
                for f in range(N_SW):
                    out[f] = sw[c % cap, f]
            else:
                out[S_START] = meta[M_CL_START]
                out[S_END] = meta[M_CL_END]
                out[S_SIDE] = meta[M_CL_SIDE]
                out[S_SIZE] = meta[M_CL_SIZE]
                out[S_N] = meta[M_CL_N]
                out[S_MIN] = mn
                out[S_MAX] = mx
            out[S_NH] = h
            out[S_NL] = low
    return found


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
        meta = np.zeros(N_META, dtype=np.int64)
        meta[M_T0] = t0_ns
        meta[M_SNAP] = cfg.snap_ns
        meta[M_TICK] = cfg.tick_units
        meta[M_NGRID] = _INIT_GRID
        meta[M_ODD_CAP] = 0
        meta[M_CLOSED] = -1
        meta[M_W0] = w_b
        meta[M_W1] = w_t
        meta[M_RING] = cfg.ring_buckets
        meta[M_LAST_DB] = -1
        meta[M_LAST_TB] = -1
        meta[M_VEL_NS] = cfg.window_buckets(cfg.velocity_window_s) * cfg.snap_ns
        meta[M_TAPE_NS] = w_t * cfg.snap_ns
        meta[M_GAP_NS] = cfg.sweep_max_gap_ns
        meta[M_SW_MIN] = cfg.sweep_min_size
        meta[M_ENT_CAP] = 1024
        meta[M_VR_CAP] = 256
        meta[M_SW_CAP] = 16
        self._meta = meta
        self._books = np.zeros((3, 4, N_LEVELS), dtype=np.int64)
        self._books[:, K_BPX, :] = UNDEF_PRICE
        self._books[:, K_APX, :] = UNDEF_PRICE
        self._dlog = np.zeros((4096, 4), dtype=np.int64)
        self._tlog = np.zeros((1024, 4), dtype=np.int64)
        s = _INIT_GRID
        self._sums = np.zeros((2, s, N_FIELDS), dtype=np.int64)  # price-major: one slot's fields
        self._scratch = np.zeros((s, N_FIELDS), dtype=np.int64)  # share a cache line or two
        self._mark = np.zeros(s, dtype=np.int8)
        self._touched = np.zeros(s, dtype=np.int64)
        self._odd_px = np.zeros(0, dtype=np.int64)
        self._ent_b = np.zeros(1024, dtype=np.int64)
        self._ent_px = np.zeros(1024, dtype=np.int64)
        self._ent_v = np.zeros((1024, N_FIELDS), dtype=np.int64)
        self._vr_ts = np.zeros(256, dtype=np.int64)
        self._vr_px = np.zeros(256, dtype=np.int64)
        self._sw = np.zeros((16, N_SW), dtype=np.int64)

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
        return int(self._meta[M_T0])

    def bucket_of(self, ts_ns: int) -> int:
        """Bucket index: 0 for ts <= T_0, else k with T_{k-1} < ts <= T_k."""
        return int(_bucket(np.int64(ts_ns), self._meta[M_T0], self._meta[M_SNAP]))

    @property
    def closed_bucket(self) -> int:
        """Last closed bucket (-1 before any): window queries end here."""
        return int(self._meta[M_CLOSED])

    @property
    def now_ns(self) -> int | None:
        """Snap time of the last closed bucket (the "T" of window queries), None before any."""
        k = int(self._meta[M_CLOSED])
        return None if k < 0 else int(self._meta[M_T0] + k * self._meta[M_SNAP])

    def _check_after_closed(self, ts: np.ndarray, what: str) -> None:
        if ts.shape[0] and self._meta[M_CLOSED] >= 0:
            t_closed = int(self._meta[M_T0] + self._meta[M_CLOSED] * self._meta[M_SNAP])
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
        self._dlog = _grow_rows(self._dlog, int(self._meta[M_DLOG_N]))

    def grow_trade_buffers(self, need: int) -> None:
        """Grow what the trade fold kernel asked for: 1 log, 2 velocity ring, 4 sweep ring."""
        m = self._meta
        if need & 1:
            self._tlog = _grow_rows(self._tlog, int(m[M_TLOG_N]))
        if need & 2:
            self._vr_ts, self._vr_px = _grow_ring(
                (self._vr_ts, self._vr_px), m, M_VR_HEAD, M_VR_TAIL, M_VR_CAP
            )
        if need & 4:
            (self._sw,) = _grow_ring((self._sw,), m, M_SW_HEAD, M_SW_TAIL, M_SW_CAP)

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
        last = max(int(self._meta[M_LAST_DB]), int(self._meta[M_LAST_TB]))
        if last - 1 > self._meta[M_CLOSED]:
            self._close_through(last - 1)

    def advance_to(self, t_snap_ns: int) -> None:
        """Close every bucket up to the snap at ``t_snap_ns`` so window queries see snap T.

        Contract: every event with ts_recv <= t_snap_ns has been folded already.
        """
        t0 = int(self._meta[M_T0])
        snap = int(self._meta[M_SNAP])
        t = int(t_snap_ns)
        if t < t0 or (t - t0) % snap != 0:
            raise ValueError(f"advance_to({t}): not a snap time T_0 + k·{snap} (T_0 = {t0})")
        k = (t - t0) // snap
        if k > self._meta[M_CLOSED]:
            self._close_through(k)

    def _auto_close(self) -> None:
        # Buckets older than both streams' latest bucket can receive nothing more.
        safe = min(int(self._meta[M_LAST_DB]), int(self._meta[M_LAST_TB])) - 1
        if safe > self._meta[M_CLOSED]:
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
            base, ng = int(m[M_BASE]), int(m[M_NGRID])
            grid_bad = lo <= hi and (m[M_GRID_INIT] == 0 or lo < base or hi >= base + ng)
            odd_bad = int(m[M_ODD_N]) + int(n_odd) > int(m[M_ODD_CAP])
            if grid_bad or odd_bad:
                self._reslot(lo, hi, int(n_odd_all))
            live = int(m[M_ENT_TAIL] - m[M_ENT_HEAD])
            if live + int(n_contrib) > int(m[M_ENT_CAP]):
                cap = int(m[M_ENT_CAP])
                while cap < live + int(n_contrib):
                    cap *= 2
                self._ent_b, self._ent_px, self._ent_v = _grow_ring(
                    (self._ent_b, self._ent_px, self._ent_v),
                    m,
                    M_ENT_HEAD,
                    M_ENT_TAIL,
                    M_ENT_CAP,
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
        old_base, old_ng = int(m[M_BASE]), int(m[M_NGRID])
        new_ng = old_ng
        if lo_all <= hi_all:
            span = hi_all - lo_all + 1
            while new_ng < 2 * span:
                new_ng *= 2
            in_range = m[M_GRID_INIT] == 1 and lo_all >= old_base and hi_all < old_base + old_ng
            new_base = old_base if in_range else (lo_all + hi_all) // 2 - new_ng // 2
        else:
            new_base = old_base
        kept_odd = np.asarray(live_odd, dtype=np.int64)
        need_odd = len(kept_odd) + n_odd_pending  # compaction may drop pending prices: re-added
        new_odd_cap = max(int(m[M_ODD_CAP]), 16)
        while new_odd_cap < need_odd:
            new_odd_cap *= 2
        s_new = new_ng + new_odd_cap
        sums = np.zeros((2, s_new, N_FIELDS), dtype=np.int64)
        # grid overlap
        if m[M_GRID_INIT] == 1:
            a = max(old_base, new_base)
            z = min(old_base + old_ng, new_base + new_ng)
            if a < z:
                sums[:, a - new_base : z - new_base] = self._sums[:, a - old_base : z - old_base]
        # off-grid columns still referenced by live entries
        old_odd = self._odd_px[: int(m[M_ODD_N])]
        odd_px = np.zeros(new_odd_cap, dtype=np.int64)
        for j, p in enumerate(kept_odd):
            odd_px[j] = p
            k = int(np.nonzero(old_odd == p)[0][0])
            sums[:, new_ng + j] = self._sums[:, old_ng + k]
        self._sums = sums
        self._scratch = np.zeros((s_new, N_FIELDS), dtype=np.int64)
        self._mark = np.zeros(s_new, dtype=np.int8)
        self._touched = np.zeros(s_new, dtype=np.int64)
        self._odd_px = odd_px
        m[M_BASE] = new_base
        m[M_NGRID] = new_ng
        m[M_ODD_N] = len(kept_odd)
        m[M_ODD_CAP] = new_odd_cap
        m[M_GRID_INIT] = 1

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
        if wb <= 0 or wb > int(self._meta[M_RING]):
            raise ValueError(f"window_buckets {wb} outside 1..{int(self._meta[M_RING])}")
        lo = np.ascontiguousarray(lo_px, dtype=np.int64).reshape(-1)
        hi = np.ascontiguousarray(hi_px, dtype=np.int64).reshape(-1)
        out = np.zeros((lo.shape[0], N_FIELDS), dtype=np.int64)
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
            return int(row[F_BID_ADD]), int(row[F_BID_CXL]), int(row[F_BID_FILL])
        if side == "ask":
            return int(row[F_ASK_ADD]), int(row[F_ASK_CXL]), int(row[F_ASK_FILL])
        raise ValueError(f"side must be 'bid' or 'ask', not {side!r}")

    def window_trades(self, lo_px: int, hi_px: int, window_buckets: int) -> tuple[int, int]:
        """(buy_vol, sell_vol): aggressor B / A size at prices in [lo_px, hi_px]."""
        row = self.window_fields(np.array([lo_px]), np.array([hi_px]), window_buckets)[0]
        return int(row[F_BUY_VOL]), int(row[F_SELL_VOL])

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
        out = np.zeros(N_SW, dtype=np.int64)
        if not _sweep_kernel(self._meta, self._sw, np.int64(now), lo_px, hi_px, out):
            return None
        return Sweep(
            side=int(out[S_SIDE]),
            start_ns=int(out[S_START]),
            end_ns=int(out[S_END]),
            size=int(out[S_SIZE]),
            num_prints=int(out[S_N]),
            min_px=int(out[S_MIN]),
            max_px=int(out[S_MAX]),
            notional_units=int(out[S_NH]) * PRICE_SCALE + int(out[S_NL]),
        )

    # ------------------------------------------------------------------ book and trades
    def book(self) -> Book | None:
        """The quoted book: last valid two-sided current book (copies), None before any."""
        if self._meta[M_HAS_VALID] == 0:
            return None
        b = self._books[B_VALID]
        return Book(b[K_BPX].copy(), b[K_APX].copy(), b[K_BSZ].copy(), b[K_ASZ].copy())

    @property
    def book_is_current(self) -> bool:
        """True when the current (F_LAST) book is itself valid, i.e. the quote is not stale."""
        m = self._meta
        if m[M_HAS_CUR] == 0:
            return False
        b = self._books[B_CUR]
        return _classify(b[K_BPX, 0], b[K_BSZ, 0], b[K_APX, 0], b[K_ASZ, 0]) == 0

    def bid(self) -> int | None:
        return None if self._meta[M_HAS_VALID] == 0 else int(self._books[B_VALID, K_BPX, 0])

    def ask(self) -> int | None:
        return None if self._meta[M_HAS_VALID] == 0 else int(self._books[B_VALID, K_APX, 0])

    def mid(self) -> int | None:
        """(bid + ask) // 2 of the quoted book, in int64 units."""
        if self._meta[M_HAS_VALID] == 0:
            return None
        return (int(self._books[B_VALID, K_BPX, 0]) + int(self._books[B_VALID, K_APX, 0])) // 2

    def spot(self) -> int | None:
        """Last trade price; the quoted mid before the first trade; None when neither exists."""
        if self._meta[M_N_TRADES] > 0:
            return int(self._meta[M_LAST_PX])
        return self.mid()

    def last_trade_px(self) -> int | None:
        return int(self._meta[M_LAST_PX]) if self._meta[M_N_TRADES] > 0 else None

    def vwap(self) -> int | None:
        """Session VWAP floored to an int64 unit, from exact integer sums; None before a trade."""
        m = self._meta
        size = int(m[M_VW_SIZE])
        if size <= 0:
            return None
        total = int(m[M_VW_HI]) * PRICE_SCALE + int(m[M_VW_LO])
        return total // size

    def vwap_sums(self) -> tuple[int, int]:
        """(Σ px·size exactly, Σ size) as Python ints."""
        m = self._meta
        return int(m[M_VW_HI]) * PRICE_SCALE + int(m[M_VW_LO]), int(m[M_VW_SIZE])

    def session_high(self) -> int | None:
        return int(self._meta[M_HIGH]) if self._meta[M_N_TRADES] > 0 else None

    def session_low(self) -> int | None:
        return int(self._meta[M_LOW]) if self._meta[M_N_TRADES] > 0 else None

    def counters(self) -> dict[str, int]:
        """Data-quality and volume counters for the manifest."""
        m = self._meta
        return {
            "depth_records": int(m[M_N_DEPTH]),
            "trades": int(m[M_N_TRADES]),
            "crossed_books": int(m[M_N_CROSSED]),
            "locked_books": int(m[M_N_LOCKED]),
            "one_sided_books": int(m[M_N_ONESIDED]),
            "undefined_price_trades": int(m[M_N_BAD_TRADES]),
        }

    # ------------------------------------------------------------------ option pricing helper
    def mid_at(self, ts: np.ndarray, depth: DepthBatch) -> np.ndarray:
        """Quoted mid at each ``ts`` given the *pre-fold* state and the chunk's depth slice.

        For each ts: mid (bid + ask) // 2 of the last valid current book among records with
        ts_recv <= ts (this chunk's, else the state's), -1 when there is none. Does not mutate.
        """
        mid0 = self.mid()
        return quoted_mid_at(
            -1 if mid0 is None else mid0, int(self._meta[M_SEEN_FLAST]), ts, depth
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


__all__ = [
    "F_ASK_ADD",
    "F_ASK_CXL",
    "F_ASK_FILL",
    "F_BID_ADD",
    "F_BID_CXL",
    "F_BID_FILL",
    "F_BUY_CNT",
    "F_BUY_VOL",
    "F_NONE_CNT",
    "F_NONE_VOL",
    "F_SELL_CNT",
    "F_SELL_VOL",
    "N_FIELDS",
    "SIDE_NONE",
    "Book",
    "MarketState",
    "Sweep",
]
