"""Outcome labels of Gold rows (SPEC §10.1), as one sequential kernel over arrays.

For a row at snap ``T`` with level ``L``, spot ``S`` and side ``d`` (+1 RESISTANCE, −1 SUPPORT),
the window of horizon ``H`` is the primary future's trades with ``T < ts_recv <= T + H``. The
first trade outside the open band ``(L − b, L + b)`` decides the row at every horizon whose
window holds it: BREAK when it lies beyond ``L`` the break way, else REJECT (one trade cannot be
both). So one forward search per row serves all horizons.

The search skips whole blocks of trades by their max/min price, and MFE/MAE need the window's max
and min, read the same way: a row costs a few dozen steps however busy its five minutes were,
and rows of one snap share the window figures. Everything is int64 until each figure is divided
once by 1e9 (or 1e6) as float64, so a row's label depends on nothing but its own window: the same
bytes whatever the batch it was computed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from replay.labels.schema import BREAK, CENSORED, FAR, REJECT, TIMEOUT

BLOCK = 64
"""Trades per block of the max/min summaries the search skips by."""

I64_MAX = np.iinfo(np.int64).max
I64_MIN = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Outcomes:
    """Labels of ``n`` rows × ``h`` horizons, row-major (row i, horizon j at ``i*h + j``)."""

    code: np.ndarray  # int8 index into ``schema.OUTCOMES``
    t_hit_ms: np.ndarray  # float64, NaN unless BREAK or REJECT
    mfe_pts: np.ndarray  # float64, NaN for FAR
    mae_pts: np.ndarray
    fwd_ret_pts: np.ndarray
    label_end_ns: np.ndarray  # int64


def block_summaries(px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Max and min price of every ``BLOCK`` consecutive trades (the last block may be short)."""
    n = px.shape[0]
    nb_ = -(-n // BLOCK)
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    pad = nb_ * BLOCK - n
    hi = np.concatenate([px, np.full(pad, I64_MIN, np.int64)]).reshape(nb_, BLOCK).max(axis=1)
    lo = np.concatenate([px, np.full(pad, I64_MAX, np.int64)]).reshape(nb_, BLOCK).min(axis=1)
    return hi, lo


@nb.njit(cache=True, nogil=True)
def _first_outside(px, bmax, bmin, a, c, up, down):  # pragma: no cover - numba
    """First index in [a, c) with ``px >= up`` or ``px <= down``; ``c`` when none."""
    i = a
    while i < c:
        if i % BLOCK == 0 and i + BLOCK <= c:
            k = i // BLOCK
            if bmax[k] < up and bmin[k] > down:
                i += BLOCK
                continue
        p = px[i]
        if p >= up or p <= down:
            return i
        i += 1
    return c


@nb.njit(cache=True, nogil=True)
def _extend(px, bmax, bmin, a, c, mx, mn):  # pragma: no cover - numba
    """(max, min) of ``mx``/``mn`` and the prices in [a, c)."""
    i = a
    while i < c:
        if i % BLOCK == 0 and i + BLOCK <= c:
            k = i // BLOCK
            if bmax[k] > mx:
                mx = bmax[k]
            if bmin[k] < mn:
                mn = bmin[k]
            i += BLOCK
            continue
        if px[i] > mx:
            mx = px[i]
        if px[i] < mn:
            mn = px[i]
        i += 1
    return mx, mn


@nb.njit(cache=True, nogil=True)
def _label(  # pragma: no cover - numba
    ts, px, bmax, bmin, t, lvl, spot, side, lo, hi, horizons, b, end_ts,
    code, thit, mfe, mae, fwd, lend,
):  # fmt: skip
    n = t.shape[0]
    h = horizons.shape[0]
    wmx = np.empty(h, np.int64)
    wmn = np.empty(h, np.int64)
    last_t = I64_MIN
    for i in range(n):
        ti = t[i]
        a = lo[i]
        if ti != last_t:  # the window's max/min per horizon: shared by the snap's rows
            mx, mn = I64_MIN, I64_MAX
            prev = a
            for j in range(h):
                c = hi[i, j]
                mx, mn = _extend(px, bmax, bmin, prev, c, mx, mn)
                prev = c
                wmx[j] = mx
                wmn[j] = mn
            last_t = ti
        L = lvl[i]
        S = spot[i]
        d = side[i]
        far = d * (L - S) >= b
        k = -1
        if not far:
            k = _first_outside(px, bmax, bmin, a, hi[i, h - 1], L + b, L - b)
        for j in range(h):
            o = i * h + j
            c = hi[i, j]
            if far:
                code[o] = FAR
                thit[o] = np.nan
                mfe[o] = np.nan
                mae[o] = np.nan
                fwd[o] = np.nan
                lend[o] = ti
                continue
            if c > a:
                up = wmx[j] - S if d > 0 else S - wmn[j]
                dn = S - wmn[j] if d > 0 else wmx[j] - S
                mfe[o] = max(up, 0) / 1e9
                mae[o] = max(dn, 0) / 1e9
                fwd[o] = d * (px[c - 1] - S) / 1e9
            else:
                mfe[o] = 0.0
                mae[o] = 0.0
                fwd[o] = 0.0
            if k < c:
                code[o] = BREAK if d * (px[k] - L) >= b else REJECT
                thit[o] = (ts[k] - ti) / 1e6
                lend[o] = ts[k]
            else:
                code[o] = TIMEOUT if end_ts >= ti + horizons[j] else CENSORED
                thit[o] = np.nan
                lend[o] = ti + horizons[j]


def label_rows(
    trade_ts: np.ndarray,
    trade_px: np.ndarray,
    ts_ns: np.ndarray,
    level_px: np.ndarray,
    spot_px: np.ndarray,
    side: np.ndarray,
    horizons_ns: tuple[int, ...],
    barrier: int,
    session_end_ns: int,
) -> Outcomes:
    """Labels of rows (sorted by ``ts_ns``) against the trades (sorted by ``ts_recv``, in merged
    order, holding every trade in ``(min ts_ns, max ts_ns + max horizon]``).

    ``side``: +1 RESISTANCE, −1 SUPPORT. ``session_end_ns``: the session's last market record's
    ``ts_recv`` (TIMEOUT when it reaches ``T + H``, else CENSORED).
    """
    ts = np.ascontiguousarray(trade_ts, dtype=np.int64)
    px = np.ascontiguousarray(trade_px, dtype=np.int64)
    t = np.ascontiguousarray(ts_ns, dtype=np.int64)
    hz = np.asarray(horizons_ns, dtype=np.int64)
    n, h = t.shape[0], hz.shape[0]
    lo = np.searchsorted(ts, t, side="right").astype(np.int64)
    hi = np.empty((n, h), np.int64)
    for j in range(h):  # sorted needles: far faster than one unsorted search
        hi[:, j] = np.searchsorted(ts, t + hz[j], side="right")
    bmax, bmin = block_summaries(px)
    code = np.empty(n * h, np.int8)
    out = [np.empty(n * h, np.float64) for _ in range(4)]
    lend = np.empty(n * h, np.int64)
    if n:
        _label(
            ts,
            px,
            bmax,
            bmin,
            t,
            np.ascontiguousarray(level_px, dtype=np.int64),
            np.ascontiguousarray(spot_px, dtype=np.int64),
            np.ascontiguousarray(side, dtype=np.int64),
            lo,
            hi,
            hz,
            np.int64(barrier),
            np.int64(session_end_ns),
            code,
            *out,
            lend,
        )
    return Outcomes(code, out[0], out[1], out[2], out[3], lend)
