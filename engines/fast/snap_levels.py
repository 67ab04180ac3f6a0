"""Per-level engines of the fast path as numba functions (SPEC §5.2–§5.9).

Each function mirrors one reference engine (``barrier``, ``tape``, ``fuel.compute_fuel``,
``score``, ``smoothing``, ``trigger``, ``room_to_run``, the approach context of
``signal_service``) operation for operation, so every float has the same bits: same operand
order, true divisions of exactly representable integers, ``math.exp`` from the same libm, and
Python's ``min``/``max`` tie rules written out. Strings are codes (``engines.fast.snap_codes``);
results go straight into the Gold column arrays ``oi`` (int64) and ``ox`` (float64) at ``row``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from engines.contract.config import NS_PER_S, PRICE_SCALE
from engines.contract.events import SIDE_BID, UNDEF_PRICE
from engines.fast.snap_codes import (
    ABSORPTION,
    AMPLIFY,
    B_NEUTRAL,
    CLEAR,
    CONSUMED,
    DAMPEN,
    DOWN,
    F_NEUTRAL,
    I_ADDED,
    I_BSTATE,
    I_BUY,
    I_CHURN,
    I_CWALL,
    I_CXL,
    I_DEPTH,
    I_DIR,
    I_DLIQ,
    I_DPX,
    I_DSZ,
    I_FEFF,
    I_FILL,
    I_FLIP,
    I_PWALL,
    I_SELL,
    I_SWDIR,
    I_SWH,
    I_SWL,
    I_SWN,
    L_ARMED,
    L_ARMED_TS,
    L_EW_HAS,
    L_EW_TS,
    L_TRIG,
    NONE,
    OBSTRUCTED,
    P_CHURN_FULL,
    P_CONTESTED_VOL,
    P_FLOW,
    P_FUEL_FULL,
    P_FUEL_RANGE,
    P_HOLD,
    P_OBSTACLE,
    P_TAPE_BAND,
    P_TAPE_FULL,
    P_TOUCH,
    P_WB,
    P_WEAK,
    P_WT,
    P_ZONE,
    Q_BREAK_ENTER,
    Q_BREAK_EXIT,
    Q_CONTESTED_HI,
    Q_CONTESTED_LO,
    Q_DT_CAP,
    Q_GAMMA_T,
    Q_R_VAC,
    Q_R_WALL,
    Q_REJECT_ENTER,
    Q_REJECT_EXIT,
    Q_TAU0,
    Q_VEL_FULL,
    Q_W_H,
    Q_W_L,
    Q_W_T,
    Q_WALL_T,
    RESISTANCE,
    S_BREAK,
    S_CONTESTED,
    S_NEUTRAL,
    S_REJECT,
    SUPPORT,
    UP,
    VACUUM,
    WALL,
    WEAK,
    X_BCONF,
    X_FCONF,
    X_IMB,
    X_NET,
    X_RATIO,
    X_SWMS,
    X_TCONF,
)
from engines.jit.borrowing_jit import borrowing_njit
from engines.state.layout import (
    B_VALID,
    F_ASK_ADD,
    F_ASK_CXL,
    F_ASK_FILL,
    F_BID_ADD,
    F_BID_CXL,
    F_BID_FILL,
    F_BUY_VOL,
    F_SELL_VOL,
    K_APX,
    K_ASZ,
    K_BPX,
    K_BSZ,
    S_END,
    S_N,
    S_NH,
    S_NL,
    S_SIDE,
    S_START,
)
from engines.state.trade_fold import _sweep_kernel
from engines.state.windows import _query_kernel

_LIQUIDITY = (60.0, 100.0, 0.0, 0.0, 75.0, 50.0)  # by barrier code
_HEDGE = (100.0, 0.0, 50.0)  # by fuel code


@njit(cache=True, inline="always")
def py_min(a, b):  # type: ignore[no-untyped-def]
    """Python's ``min(a, b)``: ``a`` unless ``b < a``."""
    return b if b < a else a


@njit(cache=True, inline="always")
def py_max(a, b):  # type: ignore[no-untyped-def]
    """Python's ``max(a, b)``: ``a`` unless ``b > a``."""
    return b if b > a else a


@njit(cache=True, inline="always")
def window_query(ms, lo, hi, wb, qlo, qhi, qout):  # type: ignore[no-untyped-def]
    """MarketState window sums over ``[lo, hi]`` (all fields, one interval) into ``qout[0]``."""
    meta, sums, odd_px, ent_b, ent_px, ent_v = ms
    qlo[0] = lo
    qhi[0] = hi
    _query_kernel(meta, sums, odd_px, ent_b, ent_px, ent_v, qlo, qhi, wb, qout)


@njit(cache=True, inline="always")
def barrier(pi, pf, ms, books, level_px, spot, qlo, qhi, qout, oi, ox, row):  # type: ignore[no-untyped-def]
    """engines.physics.barrier.compute_barrier; returns (state, delta_liq, ratio, confidence)."""
    support = spot > level_px
    z = pi[P_ZONE]
    lo = level_px - z
    hi = level_px + z
    window_query(ms, lo, hi, pi[P_WB], qlo, qhi, qout)
    if support:
        added, canceled, filled = qout[0, F_BID_ADD], qout[0, F_BID_CXL], qout[0, F_BID_FILL]
        kp, ks = K_BPX, K_BSZ
    else:
        added, canceled, filled = qout[0, F_ASK_ADD], qout[0, F_ASK_CXL], qout[0, F_ASK_FILL]
        kp, ks = K_APX, K_ASZ
    delta = added - canceled - filled
    ratio = added / (canceled + filled + 1)
    churn = added + canceled + filled
    depth = 0
    for j in range(books.shape[2]):
        p = books[B_VALID, kp, j]
        s = books[B_VALID, ks, j]
        if p != UNDEF_PRICE and s > 0 and p >= lo and p <= hi:
            depth += s
    f = pi[P_FLOW]
    if delta < -f and filled > canceled:
        state = CONSUMED
    elif delta < -f and ratio < pf[Q_R_VAC]:
        state = VACUUM
    elif delta > f and ratio > pf[Q_R_WALL]:
        state = WALL
    elif filled >= f and delta >= 0:
        state = ABSORPTION
    elif depth < pi[P_WEAK]:
        state = WEAK
    else:
        state = B_NEUTRAL
    conf = py_min(1.0, churn / pi[P_CHURN_FULL])
    oi[I_DIR, row] = SUPPORT if support else RESISTANCE
    oi[I_BSTATE, row] = state
    oi[I_DLIQ, row] = delta
    oi[I_ADDED, row] = added
    oi[I_CXL, row] = canceled
    oi[I_FILL, row] = filled
    oi[I_DPX, row] = books[B_VALID, kp, 0]
    oi[I_DSZ, row] = books[B_VALID, ks, 0]
    oi[I_CHURN, row] = churn
    oi[I_DEPTH, row] = depth
    ox[X_RATIO, row] = ratio
    ox[X_BCONF, row] = conf
    return state, delta, ratio, conf


@njit(cache=True, inline="always")
def tape(pi, ms, sw, level_px, brk, now, qlo, qhi, qout, swout, oi, ox, row):  # type: ignore[no-untyped-def]
    """engines.physics.tape.compute_tape minus velocity; returns (volume, imbalance, sweep dir,
    conf)."""
    b = pi[P_TAPE_BAND]
    lo = level_px - b
    hi = level_px + b
    window_query(ms, lo, hi, pi[P_WT], qlo, qhi, qout)
    buy = qout[0, F_BUY_VOL]
    sell = qout[0, F_SELL_VOL]
    tot = buy + sell
    imbalance = 0.0 if tot == 0 else (buy - sell) / tot
    swdir = -1
    if _sweep_kernel(ms[0], sw, now, lo, hi, swout):
        swdir = UP if swout[S_SIDE] == SIDE_BID else DOWN
        oi[I_SWH, row] = swout[S_NH]
        oi[I_SWL, row] = swout[S_NL]
        oi[I_SWN, row] = swout[S_N]
        ox[X_SWMS, row] = (swout[S_END] - swout[S_START]) / 1e6
    conf = py_min(1.0, tot / pi[P_TAPE_FULL])
    oi[I_BUY, row] = buy
    oi[I_SELL, row] = sell
    oi[I_SWDIR, row] = swdir
    ox[X_IMB, row] = imbalance
    ox[X_TCONF, row] = conf
    return tot, imbalance, swdir, conf


@borrowing_njit
def _argmax_first(g, a, b, step):  # type: ignore[no-untyped-def]
    """np.argmax over g[a], g[a+step], ... (b exclusive): first maximum, a NaN wins."""
    best = a
    i = a + step
    while i != b:
        if math.isnan(g[best]):
            break
        if math.isnan(g[i]) or g[i] > g[best]:
            best = i
        i += step
    return best


@borrowing_njit
def wall(ks, g, a, b, step, threshold):  # type: ignore[no-untyped-def]
    """engines.physics.fuel._wall over ks[a..b) walked by ``step`` (nearest first); NONE when
    absent."""
    if a == b:
        return NONE
    j = _argmax_first(g, a, b, step)
    if g[j] > 0.0 and g[j] >= threshold:
        return ks[j]
    return NONE


@borrowing_njit
def flip(ks, g, a, b):  # type: ignore[no-untyped-def]
    """engines.physics.fuel._flip over strikes [a, b): first sign change among non-zero GEX,
    floored."""
    prev = -1
    for j in range(a, b):
        if g[j] != 0.0:
            if prev >= 0 and (g[j] > 0.0) != (g[prev] > 0.0):
                g1 = g[prev]
                g2 = g[j]
                frac = g1 / (g1 - g2)
                return ks[prev] + np.int64(math.floor((ks[j] - ks[prev]) * frac))
            prev = j
    return NONE


@borrowing_njit
def wall_pair(ks, call_g, put_g, a, b, center, threshold):  # type: ignore[no-untyped-def]
    """(call wall strictly above ``center``, put wall strictly below) over strikes [a, b)."""
    up = a
    while up < b and ks[up] <= center:
        up += 1
    dn = b
    while dn > a and ks[dn - 1] >= center:
        dn -= 1
    cw = wall(ks, call_g, up, b, 1, threshold)
    pw = wall(ks, put_g, dn - 1, a - 1, -1, threshold)
    return cw, pw


@njit(cache=True, inline="always")
def fuel(pi, pf, gv, level_px, oi, ox, row):  # type: ignore[no-untyped-def]
    """engines.physics.fuel.compute_fuel over the snap's gamma view; returns (effect, net, conf)."""
    inst_strike, inst_gex, ia0, ib0, ks, sg, scg, spg, svol, sa0, sb0 = gv
    rng = pi[P_FUEL_RANGE]
    lo = level_px - rng
    hi = level_px + rng
    ia = ia0 + np.searchsorted(inst_strike[ia0:ib0], lo, side="left")
    ib = ia0 + np.searchsorted(inst_strike[ia0:ib0], hi, side="right")
    net = 0.0
    if ib > ia:
        for i in range(ia, ib):
            net += inst_gex[i]
    t = pf[Q_GAMMA_T]
    if net < -t:
        effect = AMPLIFY
    elif net > t:
        effect = DAMPEN
    else:
        effect = F_NEUTRAL
    a = sa0 + np.searchsorted(ks[sa0:sb0], lo, side="left")
    b = sa0 + np.searchsorted(ks[sa0:sb0], hi, side="right")
    cw, pw = wall_pair(ks, scg, spg, a, b, level_px, pf[Q_WALL_T])
    vol = 0
    for j in range(a, b):
        vol += svol[j]
    conf = py_min(1.0, vol / pi[P_FUEL_FULL])
    oi[I_FEFF, row] = effect
    oi[I_CWALL, row] = cw
    oi[I_PWALL, row] = pw
    oi[I_FLIP, row] = flip(ks, sg, a, b)
    ox[X_NET, row] = net
    ox[X_FCONF, row] = conf
    return effect, net, conf


@njit(cache=True, inline="always")
def _points(x, brk):  # type: ignore[no-untyped-def]
    if not math.isfinite(x):
        return False
    return x > 0.0 if brk == UP else x < 0.0


@njit(cache=True, inline="always")
def break_score(pf, bstate, feffect, velocity, imbalance, swdir, brk):  # type: ignore[no-untyped-def]
    """engines.physics.score.break_score; returns (S_L, S_H, S_T, raw)."""
    s_l = _LIQUIDITY[bstate]
    s_h = _HEDGE[feffect]
    if swdir >= 0 and swdir == brk:
        s_t = 100.0
    else:
        s = 0.0
        if _points(velocity, brk):
            v = py_min(1.0, abs(velocity) / pf[Q_VEL_FULL])
            s += 25.0 * v
        if _points(imbalance, brk):
            s += 25.0 * abs(imbalance)
        s_t = py_min(50.0, s)
    raw = pf[Q_W_L] * s_l + pf[Q_W_H] * s_h + pf[Q_W_T] * s_t
    raw = py_min(100.0, py_max(0.0, raw))
    return s_l, s_h, s_t, raw


@njit(cache=True, inline="always")
def ewma(pf, lv_i, lv_f, slot, k, x, ts):  # type: ignore[no-untyped-def]
    """engines.physics.smoothing.ewma_update of EWMA ``k`` of a level slot, in place."""
    if not math.isfinite(x):
        return
    if lv_i[slot, L_EW_HAS + k] == 0:
        lv_i[slot, L_EW_HAS + k] = 1
        lv_f[slot, k] = x
        lv_i[slot, L_EW_TS + k] = ts
        return
    dt_ns = ts - lv_i[slot, L_EW_TS + k]
    if dt_ns <= 0:
        return
    dt_s = py_min(dt_ns / NS_PER_S, pf[Q_DT_CAP])
    alpha = 1.0 - math.exp(-dt_s / pf[Q_TAU0 + k])
    lv_f[slot, k] = alpha * x + (1.0 - alpha) * lv_f[slot, k]
    lv_i[slot, L_EW_TS + k] = ts


@njit(cache=True, inline="always")
def _candidate(pi, pf, state, score, distance):  # type: ignore[no-untyped-def]
    if state == S_NEUTRAL:
        if score >= pf[Q_BREAK_ENTER]:
            return S_BREAK
        if score <= pf[Q_REJECT_ENTER] and distance <= pi[P_TOUCH]:
            return S_REJECT
        return -1
    if state == S_BREAK:
        return S_NEUTRAL if score < pf[Q_BREAK_EXIT] else -1
    return S_NEUTRAL if (score > pf[Q_REJECT_EXIT] or distance > pi[P_TOUCH]) else -1


@njit(cache=True, inline="always")
def trigger(pi, pf, lv_i, slot, ts, score, distance, bstate, volume, contiguous):  # type: ignore[no-untyped-def]
    """engines.physics.trigger.step_trigger on a level slot, in place; returns the signal code."""
    armed = lv_i[slot, L_ARMED]
    armed_ts = lv_i[slot, L_ARMED_TS]
    if armed >= 0 and not contiguous:
        armed = -1
    cand = _candidate(pi, pf, lv_i[slot, L_TRIG], score, distance)
    if cand < 0:
        armed = -1
    elif cand != armed:
        armed = cand
        armed_ts = ts
    if armed >= 0 and ts >= armed_ts + pi[P_HOLD]:
        lv_i[slot, L_TRIG] = armed
        armed = -1
    lv_i[slot, L_ARMED] = armed
    lv_i[slot, L_ARMED_TS] = armed_ts if armed >= 0 else NONE
    st = lv_i[slot, L_TRIG]
    if st != S_NEUTRAL:
        return st
    if (
        pf[Q_CONTESTED_LO] <= score <= pf[Q_CONTESTED_HI]
        and bstate == CONSUMED
        and volume >= pi[P_CONTESTED_VOL]
    ):
        return S_CONTESTED
    return S_NEUTRAL


@njit(cache=True, inline="always")
def runway(pi, books, upx, n, level_px, rdir):  # type: ignore[no-untyped-def]
    """engines.physics.room_to_run.runway over the sorted universe; returns (obstacle index,
    quality).

    The obstacle is the first universe entry at the nearest price beyond L (universe order is
    (price, id), so the first at a price has the smallest id); -1 when there is none.
    """
    obs = -1
    if rdir == UP:
        i = np.searchsorted(upx[:n], level_px, side="right")
        if i < n:
            obs = i
        kp, ks = K_APX, K_ASZ
    else:
        i = np.searchsorted(upx[:n], level_px, side="left") - 1
        if i >= 0:
            obs = np.searchsorted(upx[:n], upx[i], side="left")
        kp, ks = K_BPX, K_BSZ
    best = 0
    for j in range(books.shape[2]):
        p = books[B_VALID, kp, j]
        s = books[B_VALID, ks, j]
        if p == UNDEF_PRICE or s <= 0:
            continue
        if rdir == UP:
            inside = p >= level_px and (obs < 0 or p <= upx[obs])
        else:
            inside = p <= level_px and (obs < 0 or p >= upx[obs])
        if inside and s > best:
            best = s
    return obs, OBSTRUCTED if best >= pi[P_OBSTACLE] else CLEAR


@njit(cache=True, inline="always")
def approach(ring, head, first, per_min, level_px, no_spot):  # type: ignore[no-untyped-def]
    """signal_service._approach on the circular spot ring (logical i at (head + i) % n)."""
    n = ring.shape[0]
    now = ring[(head + n - 1) % n]
    d_now = abs(now - level_px)
    steps = n - 1 - first
    vel = 0.0
    if steps > 0:
        minutes = steps / per_min
        vel = (abs(ring[(head + first) % n] - level_px) - d_now) / PRICE_SCALE / minutes
    bars = 0
    i = n - 1
    while i - per_min >= 0 and ring[(head + i - per_min) % n] != no_spot:
        if abs(ring[(head + i) % n] - level_px) < abs(ring[(head + i - per_min) % n] - level_px):
            bars += 1
            i -= per_min
        else:
            break
    return vel, bars
