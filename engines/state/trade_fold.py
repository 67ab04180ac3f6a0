"""Trades folded into the state: per-bucket trade contributions, session VWAP, high/low,
sweep clusters, and the velocity and sweep queries; numba kernels."""

from __future__ import annotations

from numba import njit

from engines.contract.config import PRICE_SCALE
from engines.contract.events import SIDE_ASK, SIDE_BID, UNDEF_PRICE
from engines.jit.borrowing_jit import borrowing_njit
from engines.state.layout import (
    M_CL_ACTIVE,
    M_CL_END,
    M_CL_MAX,
    M_CL_MIN,
    M_CL_N,
    M_CL_NH,
    M_CL_NL,
    M_CL_SIDE,
    M_CL_SIZE,
    M_CL_START,
    M_GAP_NS,
    M_HIGH,
    M_LAST_PX,
    M_LAST_TB,
    M_LAST_TS,
    M_LOW,
    M_N_BAD_TRADES,
    M_N_TRADES,
    M_SNAP,
    M_SW_CAP,
    M_SW_HEAD,
    M_SW_MIN,
    M_SW_TAIL,
    M_T0,
    M_TAPE_NS,
    M_TLOG_N,
    M_VEL_NS,
    M_VR_CAP,
    M_VR_HEAD,
    M_VR_TAIL,
    M_VW_HI,
    M_VW_LO,
    M_VW_SIZE,
    N_SW,
    S_END,
    S_MAX,
    S_MIN,
    S_N,
    S_NH,
    S_NL,
    S_SIDE,
    S_SIZE,
    S_START,
    _bucket,
)


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
