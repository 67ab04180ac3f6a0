"""Depth folded into the state (SPEC §5.1): depth flow between consecutive books, the
current and the last valid book, the mid path; numba kernels over ``DepthBatch.levels``."""

from __future__ import annotations

from numba import njit

from engines.contract.events import F_LAST, N_LEVELS, UNDEF_PRICE
from engines.jit.borrowing_jit import borrowing_njit
from engines.state import layout as L


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
    t0 = meta[L.M_T0]
    snap = meta[L.M_SNAP]
    dn = meta[L.M_DLOG_N]
    cap = dlog.shape[0]
    n = ts.shape[0]
    seen = meta[L.M_SEEN_FLAST]
    last_cur = -1
    last_valid = -1
    r = start
    while r < n:
        if dn + L._MAX_CONTRIB_PER_RECORD > cap:
            break
        b = L._bucket(ts[r], t0, snap)
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
        elif meta[L.M_HAVE_PREV] == 1:
            for side in range(2):
                dn = _side_flow(books, L.B_PREV, lv, r, side, b, dlog, dn)
        upd = False
        if flags[r] & F_LAST:
            seen = 1
            upd = True
        elif seen == 0:
            upd = True
        if upd:
            last_cur = r
            c = _classify(
                lv[r, L.K_BPX, 0], lv[r, L.K_BSZ, 0], lv[r, L.K_APX, 0], lv[r, L.K_ASZ, 0]
            )
            if c == 0:
                last_valid = r
            elif c == 1:
                meta[L.M_N_CROSSED] += 1
            elif c == 2:
                meta[L.M_N_LOCKED] += 1
            else:
                meta[L.M_N_ONESIDED] += 1
        r += 1
    if r > start:
        _copy_row(books, L.B_PREV, lv, r - 1)
        meta[L.M_HAVE_PREV] = 1
        meta[L.M_N_DEPTH] += r - start
        meta[L.M_LAST_DB] = L._bucket(ts[r - 1], t0, snap)
        meta[L.M_LAST_DTS] = ts[r - 1]
    meta[L.M_SEEN_FLAST] = seen
    if last_cur >= 0:
        _copy_row(books, L.B_CUR, lv, last_cur)
        meta[L.M_HAS_CUR] = 1
    if last_valid >= 0:
        _copy_row(books, L.B_VALID, lv, last_valid)
        meta[L.M_HAS_VALID] = 1
    meta[L.M_DLOG_N] = dn
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
            and _classify(
                lv[r, L.K_BPX, 0], lv[r, L.K_BSZ, 0], lv[r, L.K_APX, 0], lv[r, L.K_ASZ, 0]
            )
            == 0
        ):
            mid = (lv[r, L.K_BPX, 0] + lv[r, L.K_APX, 0]) // 2
        out[r] = mid
