"""The simulated book as Databento MBO: the order actions that take each MBP-10 record's book
to the next (``levelreplay sample --schema mbo``).

The simulator writes top-ten books; a Databento MBO user holds orders. This turns the one into
the other, record by record, so the two files of one seed describe the same market: every
MBP-10 record becomes one event (its records share its times and sequence; the last carries
``F_LAST``) of ``A`` adds, ``C`` cancels (full, or partial: the size cancelled), ``M`` modifies
(a size raised in place, or an order moved to a new price) that bring each visible level to its
size and order count, and every price inside the visible range that the record does not show to
zero. Prices beyond the tenth level are left as they were (an MBP-10 record says nothing about
them) and reconciled when they come back into view. A trade record becomes ``T`` (aggressor
side) and, when an order rests at the traded price, an ``F`` of it; the resting size leaves with
the next record's cancels, as on CME.

The ingest book builder (``replay.lake.mbo_kernel``) is independent code: ingesting this file
must give back the simulator's books, which the tests check through the replay's Gold.

Orders live in a pool of linked lists, one per grid price (oldest first): adds go to the tail,
full cancels take the head, so every action is O(1) and memory is the resting orders.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engines.contract.events import F_LAST
from replay.sample.dbn_writer import MBO_DTYPE, empty_records

A, C, M, T, F, N = (ord(x) for x in "ACMTFN")
SIDES = (ord("B"), ord("A"))
DONE, POOL_FULL, OUT_FULL = 0, 1, 2
_STASH = 64  # orders of vanished levels one record may move elsewhere instead of cancelling
_MARGIN = 1 << 14  # room one record may need: its messages, its new orders


@njit(cache=True)
def _out(o, k, src, oid, px, sz, act, side):  # type: ignore[no-untyped-def]
    o[k, 0], o[k, 1], o[k, 2], o[k, 3], o[k, 4], o[k, 5], o[k, 6] = src, oid, px, sz, act, side, 0
    return k + 1


@njit(cache=True)
def _pop_head(book, pool, s, d, i):  # type: ignore[no-untyped-def]
    """Unlink the oldest order of grid price ``i``; returns its pool index."""
    head, tail, nord, lsz = book
    psz, pnext = pool[1], pool[2]
    h = head[s, d, i]
    head[s, d, i] = pnext[h]
    if head[s, d, i] == -1:
        tail[s, d, i] = -1
    nord[s, d, i] -= 1
    lsz[s, d, i] -= psz[h]
    return h


@njit(cache=True)
def _push(book, pool, s, d, i, oid, sz):  # type: ignore[no-untyped-def]
    head, tail, nord, lsz = book
    pid, psz, pnext, free = pool
    h = free[0]
    free[0] = pnext[h]
    pid[h], psz[h], pnext[h] = oid, sz, -1
    if tail[s, d, i] == -1:
        head[s, d, i] = h
    else:
        pnext[tail[s, d, i]] = h
    tail[s, d, i] = h
    nord[s, d, i] += 1
    lsz[s, d, i] += sz


@njit(cache=True)
def _release(pool, h):  # type: ignore[no-untyped-def]
    pnext, free = pool[2], pool[3]
    pnext[h] = free[0]
    free[0] = h


@njit(cache=True)
def convert(rec, book, pool, occ, grid, next_oid, out, start):  # type: ignore[no-untyped-def]
    """MBO actions for records ``start..``; returns (stop, messages, status).

    ``rec`` = (instrument index, action, side, price, size, levels (n, 6, 10)); ``book`` =
    (head, tail, order count, size) per instrument, side and grid price; ``pool`` = (order id, size,
    next, free-list head); ``occ`` (n_inst, 2, 2) the lowest and highest occupied grid price per
    side; ``grid`` (n_inst, 3) = base price, tick, grid size. ``out`` rows: source record,
    order id, price, size, action, side, ends-the-event. A record is converted whole or not at
    all (the caller grows the pool or drains ``out`` and resumes at ``stop``)."""
    slot, action, side, price, size, lv = rec
    head, tail, nord, lsz = book
    pid, psz, pnext, free = pool
    stash_id = np.zeros(_STASH, np.int64)
    stash_px = np.zeros(_STASH, np.int64)
    stash_sz = np.zeros(_STASH, np.int64)
    stash_side = np.zeros(_STASH, np.int64)
    n = slot.shape[0]
    k = 0
    for r in range(start, n):
        if k + _MARGIN > out.shape[0]:
            return r, k, OUT_FULL
        if free[1] < _MARGIN:  # free[1]: orders left in the pool
            return r, k, POOL_FULL
        s = slot[r]
        base, tick, g = grid[s, 0], grid[s, 1], grid[s, 2]
        k0 = k
        if action[r] == T:
            k = _out(out, k, r, 0, price[r], size[r], T, side[r])
            if side[r] == SIDES[0] or side[r] == SIDES[1]:
                rest = 1 if side[r] == SIDES[0] else 0  # a buyer lifts the asks
                i = (price[r] - base) // tick
                if 0 <= i < g and head[s, rest, i] != -1:
                    h = head[s, rest, i]
                    k = _out(out, k, r, pid[h], price[r], min(size[r], psz[h]), F, SIDES[rest])
            continue
        ns = 0
        for d in range(2):
            nvis = 0
            tgt = np.empty(10, np.int64)
            for j in range(10):
                if lv[r, 2 + d, j] > 0:
                    tgt[nvis] = (lv[r, d, j] - base) // tick
                    nvis += 1
            lo, hi = occ[s, d, 0], occ[s, d, 1]
            if nvis == 10 and d == 0:
                lo = max(lo, tgt[9])
            elif nvis == 10:
                hi = min(hi, tgt[9])
            for i in range(lo, hi + 1):  # prices inside the visible range the record omits
                if head[s, d, i] == -1:
                    continue
                shown = False
                for j in range(nvis):
                    if tgt[j] == i:
                        shown = True
                while not shown and head[s, d, i] != -1:
                    h = _pop_head(book, pool, s, d, i)
                    if ns < _STASH:  # may move to a new price below
                        stash_id[ns], stash_px[ns] = pid[h], base + i * tick
                        stash_sz[ns], stash_side[ns] = psz[h], d
                        ns += 1
                    else:
                        k = _out(out, k, r, pid[h], base + i * tick, psz[h], C, SIDES[d])
                    _release(pool, h)
                    free[1] += 1
            for j in range(nvis):
                i = tgt[j]
                p = base + i * tick
                want_n, want_sz = lv[r, 4 + d, j], lv[r, 2 + d, j]
                while nord[s, d, i] > want_n:  # the oldest orders leave first
                    h = _pop_head(book, pool, s, d, i)
                    k = _out(out, k, r, pid[h], p, psz[h], C, SIDES[d])
                    _release(pool, h)
                    free[1] += 1
                add = want_n - nord[s, d, i]
                need = want_sz - lsz[s, d, i] - add  # new orders start at one lot each
                h = head[s, d, i]
                while need < 0 and h != -1:  # partial cancels, keeping a lot per order
                    take = min(psz[h] - 1, -need)
                    if take > 0:
                        k = _out(out, k, r, pid[h], p, take, C, SIDES[d])
                        psz[h] -= take
                        lsz[s, d, i] -= take
                        need += take
                    h = pnext[h]
                if add == 0 and need > 0:  # the newest order raised in place
                    t = tail[s, d, i]
                    psz[t] += need
                    lsz[s, d, i] += need
                    k = _out(out, k, r, pid[t], p, psz[t], M, SIDES[d])
                for a in range(add):
                    sz = 1 + (max(need, 0) if a == add - 1 else 0)
                    moved = -1
                    for q in range(ns):
                        if stash_side[q] == d and stash_id[q] != -1:
                            moved = q
                            break
                    if moved >= 0:  # an order of a vanished level moves here
                        oid = stash_id[moved]
                        stash_id[moved] = -1
                        k = _out(out, k, r, oid, p, sz, M, SIDES[d])
                    else:
                        oid = next_oid[0]
                        next_oid[0] += 1
                        k = _out(out, k, r, oid, p, sz, A, SIDES[d])
                    _push(book, pool, s, d, i, oid, sz)
                    free[1] -= 1
                    occ[s, d, 0] = min(occ[s, d, 0], i)
                    occ[s, d, 1] = max(occ[s, d, 1], i)
        for q in range(ns):  # vanished orders that did not move
            if stash_id[q] != -1:
                k = _out(out, k, r, stash_id[q], stash_px[q], stash_sz[q], C, SIDES[stash_side[q]])
        for d in range(2):  # occupied bounds shrink past emptied prices
            while occ[s, d, 0] <= occ[s, d, 1] and head[s, d, occ[s, d, 0]] == -1:
                occ[s, d, 0] += 1
            while occ[s, d, 1] >= occ[s, d, 0] and head[s, d, occ[s, d, 1]] == -1:
                occ[s, d, 1] -= 1
            if occ[s, d, 0] > occ[s, d, 1]:
                occ[s, d, 0], occ[s, d, 1] = g, -1
        if k == k0:  # a record that changes nothing still ends an event
            k = _out(out, k, r, 0, price[r], 0, N, ord("N"))
        out[k - 1, 6] = 1
    return n, k, DONE


class OrderFlow:
    """MBP-10 records → MBO records, the order book kept across a session's chunks."""

    def __init__(self, instruments: np.ndarray, bases: np.ndarray, ticks: np.ndarray, grids):
        self._slot_of = {int(i): s for s, i in enumerate(instruments.tolist())}
        self._grid = np.stack([bases, ticks, np.asarray(grids, np.int64)], axis=1).astype(np.int64)
        g = int(self._grid[:, 2].max())
        n = len(self._slot_of)
        self._book = (
            np.full((n, 2, g), -1, np.int64),
            np.full((n, 2, g), -1, np.int64),
            np.zeros((n, 2, g), np.int64),
            np.zeros((n, 2, g), np.int64),
        )
        self._occ = np.zeros((n, 2, 2), np.int64)
        self._occ[:, :, 0] = self._grid[:, 2:3]
        self._occ[:, :, 1] = -1
        self._pool = self._new_pool(1 << 17)
        self._next_oid = np.array([6_400_000_000_000], np.int64)  # CME-like 13-digit ids

    @staticmethod
    def _new_pool(cap: int) -> tuple:
        nxt = np.arange(1, cap + 1, dtype=np.int64)
        nxt[-1] = -1
        free = np.array([0, cap], np.int64)  # free-list head, orders left
        return (np.zeros(cap, np.int64), np.zeros(cap, np.int64), nxt, free)

    def _grow_pool(self) -> None:
        pid, psz, pnext, free = self._pool
        cap = pid.shape[0]
        nid, nsz, nnext, _ = self._new_pool(cap * 2)
        nid[:cap], nsz[:cap], nnext[:cap] = pid, psz, pnext
        nnext[cap:-1] = np.arange(cap + 1, 2 * cap, dtype=np.int64)
        nnext[-1] = free[0]  # the new orders first, then the old free list
        self._pool = (nid, nsz, nnext, np.array([cap, free[1] + cap], np.int64))

    def convert(self, depth: np.ndarray) -> np.ndarray:
        """The MBO records of a chunk of MBP-10 records (DBN ``MBP10Msg`` layout)."""
        n = depth.shape[0]
        slot = np.array([self._slot_of[int(i)] for i in depth["instrument_id"].tolist()], np.int64)
        lv = np.empty((n, 6, 10), np.int64)
        for i in range(10):
            for p, name in enumerate(("bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct")):
                lv[:, p, i] = depth[f"{name}_{i:02d}"]
        rec = (
            slot,
            depth["action"].view(np.uint8),
            depth["side"].view(np.uint8),
            depth["price"].astype(np.int64),
            depth["size"].astype(np.int64),
            lv,
        )
        parts = []
        start = 0
        while True:
            out = np.zeros((2 * _MARGIN + 8 * (n - start), 7), np.int64)
            start_was = start
            start, k, status = convert(
                rec, self._book, self._pool, self._occ, self._grid, self._next_oid, out, start
            )
            parts.append(out[:k])
            if status == DONE:
                break
            if status == POOL_FULL:
                self._grow_pool()
            elif start == start_was and k == 0:
                raise RuntimeError("MBO output buffer too small for one record")
        o = np.concatenate(parts)
        return _records(depth, o)


def _records(depth: np.ndarray, o: np.ndarray) -> np.ndarray:
    src = o[:, 0]
    out = empty_records(MBO_DTYPE, o.shape[0])
    for name in ("publisher_id", "instrument_id", "ts_event", "ts_recv", "ts_in_delta", "sequence"):
        out[name] = depth[name][src]
    out["order_id"] = o[:, 1].astype(np.uint64)
    out["price"] = o[:, 2]
    out["size"] = o[:, 3].astype(np.uint32)
    out["action"] = o[:, 4].astype(np.uint8).view("S1")
    out["side"] = o[:, 5].astype(np.uint8).view("S1")
    flags = depth["flags"][src] & np.uint8(0x7F)
    out["flags"] = np.where(o[:, 6] == 1, flags | np.uint8(F_LAST), flags).astype(np.uint8)
    out["channel_id"] = 0
    return out
