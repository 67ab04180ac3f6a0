"""The window sums: closing a bucket into per-price entries on a re-centring tick grid (plus
a side table for off-grid prices) and querying a zone's sums over a window; numba kernels."""

from __future__ import annotations

import numpy as np
from numba import njit

from engines.contract.events import SIDE_ASK, SIDE_BID
from engines.jit.borrowing_jit import borrowing_njit
from engines.state import layout as L


@borrowing_njit
def _slot_of(meta, odd_px, p):  # type: ignore[no-untyped-def]
    """Dense slot of an exact price; off-grid prices live after the grid. -1 if absent."""
    tick = meta[L.M_TICK]
    ng = meta[L.M_NGRID]
    if p % tick == 0:
        i = p // tick - meta[L.M_BASE]
        if 0 <= i < ng:
            return i
        return -1
    for j in range(meta[L.M_ODD_N]):
        if odd_px[j] == p:
            return ng + j
    return -1


@borrowing_njit
def _prepass_kernel(meta, dlog, tlog, odd_px, target):  # type: ignore[no-untyped-def]
    """Before closing: grid index range, off-grid prices (new, all) and entries the close needs."""
    tick = meta[L.M_TICK]
    lo = L._BIG
    hi = -L._BIG
    n_odd = 0
    n_odd_all = 0
    n_contrib = 0
    for which in range(2):
        log = dlog if which == 0 else tlog
        n = meta[L.M_DLOG_N] if which == 0 else meta[L.M_TLOG_N]
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
                for j in range(meta[L.M_ODD_N]):
                    if odd_px[j] == p:
                        found = True
                        break
                if not found:
                    n_odd += 1
    return lo, hi, n_odd, n_odd_all, n_contrib


@njit(cache=True)
def _live_range_kernel(meta, ent_px):  # type: ignore[no-untyped-def]
    """Grid index range and distinct off-grid prices referenced by live entries."""
    tick = meta[L.M_TICK]
    cap = meta[L.M_ENT_CAP]
    lo = L._BIG
    hi = -L._BIG
    odd = np.empty(meta[L.M_ENT_TAIL] - meta[L.M_ENT_HEAD], dtype=np.int64)
    n_odd = 0
    for c in range(meta[L.M_ENT_HEAD], meta[L.M_ENT_TAIL]):
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
    j = meta[L.M_ODD_N]  # capacity guaranteed by the pre-pass
    odd_px[j] = p
    meta[L.M_ODD_N] = j + 1
    return meta[L.M_NGRID] + j


@borrowing_njit
def _close_kernel(
    meta, dlog, tlog, scratch, mark, touched, sums, odd_px, ent_b, ent_px, ent_v, target
):  # type: ignore[no-untyped-def]
    """Close every pending bucket <= target, then expire entries that left each window."""
    nd = meta[L.M_DLOG_N]
    nt = meta[L.M_TLOG_N]
    ng = meta[L.M_NGRID]
    tick = meta[L.M_TICK]
    base = meta[L.M_BASE]
    cap = meta[L.M_ENT_CAP]
    i = 0
    j = 0
    while True:
        bd = dlog[i, 0] if i < nd else L._BIG
        bt = tlog[j, 0] if j < nt else L._BIG
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
                    scratch[s, L.F_BID_ADD] += d
                else:
                    scratch[s, L.F_BID_CXL] -= d
            else:
                if d > 0:
                    scratch[s, L.F_ASK_ADD] += d
                else:
                    scratch[s, L.F_ASK_CXL] -= d
            i += 1
        while j < nt and tlog[j, 0] == b:
            s = _slot_insert(meta, odd_px, tlog[j, 1])
            if mark[s] == 0:
                mark[s] = 1
                touched[ntouch] = s
                ntouch += 1
            sd = tlog[j, 2]
            if sd == SIDE_BID:
                scratch[s, L.F_BUY_VOL] += tlog[j, 3]
                scratch[s, L.F_BUY_CNT] += 1
            elif sd == SIDE_ASK:
                scratch[s, L.F_SELL_VOL] += tlog[j, 3]
                scratch[s, L.F_SELL_CNT] += 1
            else:
                scratch[s, L.F_NONE_VOL] += tlog[j, 3]
                scratch[s, L.F_NONE_CNT] += 1
            j += 1
        for k in range(ntouch):
            s = touched[k]
            # fill/pull split per price and bucket: passive bid = A aggressor, ask = B aggressor
            rem_b = scratch[s, L.F_BID_CXL]
            fill_b = min(rem_b, scratch[s, L.F_SELL_VOL])
            scratch[s, L.F_BID_FILL] = fill_b
            scratch[s, L.F_BID_CXL] = rem_b - fill_b
            rem_a = scratch[s, L.F_ASK_CXL]
            fill_a = min(rem_a, scratch[s, L.F_BUY_VOL])
            scratch[s, L.F_ASK_FILL] = fill_a
            scratch[s, L.F_ASK_CXL] = rem_a - fill_a
            e = meta[L.M_ENT_TAIL] % cap
            ent_b[e] = b
            ent_px[e] = (base + s) * tick if s < ng else odd_px[s - ng]
            for f in range(L.N_FIELDS):
                v = scratch[s, f]
                ent_v[e, f] = v
                sums[0, s, f] += v
                sums[1, s, f] += v
                scratch[s, f] = 0
            mark[s] = 0
            meta[L.M_ENT_TAIL] += 1
    # drop consumed contributions (the rest belong to later, still open buckets)
    for k in range(nd - i):
        for c in range(4):
            dlog[k, c] = dlog[i + k, c]
    for k in range(nt - j):
        for c in range(4):
            tlog[k, c] = tlog[j + k, c]
    meta[L.M_DLOG_N] = nd - i
    meta[L.M_TLOG_N] = nt - j
    if target > meta[L.M_CLOSED]:
        meta[L.M_CLOSED] = target
    closed = meta[L.M_CLOSED]
    tail = meta[L.M_ENT_TAIL]
    for w in range(2):
        cur = meta[L.M_CUR0 + w]
        edge = closed - meta[L.M_W0 + w]
        e = cur % cap  # ring position of cur, stepped without a division per entry
        while cur < tail and ent_b[e] <= edge:
            s = _slot_of(meta, odd_px, ent_px[e])
            for f in range(L.N_FIELDS):
                sums[w, s, f] -= ent_v[e, f]
            cur += 1
            e = e + 1 if e + 1 < cap else 0
        meta[L.M_CUR0 + w] = cur
    head = meta[L.M_ENT_HEAD]
    edge = closed - meta[L.M_RING]
    while head < tail and ent_b[head % cap] <= edge:
        head += 1
    meta[L.M_ENT_HEAD] = head


@borrowing_njit
def _query_kernel(meta, sums, odd_px, ent_b, ent_px, ent_v, lo, hi, wb, out):  # type: ignore[no-untyped-def]
    """Window sums of every field over closed price intervals [lo[m], hi[m]], last wb buckets."""
    tick = meta[L.M_TICK]
    ng = meta[L.M_NGRID]
    base = meta[L.M_BASE]
    w = -1
    if wb == meta[L.M_W0]:
        w = 0
    elif wb == meta[L.M_W1]:
        w = 1
    for m in range(lo.shape[0]):
        for f in range(L.N_FIELDS):
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
                for f in range(L.N_FIELDS):
                    out[m, f] += sums[w, s, f]
            for jj in range(meta[L.M_ODD_N]):
                p = odd_px[jj]
                if lo[m] <= p <= hi[m]:
                    for f in range(L.N_FIELDS):
                        out[m, f] += sums[w, ng + jj, f]
        else:  # any other window length: scan the retained entries (newest first)
            cap = meta[L.M_ENT_CAP]
            edge = meta[L.M_CLOSED] - wb
            c = meta[L.M_ENT_TAIL] - 1
            e = c % cap if c >= 0 else 0  # ring position of c, stepped back without a division
            while c >= meta[L.M_ENT_HEAD] and ent_b[e] > edge:
                p = ent_px[e]
                if lo[m] <= p <= hi[m]:
                    for f in range(L.N_FIELDS):
                        out[m, f] += ent_v[e, f]
                c -= 1
                e = e - 1 if e > 0 else cap - 1
