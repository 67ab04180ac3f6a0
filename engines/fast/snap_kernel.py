"""The fast replay loop: fold a merged chunk and score every completed snap in one numba call.

Same semantics as ``reference_engine.ReferenceEngine.feed`` + ``signal_service.score_snap``,
but with no Python object per event, snap or level (hftbacktest style): MarketState's own arrays and
kernels hold the book and the window sums, option inventory, session context and per-level state
(trigger, EWMAs, touches) are plain arrays, levels are (type code, price) mapped to a state slot,
and Gold rows go into preallocated column arrays. The call returns a status when it needs the
driver: more input, a full output batch, or a buffer to grow (the kernel is restartable: it only
mutates state after the checks that can make it return).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from engines.contract.config import PRICE_SCALE
from engines.contract.events import SIDE_ASK, SIDE_BID, UNDEF_PRICE
from engines.fast.snap_codes import (
    CONF_UNDECIDED,
    DOWN,
    EW_DELTA_LIQ,
    EW_GAMMA,
    EW_REPLENISH,
    EW_SCORE,
    EW_VELOCITY,
    HIGH,
    I_ABARS,
    I_ASK,
    I_BID,
    I_CONF,
    I_EWMASK,
    I_LPX,
    I_LTYPE,
    I_OPX,
    I_OTYPE,
    I_QUAL,
    I_RDIR,
    I_SIG,
    I_SNAP,
    I_SPOT,
    I_SWDIR,
    I_TOUCH,
    I_TS,
    L_ARMED,
    L_ARMED_TS,
    L_EW_HAS,
    L_IN_TOUCH,
    L_LAST_TS,
    L_TOUCHES,
    LOW,
    MEDIUM,
    NONE,
    P_BAR_NS,
    P_BATCH,
    P_FINAL,
    P_GAMMA_RANGE,
    P_HAS_PRIOR,
    P_K_LAST,
    P_MONITOR,
    P_OR0,
    P_OR1,
    P_PDC,
    P_PDH,
    P_PDL,
    P_PER_MIN,
    P_PM0,
    P_PM1,
    P_ROUND_STEP,
    P_SNAP,
    P_T0,
    P_TOUCH,
    P_UNIV_RANGE,
    Q_CONF_HIGH,
    Q_CONF_MEDIUM,
    Q_RATE,
    Q_WALL_T,
    S_REJECT,
    T_CALL_WALL,
    T_GAMMA_FLIP,
    T_OR_HIGH,
    T_OR_LOW,
    T_PDC,
    T_PDH,
    T_PDL,
    T_PM_HIGH,
    T_PM_LOW,
    T_PUT_WALL,
    T_ROUND,
    T_SESSION_HIGH,
    T_SESSION_LOW,
    T_SMA0,
    T_STRIKE,
    T_USER,
    T_VWAP,
    UP,
    X_AVEL,
    X_DIST,
    X_DLIQ_S,
    X_HS,
    X_LS,
    X_NET_S,
    X_RATIO_S,
    X_RAW,
    X_RPTS,
    X_SMOOTH,
    X_TS,
    X_VEL,
    X_VEL_S,
)
from engines.fast.snap_levels import (
    approach,
    barrier,
    break_score,
    ewma,
    flip,
    fuel,
    runway,
    tape,
    trigger,
    wall_pair,
)
from engines.jit.borrowing_jit import borrowing_njit
from engines.physics.black76 import _INV_SQRT_2PI, NS_PER_YEAR
from engines.state.depth_fold import _classify, _fold_depth_kernel
from engines.state.layout import (
    B_CUR,
    B_VALID,
    K_APX,
    K_ASZ,
    K_BPX,
    K_BSZ,
    M_BASE,
    M_ENT_CAP,
    M_ENT_HEAD,
    M_ENT_TAIL,
    M_GRID_INIT,
    M_HAS_CUR,
    M_HAS_VALID,
    M_HIGH,
    M_LAST_PX,
    M_LOW,
    M_N_TRADES,
    M_NGRID,
    M_ODD_CAP,
    M_ODD_N,
    M_VW_HI,
    M_VW_LO,
    M_VW_SIZE,
)
from engines.state.trade_fold import _fold_trades_kernel, _velocity_kernel, update_hilo
from engines.state.windows import _close_kernel, _prepass_kernel

# status codes returned to the driver
NEED_INPUT, FLUSH, GROW_DLOG, GROW_TRADES, PREPARE_CLOSE, GROW_SLOTS, GROW_OUT, FAIL = range(8)
_SNAP_DONE = 8

# kernel scalar state (st)
ST_K, ST_PD, ST_PT, ST_PO, ST_NOUT, ST_STALE, ST_UNSCORED, ST_WITH_ROWS = range(8)
ST_RING_HEAD, ST_RING_RUN, ST_NSLOTS, ST_ERR, ST_TARGET, ST_NEED, ST_UNKNOWN_OPT = range(8, 15)
ST_NKEYS = 15  # entries in the sorted (key, slot) table of anchored levels
N_ST = 16
# session context (cx)
CX_PM_HAS, CX_PM_HI, CX_PM_LO, CX_OR_HAS, CX_OR_HI, CX_OR_LO = range(6)
CX_PEND_HAS, CX_PEND_BAR, CX_PEND_CLOSE, CX_NC = range(6, 10)  # CX_NC: bars closed so far
N_CX = 10
# failure reasons (st[ST_ERR])
ERR_VWAP_RANGE, ERR_SPOT_GAP, ERR_CLOSE_RANGE = 1, 2, 3
VWAP_MAX_SIZE = 9_000_000_000_000_000  # Σ size bound of the exact VWAP division

NO_SPOT = np.iinfo(np.int64).min


@borrowing_njit
def _window_hilo(cx, i_has, i_hi, i_lo, px):  # type: ignore[no-untyped-def]
    update_hilo(cx, cx[i_has] == 0, i_hi, i_lo, px)
    cx[i_has] = 1


@borrowing_njit
def _fold_context(pi, cx, closes, ts, px, a, b):  # type: ignore[no-untyped-def]
    """session_context.fold_trades for trades [a, b): PM/OR extremes and 2-minute bar closes."""
    cap = closes.shape[0] - 1  # closed bars an SMA may read (the largest period)
    for i in range(a, b):
        p = px[i]
        if p == UNDEF_PRICE:
            continue
        t = ts[i]
        if pi[P_PM0] <= t < pi[P_PM1]:
            _window_hilo(cx, CX_PM_HAS, CX_PM_HI, CX_PM_LO, p)
        if pi[P_OR0] <= t < pi[P_OR1]:
            _window_hilo(cx, CX_OR_HAS, CX_OR_HI, CX_OR_LO, p)
        bar = t // pi[P_BAR_NS]
        if cx[CX_PEND_HAS] == 1 and bar != cx[CX_PEND_BAR] and cap > 0:
            nc = cx[CX_NC]
            closes[(nc + 1) % (cap + 1)] = closes[nc % (cap + 1)] + cx[CX_PEND_CLOSE]
            cx[CX_NC] = nc + 1
        cx[CX_PEND_HAS] = 1
        cx[CX_PEND_BAR] = bar
        cx[CX_PEND_CLOSE] = p


@borrowing_njit
def _sma(pi, cx, closes, period, t):  # type: ignore[no-untyped-def]
    """SessionContext.sma: floor mean of the last ``period`` closed-bar closes, NONE if short.

    ``closes`` is a ring of prefix sums (close count c at c % len): the sum of the last m closes
    is one difference, the same int64 as adding them one by one.
    """
    m = closes.shape[0]
    cap = m - 1
    nc = cx[CX_NC]
    pend = cx[CX_PEND_HAS] == 1 and (cx[CX_PEND_BAR] + 1) * pi[P_BAR_NS] <= t
    n = (nc if nc < cap else cap) + (1 if pend else 0)
    if period <= 0 or n < period:
        return NONE
    from_ring = period - 1 if pend else period
    acc = closes[nc % m] - closes[(nc - from_ring) % m]
    if pend:
        acc += cx[CX_PEND_CLOSE]
    return acc // period


@borrowing_njit
def _vwap(meta, st):  # type: ignore[no-untyped-def]
    """floor((hi·1e9 + lo) / size) without 128-bit ints: exact for any session volume below
    9e15 contracts (``lo`` is kept below 1e9 by the accumulation in ``market_state``)."""
    s = meta[M_VW_SIZE]
    if s <= 0:
        return NONE
    a = meta[M_VW_HI]
    b = meta[M_VW_LO]
    if a < 0 or b < 0 or b >= PRICE_SCALE or s >= VWAP_MAX_SIZE:
        st[ST_ERR] = ERR_VWAP_RANGE
        return NONE
    q = a // s
    r = a - q * s
    # long division of (r·1e9 + b) by s in base 1000: r < s < 9e15 keeps r·1000 below 2^63
    for div in (1_000_000, 1_000, 1):
        r = r * 1000 + (b // div) % 1000
        d = r // s
        q = q * 1000 + d
        r -= d * s
    return q


@njit(cache=True, inline="always")
def _add_level(upx, utype, urank, rank, n, px, typ):  # type: ignore[no-untyped-def]
    """Insert (px, type) keeping the universe sorted by (price, id rank)."""
    r = rank[typ]
    j = n
    while j > 0 and (upx[j - 1] > px or (upx[j - 1] == px and urank[j - 1] > r)):
        upx[j] = upx[j - 1]
        utype[j] = utype[j - 1]
        urank[j] = urank[j - 1]
        j -= 1
    upx[j] = px
    utype[j] = typ
    urank[j] = r
    return n + 1


@njit(cache=True, inline="always")
def _gamma_b76(f, sigma, log_fk, sqrt_t, disc):  # type: ignore[no-untyped-def]
    """black76._gamma1 past its guards, given log(f/k), sqrt(t) and exp(-r·t): same operations."""
    sd = sigma * sqrt_t
    d1 = (log_fk + 0.5 * sd * sd) / sd
    return disc * _INV_SQRT_2PI * math.exp(-0.5 * d1 * d1) / (f * sd)


@borrowing_njit
def _gamma_view(pi, pf, fz, gs, spot, t, gex, sg, scg, spg, svol):  # type: ignore[no-untyped-def]
    """fuel.snap_gamma restricted to strikes within spot ± P_GAMMA_RANGE (all any query reads)."""
    position, volume, last_iv = fz
    g_def, g_strike, g_call, g_exp, u_strike, u_start = gs
    n_inst = g_def.shape[0]
    ns = u_strike.shape[0]
    r = pi[P_GAMMA_RANGE]
    sa = np.searchsorted(u_strike, spot - r, side="left")
    sb = np.searchsorted(u_strike, spot + r, side="right")
    f = spot / PRICE_SCALE
    rate = pf[Q_RATE]
    # _gamma1's factors that depend only on the expiry or the strike, computed once each
    last_exp = NO_SPOT
    t_yr = sq_t = disc = 0.0
    for j in range(sa, sb):
        end = u_start[j + 1] if j + 1 < ns else n_inst
        acc = 0.0
        acc_c = 0.0
        acc_p = 0.0
        vol = 0
        k = u_strike[j] / PRICE_SCALE  # == g_strike[i] / PRICE_SCALE for every i of strike j
        has_lfk = False
        lfk = 0.0
        for i in range(u_start[j], end):
            d = g_def[i]
            pos = position[d]
            g = 0.0
            if pos != 0:
                if g_exp[i] != last_exp or last_exp == NO_SPOT:
                    last_exp = g_exp[i]
                    t_yr = np.float64(g_exp[i] - t) / NS_PER_YEAR
                    if t_yr > 0.0:
                        sq_t = math.sqrt(t_yr)
                        disc = math.exp(-rate * t_yr)
                sigma = last_iv[d]
                g1 = 0.0
                if not (t_yr <= 0.0 or sigma <= 0.0 or f <= 0.0 or k <= 0.0):  # _gamma1's guard
                    if not has_lfk:
                        lfk = math.log(f / k)
                        has_lfk = True
                    g1 = _gamma_b76(f, sigma, lfk, sq_t, disc)
                g = np.float64(pos) * g1
            gex[i] = g
            acc += g
            acc_c += g if g_call[i] else 0.0
            acc_p += 0.0 if g_call[i] else g
            vol += volume[d]
        sg[j] = acc
        scg[j] = acc_c
        spg[j] = acc_p
        svol[j] = vol
    ia = u_start[sa] if sa < ns else n_inst
    ib = u_start[sb] if sb < ns else n_inst
    return (g_strike, gex, ia, ib, u_strike, sg, scg, spg, svol, sa, sb)


@borrowing_njit
def _universe(pi, pf, meta, cx, closes, lv, gv, spot, t, st, uni):  # type: ignore[no-untyped-def]
    """level_universe.build_universe into (upx, utype, urank); returns the level count."""
    upx, utype, urank, rank = uni
    user_px, sma_periods = lv
    u_strike, sg, scg, spg, svol, sa, sb = gv[4], gv[5], gv[6], gv[7], gv[8], gv[9], gv[10]
    rng = pi[P_UNIV_RANGE]
    n = 0
    step = pi[P_ROUND_STEP]
    lo = spot - rng
    hi = spot + rng
    px = -((-lo) // step) * step
    while px <= (hi // step) * step:
        n = _add_level(upx, utype, urank, rank, n, px, T_ROUND)
        px += step
    a = sa + np.searchsorted(u_strike[sa:sb], lo, side="left")
    b = sa + np.searchsorted(u_strike[sa:sb], hi, side="right")
    for j in range(a, b):
        if svol[j] >= 1:
            n = _add_level(upx, utype, urank, rank, n, u_strike[j], T_STRIKE)
    vw = _vwap(meta, st)
    if vw != NONE:
        n = _add_level(upx, utype, urank, rank, n, vw, T_VWAP)
    if meta[M_N_TRADES] > 0:
        n = _add_level(upx, utype, urank, rank, n, meta[M_HIGH], T_SESSION_HIGH)
        n = _add_level(upx, utype, urank, rank, n, meta[M_LOW], T_SESSION_LOW)
    if cx[CX_PM_HAS] == 1:
        n = _add_level(upx, utype, urank, rank, n, cx[CX_PM_HI], T_PM_HIGH)
        n = _add_level(upx, utype, urank, rank, n, cx[CX_PM_LO], T_PM_LOW)
    if cx[CX_OR_HAS] == 1:
        n = _add_level(upx, utype, urank, rank, n, cx[CX_OR_HI], T_OR_HIGH)
        n = _add_level(upx, utype, urank, rank, n, cx[CX_OR_LO], T_OR_LOW)
    for i in range(sma_periods.shape[0]):
        v = _sma(pi, cx, closes, sma_periods[i], t)
        if v != NONE:
            n = _add_level(upx, utype, urank, rank, n, v, T_SMA0 + i)
    if pi[P_HAS_PRIOR] == 1:
        n = _add_level(upx, utype, urank, rank, n, pi[P_PDH], T_PDH)
        n = _add_level(upx, utype, urank, rank, n, pi[P_PDL], T_PDL)
        n = _add_level(upx, utype, urank, rank, n, pi[P_PDC], T_PDC)
    for i in range(user_px.shape[0]):
        n = _add_level(upx, utype, urank, rank, n, user_px[i], T_USER)
    cw, pw = wall_pair(u_strike, scg, spg, a, b, spot, pf[Q_WALL_T])
    fl = flip(u_strike, sg, a, b)
    if cw != NONE:
        n = _add_level(upx, utype, urank, rank, n, cw, T_CALL_WALL)
    if pw != NONE:
        n = _add_level(upx, utype, urank, rank, n, pw, T_PUT_WALL)
    if fl != NONE:
        n = _add_level(upx, utype, urank, rank, n, fl, T_GAMMA_FLIP)
    return n


@njit(cache=True, inline="always")
def _slot(slots, st, lv_i, typ, px):  # type: ignore[no-untyped-def]
    """State slot of a level id: moving kinds by type, anchored ones by (type, price).

    Anchored keys live in a sorted array pair (binary search, insertion by shifting): a session
    sees a few hundred of them, and unlike a numba typed dict this costs no JIT compile per run.
    The table has as many rows as ``lv_i`` (one key per slot at most), so it grows with it.
    """
    if typ > T_USER:
        s = typ
    else:
        key = px * 4 + typ
        keys, vals = slots
        n = st[ST_NKEYS]
        j = np.searchsorted(keys[:n], key)
        if j < n and keys[j] == key:
            return vals[j]
        s = st[ST_NSLOTS]
        st[ST_NSLOTS] = s + 1
        for m in range(n, j, -1):  # shift up by one, last first (no temporary array)
            keys[m] = keys[m - 1]
            vals[m] = vals[m - 1]
        keys[j] = key
        vals[j] = s
        st[ST_NKEYS] = n + 1
    if lv_i[s, L_LAST_TS] == 0:  # fresh row (arrays start zeroed): neutral, nothing armed
        lv_i[s, L_ARMED] = -1
        lv_i[s, L_ARMED_TS] = NONE
        lv_i[s, L_LAST_TS] = NONE
    return s


@njit(cache=True, inline="always")
def _confidence(pf, bc, tc, fc):  # type: ignore[no-untyped-def]
    """confidence_label, except means within 1e-9 of a threshold (Python rounds those)."""
    mean = (bc + tc + fc) / 3.0
    hi = pf[Q_CONF_HIGH]
    md = pf[Q_CONF_MEDIUM]
    if abs(mean - hi) <= 1e-9 or abs(mean - md) <= 1e-9:
        return CONF_UNDECIDED
    if mean >= hi:
        return HIGH
    if mean >= md:
        return MEDIUM
    return LOW


@borrowing_njit
def _score_level(pi, pf, env, lvs, slots, st, i, row):  # type: ignore[no-untyped-def]
    """signal_service._score_level for universe entry ``i`` into output row ``row``."""
    ms, books, sw, gv, uni, ring, scratch, oi, ox, t, spot, velocity, first = env
    lv_i, lv_f = lvs
    upx, utype = uni[0], uni[1]
    qlo, qhi, qout, swout = scratch
    px = upx[i]
    typ = utype[i]
    s = _slot(slots, st, lv_i, typ, px)
    oi[I_LTYPE, row] = typ
    oi[I_LPX, row] = px
    ox[X_DIST, row] = abs(spot - px) / PRICE_SCALE  # |spot − L|: the side is in direction
    bstate, delta, ratio, bconf = barrier(pi, pf, ms, books, px, spot, qlo, qhi, qout, oi, ox, row)
    brk = DOWN if spot > px else UP
    volume, imb, swdir, tconf = tape(pi, ms, sw, px, brk, t, qlo, qhi, qout, swout, oi, ox, row)
    ox[X_VEL, row] = velocity
    feff, net, fconf = fuel(pi, pf, gv, px, oi, ox, row)
    s_l, s_h, s_t, raw = break_score(pf, bstate, feff, velocity, imb, swdir, brk)
    ox[X_LS, row] = s_l
    ox[X_HS, row] = s_h
    ox[X_TS, row] = s_t
    ox[X_RAW, row] = raw
    ewma(pf, lv_i, lv_f, s, EW_SCORE, raw, t)
    ewma(pf, lv_i, lv_f, s, EW_VELOCITY, velocity, t)
    ewma(pf, lv_i, lv_f, s, EW_DELTA_LIQ, np.float64(delta), t)
    ewma(pf, lv_i, lv_f, s, EW_REPLENISH, ratio, t)
    ewma(pf, lv_i, lv_f, s, EW_GAMMA, net, t)
    smooth = lv_f[s, EW_SCORE] if lv_i[s, L_EW_HAS + EW_SCORE] == 1 else raw
    ox[X_SMOOTH, row] = smooth
    ox[X_DLIQ_S, row] = lv_f[s, EW_DELTA_LIQ]
    ox[X_RATIO_S, row] = lv_f[s, EW_REPLENISH]
    ox[X_VEL_S, row] = lv_f[s, EW_VELOCITY]
    ox[X_NET_S, row] = lv_f[s, EW_GAMMA]
    oi[I_EWMASK, row] = (
        lv_i[s, L_EW_HAS + EW_DELTA_LIQ]
        | lv_i[s, L_EW_HAS + EW_REPLENISH] << 1
        | lv_i[s, L_EW_HAS + EW_VELOCITY] << 2
        | lv_i[s, L_EW_HAS + EW_GAMMA] << 3
    )
    distance = abs(spot - px)
    last = lv_i[s, L_LAST_TS]
    contiguous = last != NONE and last == t - pi[P_SNAP]
    signal = trigger(pi, pf, lv_i, s, t, smooth, distance, bstate, volume, contiguous)
    oi[I_SIG, row] = signal
    rdir = UP if spot <= px else DOWN
    if signal == S_REJECT:
        rdir = DOWN if rdir == UP else UP
    obs, qual = runway(pi, books, upx, uni[4], px, rdir)
    oi[I_RDIR, row] = rdir
    oi[I_QUAL, row] = qual
    if obs >= 0:
        oi[I_OTYPE, row] = utype[obs]
        oi[I_OPX, row] = upx[obs]
        ox[X_RPTS, row] = abs(upx[obs] - px) / PRICE_SCALE
    else:
        oi[I_OTYPE, row] = -1
        oi[I_OPX, row] = NONE
    in_touch = distance <= pi[P_TOUCH]
    was_in = lv_i[s, L_IN_TOUCH] == 1 and contiguous
    oi[I_TOUCH, row] = lv_i[s, L_TOUCHES]
    if in_touch and not was_in:
        lv_i[s, L_TOUCHES] += 1
    lv_i[s, L_IN_TOUCH] = 1 if in_touch else 0
    lv_i[s, L_LAST_TS] = t
    avel, abars = approach(ring, st[ST_RING_HEAD], first, pi[P_PER_MIN], px, NO_SPOT)
    ox[X_AVEL, row] = avel
    oi[I_ABARS, row] = abars
    oi[I_CONF, row] = _confidence(pf, bconf, tconf, fconf)


@njit(cache=True, inline="always")
def _push_spot(ring, st, spot):  # type: ignore[no-untyped-def]
    n = ring.shape[0]
    h = st[ST_RING_HEAD]
    ring[h] = spot
    st[ST_RING_HEAD] = (h + 1) % n
    if spot == NO_SPOT:
        if st[ST_RING_RUN] > 0:
            st[ST_ERR] = ERR_SPOT_GAP  # spot never disappears once a valid book exists
        st[ST_RING_RUN] = 0
    elif st[ST_RING_RUN] < n:
        st[ST_RING_RUN] += 1


@borrowing_njit
def _needs_close_prep(meta, dlog, tlog, odd_px, target):  # type: ignore[no-untyped-def]
    """MarketState._close_through's capacity test: grid, off-grid table or entry ring too small."""
    lo, hi, n_odd, _, n_contrib = _prepass_kernel(meta, dlog, tlog, odd_px, target)
    if n_contrib == 0:
        return False
    base = meta[M_BASE]
    ng = meta[M_NGRID]
    if lo <= hi and (meta[M_GRID_INIT] == 0 or lo < base or hi >= base + ng):
        return True
    if meta[M_ODD_N] + n_odd > meta[M_ODD_CAP]:
        return True
    return meta[M_ENT_TAIL] - meta[M_ENT_HEAD] + n_contrib > meta[M_ENT_CAP]


@njit(cache=True, nogil=True)  # nogil: the reader thread decodes Parquet meanwhile
def run(
    pi, pf, st, cx, closes, lv, mkt, dep, trd, opt, fz, gs, gsc, uni, slots, lvs, ring, scr, out
):  # type: ignore[no-untyped-def]
    """Fold the chunk (dep, trd, opt) and score every snap it completes; returns a status."""
    meta, books, dlog, tlog, vr_ts, vr_px, sw, scratch, mark, touched, sums, odd_px, ent = mkt
    ent_b, ent_px, ent_v = ent
    d_ts, d_flags, d_lv = dep
    t_ts, t_px, t_sz, t_sd = trd
    o_ts, o_idx, o_sz, o_sd, o_iv, o_ok = opt
    position, volume, last_iv, bad_iv = fz
    ms = (meta, sums, odd_px, ent_b, ent_px, ent_v)
    snap = pi[P_SNAP]
    final = pi[P_FINAL] == 1
    while True:
        k = st[ST_K]
        t = pi[P_T0] + k * snap
        if final:
            if k > pi[P_K_LAST]:
                return NEED_INPUT
        else:
            # ---- fold every event with ts_recv <= t (options, depth, trades: engine order)
            po = st[ST_PO]
            while po < o_ts.shape[0] and o_ts[po] <= t:
                j = o_idx[po]
                if j < 0:
                    st[ST_UNKNOWN_OPT] += 1
                else:
                    sd = o_sd[po]
                    sign = -1 if sd == SIDE_BID else (1 if sd == SIDE_ASK else 0)
                    position[j] += sign * o_sz[po]
                    volume[j] += o_sz[po]
                    if o_ok[po]:
                        last_iv[j] = o_iv[po]
                    else:
                        bad_iv[j] += 1
                po += 1
            st[ST_PO] = po
            cd = st[ST_PD]
            while cd < d_ts.shape[0] and d_ts[cd] <= t:
                cd += 1
            if cd > st[ST_PD]:
                r = _fold_depth_kernel(
                    meta,
                    books,
                    dlog,
                    d_ts[:cd],
                    d_flags[:cd],
                    d_lv[:cd],
                    st[ST_PD],
                )
                st[ST_PD] = r
                if r < cd:
                    return GROW_DLOG
            ct = st[ST_PT]
            while ct < t_ts.shape[0] and t_ts[ct] <= t:
                ct += 1
            if ct > st[ST_PT]:
                a = st[ST_PT]
                r, need = _fold_trades_kernel(
                    meta, tlog, vr_ts, vr_px, sw, t_ts[:ct], t_px[:ct], t_sz[:ct], t_sd[:ct], a
                )
                _fold_context(pi, cx, closes, t_ts, t_px, a, r)
                st[ST_PT] = r
                if r < ct:
                    st[ST_NEED] = need
                    return GROW_TRADES
            if po == o_ts.shape[0] and st[ST_PD] == d_ts.shape[0] and st[ST_PT] == t_ts.shape[0]:
                return NEED_INPUT  # nothing after t has arrived yet: snap k may still grow
        # ---- snap k is complete: close its bucket, then score it
        if _needs_close_prep(meta, dlog, tlog, odd_px, k):
            st[ST_TARGET] = k
            return PREPARE_CLOSE
        _close_kernel(
            meta, dlog, tlog, scratch, mark, touched, sums, odd_px, ent_b, ent_px, ent_v, k
        )
        status = _score_snap(pi, pf, st, cx, closes, lv, ms, books, vr_ts, vr_px, sw, fz, gs,
                             gsc, uni, slots, lvs, ring, scr, out, t, k)  # fmt: skip
        if status != _SNAP_DONE:
            return status
        if st[ST_ERR] != 0:
            return FAIL
        if st[ST_NOUT] >= pi[P_BATCH]:
            return FLUSH


@borrowing_njit
def _score_snap(
    pi,
    pf,
    st,
    cx,
    closes,
    lv,
    ms,
    books,
    vr_ts,
    vr_px,
    sw,
    fz,
    gs,
    gsc,
    uni,
    slots,
    lvs,
    ring,
    scr,
    out,
    t,
    k,
):  # type: ignore[no-untyped-def]
    """signal_service.score_snap for snap k at time t (bucket already closed)."""
    meta = ms[0]
    oi, ox = out
    lv_i = lvs[0]
    if meta[M_HAS_VALID] == 0:
        _push_spot(ring, st, NO_SPOT)
        st[ST_UNSCORED] += 1
        st[ST_K] = k + 1
        return _SNAP_DONE
    if meta[M_N_TRADES] > 0:
        spot = meta[M_LAST_PX]
    else:
        spot = (books[B_VALID, K_BPX, 0] + books[B_VALID, K_APX, 0]) // 2
    gex, sg, scg, spg, svol = gsc
    gv = _gamma_view(pi, pf, (fz[0], fz[1], fz[2]), gs, spot, t, gex, sg, scg, spg, svol)
    n = _universe(pi, pf, meta, cx, closes, lv, gv, spot, t, st, uni)
    upx = uni[0]
    n_active = 0
    for i in range(n):
        if abs(upx[i] - spot) <= pi[P_MONITOR]:
            n_active += 1
    if st[ST_NOUT] + n_active > oi.shape[1]:
        return GROW_OUT
    if st[ST_NSLOTS] + n_active > lv_i.shape[0]:
        return GROW_SLOTS
    # ---- no return after this point: the snap mutates state
    cur = books[B_CUR]
    if meta[M_HAS_CUR] == 0 or _classify(
        cur[K_BPX, 0], cur[K_BSZ, 0], cur[K_APX, 0], cur[K_ASZ, 0]
    ):
        st[ST_STALE] += 1
    _push_spot(ring, st, spot)
    first = ring.shape[0] - st[ST_RING_RUN]
    # pure read of the print ring; only scored levels use it
    velocity = _velocity_kernel(meta, vr_ts, vr_px, t) if n_active > 0 else 0.0
    uni5 = (uni[0], uni[1], uni[2], uni[3], n)
    env = (ms, books, sw, gv, uni5, ring, scr, oi, ox, t, spot, velocity, first)
    bid = books[B_VALID, K_BPX, 0]
    ask = books[B_VALID, K_APX, 0]
    for i in range(n):
        if abs(upx[i] - spot) <= pi[P_MONITOR]:
            row = st[ST_NOUT]
            oi[I_TS, row] = t
            oi[I_SNAP, row] = k
            oi[I_SPOT, row] = spot
            oi[I_BID, row] = bid
            oi[I_ASK, row] = ask
            oi[I_SWDIR, row] = -1
            _score_level(pi, pf, env, lvs, slots, st, i, row)
            st[ST_NOUT] = row + 1
    if n_active > 0:
        st[ST_WITH_ROWS] += 1
    st[ST_K] = k + 1
    return _SNAP_DONE
