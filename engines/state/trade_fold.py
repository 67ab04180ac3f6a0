"""Trades folded into the state: per-bucket trade contributions, session VWAP, high/low,
sweep clusters, and the velocity and sweep queries; numba kernels."""

from __future__ import annotations

from numba import njit

from engines.contract.config import PRICE_SCALE
from engines.contract.events import SIDE_ASK, SIDE_BID, UNDEF_PRICE
from engines.jit.borrowing_jit import borrowing_njit
from engines.state import layout as L


@borrowing_njit
def _close_sweep_cluster(meta, sw):  # type: ignore[no-untyped-def]
    """End the open cluster; keep it only if it is a sweep (size and two-price rules)."""
    if (
        meta[L.M_CL_ACTIVE] == 1
        and meta[L.M_CL_SIZE] >= meta[L.M_SW_MIN]
        and meta[L.M_CL_MIN] != meta[L.M_CL_MAX]
    ):
        cap = meta[L.M_SW_CAP]
        k = meta[L.M_SW_TAIL] % cap
        sw[k, L.S_START] = meta[L.M_CL_START]
        sw[k, L.S_END] = meta[L.M_CL_END]
        sw[k, L.S_SIDE] = meta[L.M_CL_SIDE]
        sw[k, L.S_SIZE] = meta[L.M_CL_SIZE]
        sw[k, L.S_N] = meta[L.M_CL_N]
        sw[k, L.S_MIN] = meta[L.M_CL_MIN]
        sw[k, L.S_MAX] = meta[L.M_CL_MAX]
        sw[k, L.S_NH] = meta[L.M_CL_NH]
        sw[k, L.S_NL] = meta[L.M_CL_NL]
        meta[L.M_SW_TAIL] += 1
    meta[L.M_CL_ACTIVE] = 0


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
    t0 = meta[L.M_T0]
    snap = meta[L.M_SNAP]
    tn = meta[L.M_TLOG_N]
    n = ts.shape[0]
    r = start
    need = 0
    while r < n:
        if tn >= tlog.shape[0]:
            need |= 1
        if meta[L.M_VR_TAIL] - meta[L.M_VR_HEAD] >= meta[L.M_VR_CAP]:
            need |= 2
        if meta[L.M_SW_TAIL] - meta[L.M_SW_HEAD] >= meta[L.M_SW_CAP]:
            need |= 4
        if need != 0:
            break
        t = ts[r]
        p = px[r]
        s = sz[r]
        sd = side[r]
        if p == UNDEF_PRICE:
            meta[L.M_N_BAD_TRADES] += 1
            r += 1
            continue
        b = L._bucket(t, t0, snap)
        tlog[tn, 0] = b
        tlog[tn, 1] = p
        tlog[tn, 2] = sd
        tlog[tn, 3] = s
        tn += 1
        q = p // PRICE_SCALE
        rem = p - q * PRICE_SCALE
        meta[L.M_VW_HI] += q * s
        lo = meta[L.M_VW_LO] + rem * s  # < 1e9 + 1e9·(2^32 − 1) < 2^63: no overflow
        carry = lo // PRICE_SCALE  # keep LO below one point so the next trade fits too
        meta[L.M_VW_HI] += carry
        meta[L.M_VW_LO] = lo - carry * PRICE_SCALE
        meta[L.M_VW_SIZE] += s
        update_hilo(meta, meta[L.M_N_TRADES] == 0, L.M_HIGH, L.M_LOW, p)
        meta[L.M_LAST_PX] = p
        meta[L.M_LAST_TS] = t
        meta[L.M_N_TRADES] += 1
        meta[L.M_LAST_TB] = b
        # velocity ring: drop prints no future window (T >= t) can contain
        vcap = meta[L.M_VR_CAP]
        while (
            meta[L.M_VR_HEAD] < meta[L.M_VR_TAIL]
            and vr_ts[meta[L.M_VR_HEAD] % vcap] <= t - meta[L.M_VEL_NS]
        ):
            meta[L.M_VR_HEAD] += 1
        k = meta[L.M_VR_TAIL] % vcap
        vr_ts[k] = t
        vr_px[k] = p
        meta[L.M_VR_TAIL] += 1
        # sweep clusters over the whole session trade sequence
        if (
            meta[L.M_CL_ACTIVE] == 1
            and sd == meta[L.M_CL_SIDE]
            and t - meta[L.M_CL_END] <= meta[L.M_GAP_NS]
        ):
            meta[L.M_CL_END] = t
            meta[L.M_CL_SIZE] += s
            meta[L.M_CL_N] += 1
            if p < meta[L.M_CL_MIN]:
                meta[L.M_CL_MIN] = p
            if p > meta[L.M_CL_MAX]:
                meta[L.M_CL_MAX] = p
            meta[L.M_CL_NH] += q * s
            meta[L.M_CL_NL] += rem * s
        else:
            _close_sweep_cluster(meta, sw)
            if sd == SIDE_BID or sd == SIDE_ASK:  # noqa: SIM109 (numba-friendly)
                meta[L.M_CL_ACTIVE] = 1
                meta[L.M_CL_SIDE] = sd
                meta[L.M_CL_START] = t
                meta[L.M_CL_END] = t
                meta[L.M_CL_SIZE] = s
                meta[L.M_CL_N] = 1
                meta[L.M_CL_MIN] = p
                meta[L.M_CL_MAX] = p
                meta[L.M_CL_NH] = q * s
                meta[L.M_CL_NL] = rem * s
        scap = meta[L.M_SW_CAP]
        while (
            meta[L.M_SW_HEAD] < meta[L.M_SW_TAIL]
            and sw[meta[L.M_SW_HEAD] % scap, L.S_END] <= t - meta[L.M_TAPE_NS]
        ):
            meta[L.M_SW_HEAD] += 1
        r += 1
    meta[L.M_TLOG_N] = tn
    return r, need


@borrowing_njit
def _velocity_kernel(meta, vr_ts, vr_px, now):  # type: ignore[no-untyped-def]
    """Least-squares slope (points/s) of the prints in (now - W_v, now], in event order."""
    cap = meta[L.M_VR_CAP]
    tail = meta[L.M_VR_TAIL]
    first = meta[L.M_VR_HEAD]
    edge = now - meta[L.M_VEL_NS]
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
    edge = now - meta[L.M_TAPE_NS]
    found = False
    best_h = 0
    best_l = 0
    cap = meta[L.M_SW_CAP]
    for c in range(meta[L.M_SW_HEAD], meta[L.M_SW_TAIL] + 1):
        if c < meta[L.M_SW_TAIL]:
            k = c % cap
            end = sw[k, L.S_END]
            mn = sw[k, L.S_MIN]
            mx = sw[k, L.S_MAX]
            nh = sw[k, L.S_NH]
            nl = sw[k, L.S_NL]
        else:  # the open cluster ends at its last print so far
            if meta[L.M_CL_ACTIVE] == 0:
                break
            if meta[L.M_CL_SIZE] < meta[L.M_SW_MIN] or meta[L.M_CL_MIN] == meta[L.M_CL_MAX]:
                break
            end = meta[L.M_CL_END]
            mn = meta[L.M_CL_MIN]
            mx = meta[L.M_CL_MAX]
            nh = meta[L.M_CL_NH]
            nl = meta[L.M_CL_NL]
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
            if c < meta[L.M_SW_TAIL]:
                for f in range(L.N_SW):
                    out[f] = sw[c % cap, f]
            else:
                out[L.S_START] = meta[L.M_CL_START]
                out[L.S_END] = meta[L.M_CL_END]
                out[L.S_SIDE] = meta[L.M_CL_SIDE]
                out[L.S_SIZE] = meta[L.M_CL_SIZE]
                out[L.S_N] = meta[L.M_CL_N]
                out[L.S_MIN] = mn
                out[L.S_MAX] = mx
            out[L.S_NH] = h
            out[L.S_NL] = low
    return found
