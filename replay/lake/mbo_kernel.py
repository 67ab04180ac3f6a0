"""Market-by-order → the Bronze MBP-10 and trades rows: the ES book rebuilt from every order.

Databento MBO carries one record per order action; Bronze holds what Databento's MBP-10 schema
holds (SPEC §2.3). Per instrument this rebuilds the book from the actions — ``A`` add, ``C``
cancel (its size is the quantity cancelled: a partial cancel reduces the order), ``M`` modify
(new price and size; queue priority does not show in an aggregated book), ``R`` clear; ``F``,
``T`` and ``N`` leave it unchanged (on CME the resting orders a trade filled are reduced by the
``C``/``M`` records that follow) — and writes:

- one MBP-10 row per **event** (the records up to one carrying ``F_LAST``) that changed the top
  ten levels of an instrument, with that ``F_LAST`` record's times, sequence and flags and the
  action, side, price and size of the event's last book-changing record; the book is looked at
  only at ``F_LAST``, since inside an event it may be briefly crossed (an aggressor's remainder is
  added before the orders it filled are reduced);
- one MBP-10 ``T`` row and one trades row per ``T`` record, at once, with the book as it stands.

A record flagged ``F_SNAPSHOT`` after live records starts a snapshot, which replaces the
instrument's book. A book is never carried from another file: an instrument whose first record is
neither a snapshot nor ``R`` starts from an empty book, and that is counted. Anything the stream
says that cannot be true of a book (a cancel, modify or fill of an order never added, a fill
larger than its order, a crossed book at an event's end) is counted per kind (``MBO_COUNTERS``) and
applied as Databento documents (a modify of an unknown order is an add) or skipped.

The book lives in numpy arrays walked by one numba kernel: an open-addressing table of resting
orders and, per instrument and side, the price levels sorted with the best last (the busy end
moves least). Memory is the book's, not the file's. The kernel stops before a record it has no
room for; the caller grows the arrays and resumes there.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engines.contract.events import (
    F_LAST,
    F_SNAPSHOT,
    N_LEVELS,
    SIDE_ASK,
    SIDE_BID,
    UNDEF_PRICE,
)
from replay.lake.partition_quality import MBO_COUNTERS  # bit i of a record's mask: counter i

ACT_ADD, ACT_CANCEL, ACT_MODIFY = ord("A"), ord("C"), ord("M")
ACT_FILL, ACT_TRADE, ACT_CLEAR, ACT_NONE = ord("F"), ord("T"), ord("R"), ord("N")


# a record's mask bits, one per counter
STARTED_EMPTY = np.uint16(1 << MBO_COUNTERS.index("mbo_book_started_empty"))
UNKNOWN_CANCEL = np.uint16(1 << MBO_COUNTERS.index("mbo_unknown_order_cancel"))
UNKNOWN_MODIFY = np.uint16(1 << MBO_COUNTERS.index("mbo_unknown_order_modify"))
UNKNOWN_FILL = np.uint16(1 << MBO_COUNTERS.index("mbo_unknown_order_fill"))
CANCEL_EXCEEDS = np.uint16(1 << MBO_COUNTERS.index("mbo_cancel_exceeds_order"))
FILL_EXCEEDS = np.uint16(1 << MBO_COUNTERS.index("mbo_fill_exceeds_order"))
ADD_OF_LIVE = np.uint16(1 << MBO_COUNTERS.index("mbo_add_of_live_order"))
BAD_ACTION_OR_SIDE = np.uint16(1 << MBO_COUNTERS.index("mbo_bad_action_or_side"))
CROSSED_AT_END = np.uint16(1 << MBO_COUNTERS.index("mbo_crossed_at_event_end"))
UNTERMINATED = np.uint16(1 << MBO_COUNTERS.index("mbo_event_unterminated"))

# kernel status: why it stopped
DONE, GROW_ORDERS, GROW_LEVELS, FULL_OUT = 0, 1, 2, 3
# output row kinds
ROW_BOOK, ROW_TRADE = 0, 1
# output meta columns: kind; the local row it sorts at (-1: the change's global row, M_GROW);
# the local row its times, sequence and flags come from; instrument index; the action, side,
# price, size and depth of the change it shows; the global row of that change
M_KIND, M_SRC, M_TS, M_INST, M_ACT, M_SIDE, M_PX, M_SZ, M_DEPTH, M_GROW = range(10)
META = 10
# levels plane order of an output row (the Bronze/DBN field order per level)
PLANES = ("bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct")
_EMPTY = np.int32(-1)


# --------------------------------------------------------------------------- order table
@njit(cache=True, inline="always")
def _home(oid, slot, mask):  # type: ignore[no-untyped-def]
    h = (np.uint64(oid) ^ (np.uint64(slot) << np.uint64(48))) * np.uint64(0x9E3779B97F4A7C15)
    return np.int64(h >> np.uint64(32)) & mask


@njit(cache=True)
def _find(o_id, o_slot, oid, slot):  # type: ignore[no-untyped-def]
    """Index of order (slot, oid) in the table, or -1."""
    mask = o_id.shape[0] - 1
    i = _home(oid, slot, mask)
    while o_slot[i] != -1:
        if o_slot[i] == slot and o_id[i] == oid:
            return i
        i = (i + 1) & mask
    return -1


@njit(cache=True)
def _insert(o_id, o_slot, o_px, o_sz, o_side, oid, slot, px, sz, side):  # type: ignore[no-untyped-def]
    mask = o_id.shape[0] - 1
    i = _home(oid, slot, mask)
    while o_slot[i] != -1:
        i = (i + 1) & mask
    o_id[i], o_slot[i], o_px[i], o_sz[i], o_side[i] = oid, slot, px, sz, side


@njit(cache=True)
def _delete(o_id, o_slot, o_px, o_sz, o_side, i):  # type: ignore[no-untyped-def]
    """Remove entry ``i`` by backward shift (linear probing without tombstones)."""
    mask = o_id.shape[0] - 1
    j = i
    while True:
        j = (j + 1) & mask
        if o_slot[j] == -1:
            break
        k = _home(o_id[j], o_slot[j], mask)
        # entry j may move to i when its home k is not cyclically within (i, j]
        if (j > i and (k <= i or k > j)) or (j < i and (k <= i and k > j)):
            o_id[i], o_slot[i], o_px[i], o_sz[i], o_side[i] = (
                o_id[j],
                o_slot[j],
                o_px[j],
                o_sz[j],
                o_side[j],
            )
            i = j
    o_slot[i] = -1


@njit(cache=True)
def _rehash(o_id, o_slot, o_px, o_sz, o_side, n_id, n_slot, n_px, n_sz, n_side):  # type: ignore[no-untyped-def]
    for i in range(o_id.shape[0]):
        if o_slot[i] != -1:
            _insert(
                n_id, n_slot, n_px, n_sz, n_side, o_id[i], o_slot[i], o_px[i], o_sz[i], o_side[i]
            )


@njit(cache=True)
def _drop_slot(o_id, o_slot, o_px, o_sz, o_side, slot):  # type: ignore[no-untyped-def]
    """Remove every order of one instrument (a clear or a new snapshot); returns how many."""
    n = 0
    i = 0
    while i < o_id.shape[0]:
        if o_slot[i] == slot:
            _delete(o_id, o_slot, o_px, o_sz, o_side, i)
            n += 1
            continue  # a later entry may have shifted into i
        i += 1
    return n


# --------------------------------------------------------------------------- price levels
@njit(cache=True)
def _level(key, n, k):  # type: ignore[no-untyped-def]
    """(index, found) of ``k`` in the ascending ``key[:n]``: where it is or would be inserted."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) >> 1
        if key[mid] < k:
            lo = mid + 1
        else:
            hi = mid
    return lo, lo < n and key[lo] == k


@njit(cache=True)
def _level_add(lk, ls, lc, nl, s, d, px, sz, ct):  # type: ignore[no-untyped-def]
    """Add ``sz`` and ``ct`` at price ``px`` of side ``d``; returns the depth before the change
    (best = 0), or -1 when a new level does not fit (nothing changed)."""
    k = px if d == 0 else -px
    n = nl[s, d]
    i, found = _level(lk[s, d], n, k)
    if not found:
        if n == lk.shape[2]:
            return -1
        for j in range(n, i, -1):
            lk[s, d, j] = lk[s, d, j - 1]
            ls[s, d, j] = ls[s, d, j - 1]
            lc[s, d, j] = lc[s, d, j - 1]
        lk[s, d, i] = k
        ls[s, d, i] = 0
        lc[s, d, i] = 0
        nl[s, d] = n + 1
        n += 1
    ls[s, d, i] += sz
    lc[s, d, i] += ct
    return n - 1 - i


@njit(cache=True)
def _level_sub(lk, ls, lc, nl, s, d, px, sz, ct):  # type: ignore[no-untyped-def]
    """Take ``sz`` and ``ct`` from price ``px`` of side ``d`` (the level goes at count 0);
    returns the depth before the change."""
    k = px if d == 0 else -px
    n = nl[s, d]
    i, found = _level(lk[s, d], n, k)
    if not found:  # cannot happen for an order the table holds
        return 0
    depth = n - 1 - i
    ls[s, d, i] -= sz
    lc[s, d, i] -= ct
    if lc[s, d, i] <= 0:
        for j in range(i, n - 1):
            lk[s, d, j] = lk[s, d, j + 1]
            ls[s, d, j] = ls[s, d, j + 1]
            lc[s, d, j] = lc[s, d, j + 1]
        nl[s, d] = n - 1
    return depth


@njit(cache=True)
def _fits(lk, nl, s, d, px):  # type: ignore[no-untyped-def]
    """Whether price ``px`` of side ``d`` exists or a new level has room."""
    k = px if d == 0 else -px
    n = nl[s, d]
    if n < lk.shape[2]:
        return True
    return _level(lk[s, d], n, k)[1]


@njit(cache=True)
def _top(lk, ls, lc, nl, s, out):  # type: ignore[no-untyped-def]
    """The top ten levels of instrument ``s`` into ``out`` (6, 10), planes as ``PLANES``."""
    for d in range(2):
        n = nl[s, d]
        for i in range(N_LEVELS):
            if i < n:
                j = n - 1 - i
                out[d, i] = lk[s, d, j] if d == 0 else -lk[s, d, j]
                out[2 + d, i] = ls[s, d, j]
                out[4 + d, i] = lc[s, d, j]
            else:
                out[d, i] = UNDEF_PRICE
                out[2 + d, i] = 0
                out[4 + d, i] = 0


@njit(cache=True)
def _same(a, b):  # type: ignore[no-untyped-def]
    for p in range(a.shape[0]):
        for i in range(a.shape[1]):
            if a[p, i] != b[p, i]:
                return False
    return True


# --------------------------------------------------------------------------- the kernel
@njit(cache=True)
def _close_event(r, r_slot, r_trade, dirty, chg, base, tmp, lk, ls, lc, nl, bits, out, k):  # type: ignore[no-untyped-def]
    """Record ``r`` ends an event: each instrument it changed gets a book row if its top ten
    moved. A ``T`` record that ends the event already carries the final book of its own
    instrument (its row was written), so that instrument gets no second row."""
    for d in range(dirty.shape[0]):
        if not dirty[d]:
            continue
        dirty[d] = False
        nb, na = nl[d, 0], nl[d, 1]
        if nb and na and lk[d, 0, nb - 1] >= -lk[d, 1, na - 1]:
            bits[r] |= CROSSED_AT_END
        touched = chg[d, 6]
        chg[d, 6] = N_LEVELS
        if touched >= N_LEVELS:  # every change was below the tenth level: the top ten stand
            continue
        _top(lk, ls, lc, nl, d, tmp)
        if _same(tmp, base[d]):
            continue
        base[d] = tmp
        if r_trade and d == r_slot:
            continue
        src = r if d == r_slot else -1
        _row(
            out,
            k,
            ROW_BOOK,
            src,
            r,
            d,
            chg[d, 0],
            chg[d, 1],
            chg[d, 2],
            chg[d, 3],
            chg[d, 4],
            chg[d, 5],
            tmp,
        )
        k += 1
    return k


@njit(cache=True)
def _row(out, k, kind, local_src, r, d, act, sd, p, q, depth, grow, top):  # type: ignore[no-untyped-def]
    """Output row ``k`` of ``out`` = (meta (cap, META) int64, levels (60, cap) int64: one
    contiguous column per plane and level, ``plane * 10 + level``, planes as ``PLANES``)."""
    meta, lv = out
    meta[k, M_KIND] = kind
    meta[k, M_SRC] = local_src
    meta[k, M_TS] = r
    meta[k, M_INST] = d
    meta[k, M_ACT] = act
    meta[k, M_SIDE] = sd
    meta[k, M_PX] = p
    meta[k, M_SZ] = q
    meta[k, M_DEPTH] = depth
    meta[k, M_GROW] = grow
    for pl in range(6):
        for i in range(N_LEVELS):
            lv[pl * N_LEVELS + i, k] = top[pl, i]


@njit(cache=True)
def build(cols, orders, levels, state, out, bits, start):  # type: ignore[no-untyped-def]
    """Apply records ``start..`` of a chunk; returns (stop, status, rows written, orders held).

    ``cols`` = (instrument index, order_id, price, size, flags, action, side, global row of
    record 0); ``orders`` = (ids, instrument, price, size, side, count); ``levels`` = (key,
    size, count, n) per instrument and side; ``state`` = (seen, in_snap, dirty, chg (n_inst, 7):
    action, side, price, size, depth, global row of the last change, and the shallowest level
    the open event changed; base (n_inst, 6, 10); tmp).
    State persists across chunks, so an event may span two."""
    slot, oid, px, sz, flags, action, side, row0 = cols
    o_id, o_slot, o_px, o_sz, o_side, o_count = orders
    lk, ls, lc, nl = levels
    seen, in_snap, dirty, chg, base, tmp = state
    meta = out[0]
    n = slot.shape[0]
    n_inst = dirty.shape[0]
    k = 0
    count = o_count
    cap = o_id.shape[0]
    for r in range(start, n):
        if count * 2 + 2 > cap:
            return r, GROW_ORDERS, k, count
        if k + n_inst + 1 > meta.shape[0]:
            return r, FULL_OUT, k, count
        s = slot[r]
        a = action[r]
        f = flags[r]
        d = 0 if side[r] == SIDE_BID else (1 if side[r] == SIDE_ASK else -1)
        placed = (a == ACT_ADD or a == ACT_MODIFY) and d >= 0 and px[r] != UNDEF_PRICE  # noqa: SIM109 (numba)
        if placed and not _fits(lk, nl, s, d, px[r]):
            return r, GROW_LEVELS, k, count
        if not seen[s]:
            seen[s] = True
            if (f & F_SNAPSHOT) == 0 and a != ACT_CLEAR:
                bits[r] |= STARTED_EMPTY
        changed = False
        depth = 0
        touched = N_LEVELS  # the shallowest level this record changed (a clear: 0)
        if (f & F_SNAPSHOT) != 0:
            if not in_snap[s]:  # a snapshot starts: it replaces the book
                in_snap[s] = True
                count -= _drop_slot(o_id, o_slot, o_px, o_sz, o_side, s)
                changed = nl[s, 0] > 0 or nl[s, 1] > 0
                touched = 0
                nl[s, 0] = 0
                nl[s, 1] = 0
        else:
            in_snap[s] = False
        if a == ACT_ADD or a == ACT_MODIFY:  # noqa: SIM109 (numba)
            if not placed:
                bits[r] |= BAD_ACTION_OR_SIDE
            else:
                i = _find(o_id, o_slot, oid[r], s)
                if i >= 0:
                    if a == ACT_ADD:
                        bits[r] |= ADD_OF_LIVE
                    depth = _level_sub(lk, ls, lc, nl, s, o_side[i], o_px[i], o_sz[i], 1)
                    touched = min(touched, depth)
                    _delete(o_id, o_slot, o_px, o_sz, o_side, i)
                    count -= 1
                elif a == ACT_MODIFY:
                    bits[r] |= UNKNOWN_MODIFY
                if sz[r] > 0:
                    depth = _level_add(lk, ls, lc, nl, s, d, px[r], sz[r], 1)
                    touched = min(touched, depth)
                    _insert(o_id, o_slot, o_px, o_sz, o_side, oid[r], s, px[r], sz[r], d)
                    count += 1
                changed = True
        elif a == ACT_CANCEL:
            i = _find(o_id, o_slot, oid[r], s)
            if i < 0:
                bits[r] |= UNKNOWN_CANCEL
            else:
                take = np.int64(sz[r])
                if take > o_sz[i]:
                    bits[r] |= CANCEL_EXCEEDS
                    take = o_sz[i]
                gone = 1 if take == o_sz[i] else 0
                depth = _level_sub(lk, ls, lc, nl, s, o_side[i], o_px[i], take, gone)
                touched = min(touched, depth)
                if gone:
                    _delete(o_id, o_slot, o_px, o_sz, o_side, i)
                    count -= 1
                else:
                    o_sz[i] -= take
                changed = True
        elif a == ACT_FILL:
            i = _find(o_id, o_slot, oid[r], s)
            if i < 0:
                bits[r] |= UNKNOWN_FILL
            elif sz[r] > o_sz[i]:
                bits[r] |= FILL_EXCEEDS
        elif a == ACT_CLEAR:
            count -= _drop_slot(o_id, o_slot, o_px, o_sz, o_side, s)
            changed = nl[s, 0] > 0 or nl[s, 1] > 0
            touched = 0
            nl[s, 0] = 0
            nl[s, 1] = 0
        elif a == ACT_TRADE:
            _top(lk, ls, lc, nl, s, tmp)
            _row(out, k, ROW_TRADE, r, r, s, a, side[r], px[r], sz[r], 0, row0 + r, tmp)
            k += 1
        elif a != ACT_NONE:
            bits[r] |= BAD_ACTION_OR_SIDE
        if changed:
            dirty[s] = True
            chg[s, 0], chg[s, 1], chg[s, 2], chg[s, 3] = a, side[r], px[r], sz[r]
            chg[s, 4], chg[s, 5] = min(depth, 255), row0 + r
            chg[s, 6] = min(chg[s, 6], touched)
        if (f & F_LAST) != 0:
            k = _close_event(
                r, s, a == ACT_TRADE, dirty, chg, base, tmp, lk, ls, lc, nl, bits, out, k
            )
    return n, DONE, k, count


@njit(cache=True)
def flush(r, dirty, chg, base, tmp, levels, bits, out):  # type: ignore[no-untyped-def]
    """The file ended inside an event: close it at its last record ``r``."""
    lk, ls, lc, nl = levels
    return _close_event(r, -1, False, dirty, chg, base, tmp, lk, ls, lc, nl, bits, out, 0)
