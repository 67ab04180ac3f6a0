"""Event-by-event simulation of the ES book (and one calendar spread) as a numba kernel.

Why a kernel: a heavy Globex day is tens of millions of book events; Python objects per event
would take hours. The kernel walks events one at a time over numpy arrays and writes MBP-10 rows
and trade rows into preallocated buffers that the caller turns into DBN records chunk by chunk.

Book model. Each instrument has a price grid (index ``i`` ⇒ price ``base + i·tick``) and four
int64 rows: bid size, ask size, bid count, ask count. Invariant: every grid price ``<= bb`` holds a
positive bid size, every price ``>= ba`` a positive ask size, nothing else, and ``bb < ba``. So
the ten visible levels of each side are contiguous and always full, the book is never crossed or
locked, and a level that scrolls into view brings the depth that was resting there (not flow).

Events (each ends with one ``F_LAST`` record):
* ``A`` add / ``C`` cancel / ``M`` modify at one of the ten visible levels, or an ``A`` improving
  the touch when the spread is wider than one tick;
* a trade: one ``T`` record per price level touched (book unchanged, ``flags`` 0, aggressor side,
  like real MBP data), then one ``C`` record per level reducing the resting side (last has
  ``F_LAST``); each ``T`` also goes to the trades buffer with the same ``ts_recv`` and sequence.

Flow is steered towards a per-second target mid (the scenario's price path) by biasing the
aggressor side, which side adds and which side cancels. Scripted zone directives (a replenished
wall, a pulled "vacuum", or a "held" zone that ordinary flow leaves alone while its resting depth
is built out of view) and scripted sweeps come from the scenario.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from replay.sample.dbn_writer import MBP10_DTYPE, TRADE_DTYPE, empty_records

F_LAST = 128
F_PUBLISHER = 2  # F_PUBLISHER_SPECIFIC: real GLBX book records carry flags 130 = F_LAST | 2
N_LEVELS = 10
SIDE_ASK = 65  # 'A'
SIDE_BID = 66  # 'B'
SIDE_NONE = 78  # 'N'
ACT_ADD = 65  # 'A'
ACT_CANCEL = 67  # 'C'
ACT_MODIFY = 77  # 'M'
ACT_TRADE = 84  # 'T'

# state vector slots
ST_T_NEXT = 0  # ts_event of the next random event (ns)
ST_SEQ = 1  # next sequence number
ST_LAST_RECV = 2  # last ts_recv written
ST_FUT_BB = 3
ST_FUT_BA = 4
ST_SPR_BB = 5
ST_SPR_BA = 6
ST_SWEEP_K = 7  # next scripted sweep
ST_LAST_EVENT = 8  # last ts_event written
ST_SPR_MID = 9  # spread's steering target (grid index)
ST_SIZE = 10

# schedule columns (per second of session)
SF_RATE = 0  # futures book events per second
SF_TARGET = 1  # target mid, futures grid index (float)
SF_TRADE_FRAC = 2  # probability that a futures event is a trade
SF_BUY_SHIFT = 3  # added to the steered buy-aggressor probability
SF_ZONE_RATE = 4  # zone-directive events per second (zone slot 0; slot 1 uses SF_ZONE2_RATE)
SF_SPREAD_RATE = 5  # calendar-spread events per second
SF_ZONE2_RATE = 6
SF_COLS = 7
SI_ZONE_MODE = 0  # 0 none, 1 wall (replenish), 2 vacuum (pull), 3 hold (see ZONE_HOLD)
SI_ZONE_SIDE = 1  # 0 bid, 1 ask
SI_ZONE_LO = 2  # grid index
SI_ZONE_HI = 3
SI_ZONE_SLOT = 4  # zone slot z uses columns SI_* + z * SI_ZONE_SLOT
N_ZONES = 2
ZONE_WALL, ZONE_VACUUM, ZONE_HOLD = 1, 2, 3
# A held zone: ordinary flow neither adds, cancels nor modifies there, and its prices that the
# book does not show are topped up (no record: MBP-10 cannot see them) to HOLD_DEPTH + U(0,
# HOLD_DEPTH_SPREAD). So depth that is pulled later was built long before the barrier window.
HOLD_DEPTH = 110
HOLD_DEPTH_SPREAD = 90
SI_COLS = SI_ZONE_SLOT * N_ZONES

# output columns
O_TS_EVENT, O_TS_RECV, O_PRICE, O_SIZE, O_SEQ, O_TS_IN_DELTA, O_INST = range(7)
O_ACTION, O_SIDE, O_FLAGS, O_DEPTH = range(4)
LV_BPX, LV_APX, LV_BSZ, LV_ASZ, LV_BCT, LV_ACT = range(6)
EVENT_MARGIN = 200  # max records one event can write (a 40-level sweep: 80) plus slack

# scripted sweeps: (t_ns, is_buy, stop grid index or -1, min size, min price levels, hard stop)
#   -> sweep_out (ts_recv, first px, last px, size, price levels)
SW_T, SW_BUY, SW_STOP, SW_MIN, SW_LEVELS, SW_HARD = range(6)
SW_COLS = 6


@dataclass
class DepthBuffers:
    """Preallocated kernel output: MBP-10 rows and trade rows, plain numpy columns."""

    i8: np.ndarray  # (cap, 7) int64
    u1: np.ndarray  # (cap, 4) uint8
    lv: np.ndarray  # (cap, 6, 10) int64
    t_i8: np.ndarray  # (tcap, 7) int64
    t_u1: np.ndarray  # (tcap, 4) uint8

    @staticmethod
    def allocate(cap: int, tcap: int) -> DepthBuffers:
        return DepthBuffers(
            np.zeros((cap, 7), np.int64),
            np.zeros((cap, 4), np.uint8),
            np.zeros((cap, 6, N_LEVELS), np.int64),
            np.zeros((tcap, 7), np.int64),
            np.zeros((tcap, 4), np.uint8),
        )


# Mean visible size by level index 0..9 once the event flow has settled (measured on the kernel's
# output); prices beyond the tenth level keep the tenth level's profile.
STEADY_DEPTH = np.array([17.0, 33.0, 44.0, 53.0, 64.0, 71.0, 80.0, 88.0, 93.0, 104.0])


def init_book(rng: np.random.Generator, n_grid: int, bb: int, big_prob: float) -> np.ndarray:
    """A (4, n_grid) book drawn from the flow's own steady state (gamma, CV 0.5, mean by level),
    so depth does not drift while the book settles: a drift would read as one-sided add flow
    (ABSORPTION / WALL) in the barrier window. Rare large resting orders away from the touch."""
    idx = np.arange(n_grid)
    dist = np.where(idx <= bb, bb - idx, idx - (bb + 1))
    depth_mean = STEADY_DEPTH[np.minimum(dist, N_LEVELS - 1)]
    sizes = 1 + np.floor(rng.gamma(4.0, 0.25, n_grid) * depth_mean).astype(np.int64)
    big = rng.random(n_grid) < big_prob
    sizes = np.where(big & (dist >= 3), 500 + rng.integers(0, 400, n_grid), sizes)
    book = np.zeros((4, n_grid), np.int64)
    book[0] = np.where(idx <= bb, sizes, 0)
    book[1] = np.where(idx > bb, sizes, 0)
    counts = np.maximum(1, sizes // 6 + rng.integers(0, 3, n_grid))
    book[2] = np.where(idx <= bb, np.minimum(counts, sizes), 0)
    book[3] = np.where(idx > bb, np.minimum(counts, sizes), 0)
    return book


@njit(cache=True)
def _expo(rng, mean):  # type: ignore[no-untyped-def]
    return -math.log(1.0 - rng.random()) * mean


@njit(cache=True)
def _level(rng):  # type: ignore[no-untyped-def]
    """Visible level index 0..9, geometric: most activity near the touch."""
    k = 0
    while k < N_LEVELS - 1 and rng.random() > 0.3:
        k += 1
    return k


@njit(cache=True)
def _emit(
    buf_i8,
    buf_u1,
    buf_lv,
    n,
    book,
    bb,
    ba,
    base,
    tick,
    inst,
    ts_e,
    ts_r,
    action,
    side,
    px,
    size,
    flags,
    depth,
    seq,
    tsin,
):  # type: ignore[no-untyped-def]
    """Write one MBP-10 row: the event fields and the book as it stands now."""
    buf_i8[n, O_TS_EVENT] = ts_e
    buf_i8[n, O_TS_RECV] = ts_r
    buf_i8[n, O_PRICE] = px
    buf_i8[n, O_SIZE] = size
    buf_i8[n, O_SEQ] = seq
    buf_i8[n, O_TS_IN_DELTA] = tsin
    buf_i8[n, O_INST] = inst
    buf_u1[n, O_ACTION] = action
    buf_u1[n, O_SIDE] = side
    buf_u1[n, O_FLAGS] = flags
    buf_u1[n, O_DEPTH] = depth
    for i in range(N_LEVELS):
        b = bb - i
        a = ba + i
        buf_lv[n, LV_BPX, i] = base + b * tick
        buf_lv[n, LV_APX, i] = base + a * tick
        buf_lv[n, LV_BSZ, i] = book[0, b]
        buf_lv[n, LV_ASZ, i] = book[1, a]
        buf_lv[n, LV_BCT, i] = book[2, b]
        buf_lv[n, LV_ACT, i] = book[3, a]


@njit(cache=True)
def _reduce(book, row, p, q):  # type: ignore[no-untyped-def]
    """Remove q contracts at grid price p of side row (0 bid, 1 ask), keeping counts sane."""
    old = book[row, p]
    book[row, p] = old - q
    if book[row, p] == 0:
        book[row + 2, p] = 0
    else:
        avg = max(1, old // max(1, book[row + 2, p]))
        ct = book[row + 2, p] - max(1, q // avg) + (1 if q < avg else 0)
        book[row + 2, p] = min(book[row, p], max(1, ct))


@njit(cache=True)
def _increase(book, row, p, q, new_order):  # type: ignore[no-untyped-def]
    book[row, p] += q
    if new_order or book[row + 2, p] == 0:
        book[row + 2, p] += 1


@njit(cache=True)
def _in_zone(sched_i, s, row, p):  # type: ignore[no-untyped-def]
    """Zone mode (1 wall, 2 vacuum) if grid price p of side row is in one of this second's zones."""
    for z in range(N_ZONES):
        o = z * SI_ZONE_SLOT
        mode = sched_i[s, SI_ZONE_MODE + o]
        if mode == 0 or sched_i[s, SI_ZONE_SIDE + o] != row:
            continue
        if sched_i[s, SI_ZONE_LO + o] <= p <= sched_i[s, SI_ZONE_HI + o]:
            return mode
    return 0


@njit(cache=True)
def _trade(
    rng,
    st,
    book,
    bbi,
    bai,
    base,
    tick,
    inst,
    is_buy,
    qty_total,
    stop,
    min_qty,
    min_levels,
    hard,
    ts_e,
    ts_r,
    buf,
    nd,
    tbuf,
    nt,
    out_stats,
):  # type: ignore[no-untyped-def]
    """Aggressor order walking the opposite side: one T per level, then the removals.

    Sweeps (``min_levels`` > 0) walk whole levels until the price reaches ``stop`` (ignored when
    negative), at least ``min_levels`` prices printed and ``min_qty`` traded; a ``hard`` stop is
    never passed, whatever was traded by then. Ordinary trades (``min_levels`` == 0) fill
    ``qty_total`` at the touch only. Returns (nd, nt).
    """
    bi8, bu1, blv = buf
    ti8, tu1 = tbuf
    row = 1 if is_buy else 0
    side = SIDE_BID if is_buy else SIDE_ASK
    rest_side = SIDE_ASK if is_buy else SIDE_BID
    touch = st[bai] if is_buy else st[bbi]
    step = 1 if is_buy else -1
    fills = np.zeros(48, np.int64)
    n_lv = 0
    cum = 0
    if min_levels == 0:
        fills[0] = min(qty_total, book[row, touch])
        cum = fills[0]
        n_lv = 1
    else:
        while n_lv < 40:
            p = touch + step * n_lv
            fills[n_lv] = book[row, p]
            cum += fills[n_lv]
            n_lv += 1
            reached = stop < 0 or ((p >= stop) if is_buy else (p <= stop))
            if reached and ((cum >= min_qty and n_lv >= min_levels) or hard):
                break
    bb = st[bbi]
    ba = st[bai]
    for j in range(n_lv):
        p = touch + step * j
        seq = st[ST_SEQ]
        st[ST_SEQ] += 1
        tsin = 12_000 + int(rng.random() * 12_000)
        px = base + p * tick
        _emit(
            bi8,
            bu1,
            blv,
            nd,
            book,
            bb,
            ba,
            base,
            tick,
            inst,
            ts_e,
            ts_r,
            ACT_TRADE,
            side,
            px,
            fills[j],
            0,
            j,
            seq,
            tsin,
        )
        nd += 1
        ti8[nt, O_TS_EVENT] = ts_e
        ti8[nt, O_TS_RECV] = ts_r
        ti8[nt, O_PRICE] = px
        ti8[nt, O_SIZE] = fills[j]
        ti8[nt, O_SEQ] = seq
        ti8[nt, O_TS_IN_DELTA] = tsin
        ti8[nt, O_INST] = inst
        tu1[nt, O_ACTION] = ACT_TRADE
        tu1[nt, O_SIDE] = side
        tu1[nt, O_FLAGS] = 0
        tu1[nt, O_DEPTH] = 0
        nt += 1
    for j in range(n_lv):
        p = touch + step * j
        _reduce(book, row, p, fills[j])
        if book[row, p] == 0:
            if is_buy:
                st[bai] += 1
            else:
                st[bbi] -= 1
        flags = (F_LAST | F_PUBLISHER) if j == n_lv - 1 else F_PUBLISHER
        _emit(
            bi8,
            bu1,
            blv,
            nd,
            book,
            st[bbi],
            st[bai],
            base,
            tick,
            inst,
            ts_e,
            ts_r,
            ACT_CANCEL,
            rest_side,
            base + p * tick,
            fills[j],
            flags,
            0,
            st[ST_SEQ],
            12_000 + int(rng.random() * 12_000),
        )
        st[ST_SEQ] += 1
        nd += 1
    out_stats[0] = base + touch * tick
    out_stats[1] = base + (touch + step * (n_lv - 1)) * tick
    out_stats[2] = cum
    out_stats[3] = n_lv
    return nd, nt


@njit(cache=True)
def _book_event(
    rng,
    st,
    book,
    bbi,
    bai,
    base,
    tick,
    inst,
    gap,
    trade_frac,
    buy_shift,
    sched_i,
    s,
    use_zone,
    ts_e,
    ts_r,
    buf,
    nd,
    tbuf,
    nt,
    stats,
):  # type: ignore[no-untyped-def]
    """One random add / cancel / modify / trade on a book, steered by ``gap`` (ticks to target).

    Returns (nd, nt); writes nothing when the drawn event is not allowed (zone rules).
    """
    bi8, bu1, blv = buf
    bb = st[bbi]
    ba = st[bai]
    up = gap > 0.5
    down = gap < -0.5
    # --- refill a gap inside the spread first (books quote one tick wide most of the time) ---
    if ba - bb > 1 and rng.random() < 0.7:
        pb = 0.5 + (0.3 if up else 0.0) - (0.3 if down else 0.0)
        row = 0 if rng.random() < pb else 1
        p = bb + 1 if row == 0 else ba - 1
        if use_zone and _in_zone(sched_i, s, row, p) >= ZONE_VACUUM:
            row = 1 - row
            p = bb + 1 if row == 0 else ba - 1
            if _in_zone(sched_i, s, row, p) >= ZONE_VACUUM:
                return nd, nt
        q = 1 + int(_expo(rng, 6.0))
        _increase(book, row, p, q, True)
        if row == 0:
            st[bbi] = p
        else:
            st[bai] = p
        _emit(
            bi8,
            bu1,
            blv,
            nd,
            book,
            st[bbi],
            st[bai],
            base,
            tick,
            inst,
            ts_e,
            ts_r,
            ACT_ADD,
            SIDE_BID if row == 0 else SIDE_ASK,
            base + p * tick,
            q,
            F_LAST | F_PUBLISHER,
            0,
            st[ST_SEQ],
            12_000 + int(rng.random() * 12_000),
        )
        st[ST_SEQ] += 1
        return nd + 1, nt
    u = rng.random()
    if u < trade_frac:
        pbuy = min(0.9, max(0.1, 0.5 + 0.3 * gap + buy_shift))
        is_buy = rng.random() < pbuy
        row = 1 if is_buy else 0
        touch = ba if is_buy else bb
        q = 1 + int(_expo(rng, 2.5))
        if rng.random() < 0.04:
            q += 10 + int(_expo(rng, 20.0))
        if ((is_buy and gap >= 1.0) or (not is_buy and gap <= -1.0)) and rng.random() < 0.35:
            q = max(q, min(book[row, touch], 40))
        q = min(q, book[row, touch])
        return _trade(
            rng,
            st,
            book,
            bbi,
            bai,
            base,
            tick,
            inst,
            is_buy,
            q,
            -1,
            0,
            0,
            False,
            ts_e,
            ts_r,
            buf,
            nd,
            tbuf,
            nt,
            stats,
        )
    u = (u - trade_frac) / (1.0 - trade_frac)
    k = _level(rng)
    if u < 0.45:  # cancel: favour the side the price is moving towards
        pa = 0.5 + (0.15 if up else 0.0) - (0.15 if down else 0.0)
        row = 1 if rng.random() < pa else 0
        p = bb - k if row == 0 else ba + k
        zone = _in_zone(sched_i, s, row, p) if use_zone else 0
        if zone in (ZONE_WALL, ZONE_HOLD):
            return nd, nt
        sz = book[row, p]
        want = 1 + int(_expo(rng, 2.0 + max(0.0, sz - (22.0 + 10.0 * k)) / 3.0))
        pull = (
            k == 0
            and zone == 0
            and sz <= 25
            and ((row == 1 and gap >= 1.0) or (row == 0 and gap <= -1.0))
            and rng.random() < 0.5
        )
        q = sz if pull else min(want, sz - 1)
        if q <= 0:
            return nd, nt
        _reduce(book, row, p, q)
        if book[row, p] == 0:
            if row == 0:
                st[bbi] -= 1
            else:
                st[bai] += 1
        action = ACT_CANCEL
    elif u < 0.87:  # add: favour the side behind the move
        pbid = 0.5 + (0.15 if up else 0.0) - (0.15 if down else 0.0)
        row = 0 if rng.random() < pbid else 1
        p = bb - k if row == 0 else ba + k
        if use_zone and _in_zone(sched_i, s, row, p) >= ZONE_VACUUM:
            return nd, nt
        sz = book[row, p]
        q = 1 + int(_expo(rng, 3.0 + max(0.0, (22.0 + 10.0 * k) - sz) / 3.0))
        _increase(book, row, p, q, True)
        action = ACT_ADD
    else:  # modify: an order changes size
        row = 0 if rng.random() < 0.5 else 1
        p = bb - k if row == 0 else ba + k
        zone = _in_zone(sched_i, s, row, p) if use_zone else 0
        if zone == ZONE_HOLD:
            return nd, nt
        grow = rng.random() < 0.5
        if zone == ZONE_WALL:
            grow = True
        elif zone == ZONE_VACUUM:
            grow = False
        q = 1 + int(rng.random() * 3.0)
        if grow:
            _increase(book, row, p, q, False)
        else:
            q = min(q, book[row, p] - 1)
            if q <= 0:
                return nd, nt
            _reduce(book, row, p, q)
        action = ACT_MODIFY
    depth = (bb - p) if row == 0 else (p - ba)
    _emit(
        bi8,
        bu1,
        blv,
        nd,
        book,
        st[bbi],
        st[bai],
        base,
        tick,
        inst,
        ts_e,
        ts_r,
        action,
        SIDE_BID if row == 0 else SIDE_ASK,
        base + p * tick,
        q,
        F_LAST | F_PUBLISHER,
        depth,
        st[ST_SEQ],
        12_000 + int(rng.random() * 12_000),
    )
    st[ST_SEQ] += 1
    return nd + 1, nt


@njit(cache=True)
def _zone_event(rng, st, book, base, tick, inst, sched_i, s, z, ts_e, ts_r, buf, nd):  # type: ignore[no-untyped-def]
    """A scripted wall refill (add) or vacuum pull (cancel, never the last contract) in the zone,
    only at prices the book shows, so the flow is visible in the MBP-10 stream. A held zone instead
    tops up a price the book does *not* show (the resting depth a later pull removes)."""
    bi8, bu1, blv = buf
    o = z * SI_ZONE_SLOT
    mode = sched_i[s, SI_ZONE_MODE + o]
    if mode == 0:
        return nd
    row = sched_i[s, SI_ZONE_SIDE + o]
    bb = st[ST_FUT_BB]
    ba = st[ST_FUT_BA]
    lo = sched_i[s, SI_ZONE_LO + o]
    hi = sched_i[s, SI_ZONE_HI + o]
    if row == 0:
        vis_lo, vis_hi = bb - (N_LEVELS - 1), bb
    else:
        vis_lo, vis_hi = ba, ba + (N_LEVELS - 1)
    if mode == ZONE_HOLD:
        p = lo + int(rng.random() * (hi - lo + 1))
        hidden = p < vis_lo if row == 0 else p > vis_hi
        if hidden:  # beyond the ten shown levels: on this side's book, out of view
            q = HOLD_DEPTH + int(rng.random() * HOLD_DEPTH_SPREAD)
            if book[row, p] < q:
                book[row, p] = q
                book[row + 2, p] = max(book[row + 2, p], q // 12)
        return nd
    a = max(lo, vis_lo)
    b = min(hi, vis_hi)
    if a > b:
        return nd
    p = a + int(rng.random() * (b - a + 1))
    if mode == ZONE_WALL:
        q = 3 + int(_expo(rng, 8.0))
        _increase(book, row, p, q, True)
        action = ACT_ADD
    else:
        q = min(book[row, p] - 1, 4 + int(_expo(rng, 14.0)))
        if q <= 0:
            return nd
        _reduce(book, row, p, q)
        action = ACT_CANCEL
    depth = (bb - p) if row == 0 else (p - ba)
    _emit(
        bi8,
        bu1,
        blv,
        nd,
        book,
        bb,
        ba,
        base,
        tick,
        inst,
        ts_e,
        ts_r,
        action,
        SIDE_BID if row == 0 else SIDE_ASK,
        base + p * tick,
        q,
        F_LAST | F_PUBLISHER,
        depth,
        st[ST_SEQ],
        12_000 + int(rng.random() * 12_000),
    )
    st[ST_SEQ] += 1
    return nd + 1


@njit(cache=True)
def _recv_time(rng, st, ts_e):  # type: ignore[no-untyped-def]
    """ts_recv = ts_event + a 80 µs .. 1 ms feed latency, never before the previous ts_recv."""
    lat = 80_000 + int(min(_expo(rng, 90_000.0), 900_000.0))
    ts_r = max(st[ST_LAST_RECV], ts_e + lat)
    st[ST_LAST_RECV] = ts_r
    st[ST_LAST_EVENT] = ts_e
    return ts_r


@njit(cache=True)
def run_kernel(
    rng,
    st,
    fut,
    spr,
    bases,
    ticks,
    insts,
    sched_f,
    sched_i,
    t0_ns,
    t_stop_ns,
    sweeps,
    sweep_out,
    bi8,
    bu1,
    blv,
    ti8,
    tu1,
):  # type: ignore[no-untyped-def]
    """Simulate events with ts_event < t_stop_ns (or until the buffers are nearly full).

    ``st`` carries the clock, sequence and touches between calls; the books are updated in place.
    Returns (depth rows written, trade rows written).
    """
    buf = (bi8, bu1, blv)
    tbuf = (ti8, tu1)
    cap = bi8.shape[0]
    tcap = ti8.shape[0]
    n_sec = sched_f.shape[0]
    nd = 0
    nt = 0
    stats = np.zeros(4, np.int64)
    while nd + EVENT_MARGIN < cap and nt + EVENT_MARGIN < tcap:
        t = st[ST_T_NEXT]
        k = st[ST_SWEEP_K]
        if k < sweeps.shape[0] and sweeps[k, SW_T] <= t and sweeps[k, SW_T] < t_stop_ns:
            ts_e = max(sweeps[k, SW_T], st[ST_LAST_EVENT] + 1)
            ts_r = _recv_time(rng, st, ts_e)
            nd, nt = _trade(
                rng,
                st,
                fut,
                ST_FUT_BB,
                ST_FUT_BA,
                bases[0],
                ticks[0],
                insts[0],
                sweeps[k, SW_BUY] == 1,
                0,
                sweeps[k, SW_STOP],
                sweeps[k, SW_MIN],
                max(1, sweeps[k, SW_LEVELS]),
                sweeps[k, SW_HARD] == 1,
                ts_e,
                ts_r,
                buf,
                nd,
                tbuf,
                nt,
                stats,
            )
            sweep_out[k, 0] = ts_r
            sweep_out[k, 1:5] = stats
            st[ST_SWEEP_K] = k + 1
            continue
        if t >= t_stop_ns:
            break
        s = min(n_sec - 1, max(0, (t - t0_ns) // 1_000_000_000))
        rate = sched_f[s, SF_RATE]
        z0 = sched_f[s, SF_ZONE_RATE] if sched_i[s, SI_ZONE_MODE] != 0 else 0.0
        z1 = sched_f[s, SF_ZONE2_RATE] if sched_i[s, SI_ZONE_MODE + SI_ZONE_SLOT] != 0 else 0.0
        zrate = z0 + z1
        srate = sched_f[s, SF_SPREAD_RATE]
        total = rate + zrate + srate
        ts_r = _recv_time(rng, st, t)
        u = rng.random() * total
        if u < zrate:
            z = 0 if u < z0 else 1
            nd = _zone_event(
                rng, st, fut, bases[0], ticks[0], insts[0], sched_i, s, z, t, ts_r, buf, nd
            )
        elif u < zrate + srate:
            mid = 0.5 * (st[ST_SPR_BB] + st[ST_SPR_BA])
            nd, nt = _book_event(
                rng,
                st,
                spr,
                ST_SPR_BB,
                ST_SPR_BA,
                bases[1],
                ticks[1],
                insts[1],
                st[ST_SPR_MID] - mid,
                0.12,
                0.0,
                sched_i,
                s,
                False,
                t,
                ts_r,
                buf,
                nd,
                tbuf,
                nt,
                stats,
            )
        else:
            frac = ((t - t0_ns) % 1_000_000_000) / 1e9
            s1 = min(n_sec - 1, s + 1)
            target = sched_f[s, SF_TARGET] + frac * (sched_f[s1, SF_TARGET] - sched_f[s, SF_TARGET])
            mid = 0.5 * (st[ST_FUT_BB] + st[ST_FUT_BA])
            nd, nt = _book_event(
                rng,
                st,
                fut,
                ST_FUT_BB,
                ST_FUT_BA,
                bases[0],
                ticks[0],
                insts[0],
                target - mid,
                sched_f[s, SF_TRADE_FRAC],
                sched_f[s, SF_BUY_SHIFT],
                sched_i,
                s,
                True,
                t,
                ts_r,
                buf,
                nd,
                tbuf,
                nt,
                stats,
            )
        dt = _expo(rng, 1.0 / total) if total > 0 else 1.0
        st[ST_T_NEXT] = t + max(1, int(dt * 1e9))
    return nd, nt


def depth_records(buf: DepthBuffers, n: int) -> np.ndarray:
    """The first ``n`` kernel MBP-10 rows as DBN v3 ``MBP10Msg`` records."""
    rec = empty_records(MBP10_DTYPE, n)
    _fill_common(rec, buf.i8[:n], buf.u1[:n])
    lv = buf.lv[:n]
    for i in range(N_LEVELS):
        rec[f"bid_px_{i:02d}"] = lv[:, LV_BPX, i]
        rec[f"ask_px_{i:02d}"] = lv[:, LV_APX, i]
        rec[f"bid_sz_{i:02d}"] = lv[:, LV_BSZ, i]
        rec[f"ask_sz_{i:02d}"] = lv[:, LV_ASZ, i]
        rec[f"bid_ct_{i:02d}"] = lv[:, LV_BCT, i]
        rec[f"ask_ct_{i:02d}"] = lv[:, LV_ACT, i]
    return rec


def trade_records(buf: DepthBuffers, n: int) -> np.ndarray:
    """The first ``n`` kernel trade rows as DBN v3 ``TradeMsg`` records."""
    rec = empty_records(TRADE_DTYPE, n)
    _fill_common(rec, buf.t_i8[:n], buf.t_u1[:n])
    return rec


def _fill_common(rec: np.ndarray, i8: np.ndarray, u1: np.ndarray) -> None:
    rec["instrument_id"] = i8[:, O_INST]
    rec["ts_event"] = i8[:, O_TS_EVENT]
    rec["ts_recv"] = i8[:, O_TS_RECV]
    rec["price"] = i8[:, O_PRICE]
    rec["size"] = i8[:, O_SIZE]
    rec["sequence"] = i8[:, O_SEQ]
    rec["ts_in_delta"] = i8[:, O_TS_IN_DELTA]
    rec["action"] = np.ascontiguousarray(u1[:, O_ACTION]).view("S1")
    rec["side"] = np.ascontiguousarray(u1[:, O_SIDE]).view("S1")
    rec["flags"] = u1[:, O_FLAGS]
    rec["depth"] = u1[:, O_DEPTH]
