"""MBO chunks → MBP-10 and trades chunks, the book kept across a file's chunks (``mbo_kernel``).

Ingest routes the chunks this yields exactly as it routes a decoded MBP-10 file and a trades
file, so a lake written from MBO is the lake every other part of the tool reads. Each output row
keeps the MBO record it came from as its provenance (``Chunk.source_rows``): the partition order
(ts_recv, sequence, src_key, src_row) stays a total order independent of the ingest order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from engines.contract.events import N_LEVELS, UNDEF_PRICE
from replay.lake import mbo_kernel as mk
from replay.lake.dbn_source import Chunk
from replay.lake.few_unique import small_unique

_BOOK_COLS = ("ts_recv", "ts_event", "publisher_id", "flags", "ts_in_delta", "sequence")
_TRADE_COLS = ("instrument_id", "action", "side", "price", "size", "depth")


@dataclass(frozen=True)
class MboPiece:
    """What one MBO chunk gave: depth rows (schema mbp-10), trade rows (schema trades), and per
    MBO record a bit mask of what was counted (bit ``i`` = ``MBO_COUNTERS[i]``)."""

    depth: Chunk
    trades: Chunk
    counted: np.ndarray  # uint16 per MBO record of the chunk
    ts_recv: np.ndarray  # of those MBO records, to count them on their trade date
    started_empty: tuple[str, ...] = ()  # instruments whose book began with no snapshot here


class BookBuilder:
    """Every instrument's book over one file's MBO chunks (a new file starts from empty books)."""

    def __init__(self, orders: int = 1 << 12, levels: int = 64):
        self._slot_of: dict[int, int] = {}
        self._ids = np.zeros(0, dtype=np.uint32)
        self._symbol: list[str | None] = []
        cap = 1 << max(2, (orders - 1).bit_length())
        self._orders = (
            np.zeros(cap, np.uint64),
            np.full(cap, -1, np.int32),
            np.zeros(cap, np.int64),
            np.zeros(cap, np.int64),
            np.zeros(cap, np.int8),
        )
        self._count = 0
        self._lk = np.zeros((0, 2, levels), np.int64)
        self._ls = np.zeros((0, 2, levels), np.int64)
        self._lc = np.zeros((0, 2, levels), np.int64)
        self._nl = np.zeros((0, 2), np.int64)
        self._seen = np.zeros(0, np.bool_)
        self._in_snap = np.zeros(0, np.bool_)
        self._dirty = np.zeros(0, np.bool_)
        self._chg = np.zeros((0, 7), np.int64)
        self._base = np.zeros((0, 6, N_LEVELS), np.int64)
        self._tmp = np.zeros((6, N_LEVELS), np.int64)
        self._last: Chunk | None = None
        self._out = self._out_buffers(0)

    @staticmethod
    def _out_buffers(cap: int) -> tuple[np.ndarray, np.ndarray]:
        """Kernel output rows, reused from chunk to chunk (levels column-major: one contiguous
        column per plane and level, as Bronze stores them)."""
        return np.zeros((cap, mk.META), np.int64), np.zeros((6 * N_LEVELS, cap), np.int64)

    # ---------------------------------------------------------------- state
    def _slots(self, chunk: Chunk) -> np.ndarray:
        """Each record's instrument index, adding instruments first seen in this chunk; and each
        instrument's symbol as of its last record here."""
        ids = chunk.columns["instrument_id"]
        uniq, inv = small_unique(ids.astype(np.int64))
        new = [int(i) for i in uniq.tolist() if int(i) not in self._slot_of]
        if new:
            self._add_instruments(new)
        slot_of_uniq = np.array([self._slot_of[int(i)] for i in uniq.tolist()], np.int64)
        slot = slot_of_uniq[inv]
        last = np.full(uniq.shape[0], -1, np.int64)
        last[inv] = np.arange(inv.shape[0])  # the last write per instrument wins
        for u, r in zip(slot_of_uniq.tolist(), last.tolist(), strict=True):
            code = int(chunk.symbol_codes[r])
            self._symbol[u] = chunk.symbols[code] if code >= 0 else None
        return slot

    def _add_instruments(self, ids: list[int]) -> None:
        k = len(ids)
        for i in ids:
            self._slot_of[i] = len(self._slot_of)
            self._symbol.append(None)
        self._ids = np.concatenate([self._ids, np.asarray(ids, np.uint32)])
        levels = self._lk.shape[2]
        self._lk = np.concatenate([self._lk, np.zeros((k, 2, levels), np.int64)])
        self._ls = np.concatenate([self._ls, np.zeros((k, 2, levels), np.int64)])
        self._lc = np.concatenate([self._lc, np.zeros((k, 2, levels), np.int64)])
        self._nl = np.concatenate([self._nl, np.zeros((k, 2), np.int64)])
        self._seen = np.concatenate([self._seen, np.zeros(k, np.bool_)])
        self._in_snap = np.concatenate([self._in_snap, np.zeros(k, np.bool_)])
        self._dirty = np.concatenate([self._dirty, np.zeros(k, np.bool_)])
        chg = np.zeros((k, 7), np.int64)
        chg[:, 6] = N_LEVELS  # no level touched by an open event yet
        self._chg = np.concatenate([self._chg, chg])
        empty = np.zeros((k, 6, N_LEVELS), np.int64)
        empty[:, :2] = UNDEF_PRICE  # the book before any record: no level on either side
        self._base = np.concatenate([self._base, empty])

    def _grow_orders(self) -> None:
        cap = self._orders[0].shape[0] * 2
        new = (
            np.zeros(cap, np.uint64),
            np.full(cap, -1, np.int32),
            np.zeros(cap, np.int64),
            np.zeros(cap, np.int64),
            np.zeros(cap, np.int8),
        )
        mk._rehash(*self._orders, *new)
        self._orders = new

    def _grow_levels(self) -> None:
        def wider(a: np.ndarray) -> np.ndarray:
            out = np.zeros((a.shape[0], 2, a.shape[2] * 2), np.int64)
            out[:, :, : a.shape[2]] = a
            return out

        self._lk, self._ls, self._lc = wider(self._lk), wider(self._ls), wider(self._lc)

    def _state(self) -> tuple:
        return (self._seen, self._in_snap, self._dirty, self._chg, self._base, self._tmp)

    def _levels(self) -> tuple:
        return (self._lk, self._ls, self._lc, self._nl)

    # ---------------------------------------------------------------- feeding
    def feed(self, chunk: Chunk) -> MboPiece:
        """Apply one chunk of MBO records (file order); the rows it completes."""
        c = chunk.columns
        n = len(chunk)
        slot = self._slots(chunk)
        cols = (
            slot,
            c["order_id"],
            c["price"],
            c["size"],
            c["flags"],
            c["action"],
            c["side"],
            np.int64(chunk.first_row),
        )
        bits = np.zeros(n, np.uint16)
        cap = n + 2 * self._dirty.shape[0] + 2
        if self._out[0].shape[0] < cap:
            self._out = self._out_buffers(cap)
        out = self._out
        parts = []
        start = 0
        while True:
            orders = (*self._orders, self._count)
            stop, status, k, self._count = mk.build(
                cols, orders, self._levels(), self._state(), out, bits, start
            )
            if k:
                parts.append(self._columns(chunk, out[0][:k], out[1][:, :k]))
            if status == mk.DONE:
                break
            if status == mk.GROW_ORDERS:
                self._grow_orders()
            elif status == mk.GROW_LEVELS:
                self._grow_levels()
            start = stop
        self._last = chunk
        piece = self._piece(chunk, parts, bits)
        first = np.flatnonzero(bits & mk.STARTED_EMPTY)
        if first.size == 0:
            return piece
        names = tuple(
            self._symbol[int(slot[r])] or str(int(c["instrument_id"][r])) for r in first.tolist()
        )
        return dataclasses.replace(piece, started_empty=names)

    def finish(self) -> MboPiece | None:
        """The file ended: an event left open (no ``F_LAST`` yet) is closed at the last record,
        and counted."""
        if self._last is None or not bool(self._dirty.any()):
            return None
        chunk = self._last
        n = len(chunk)
        bits = np.zeros(n, np.uint16)
        cap = self._dirty.shape[0] + 1
        out = (np.zeros((cap, mk.META), np.int64), np.zeros((cap, 6, N_LEVELS), np.int64))
        k = mk.flush(
            n - 1, self._dirty, self._chg, self._base, self._tmp, self._levels(), bits, out
        )
        bits[n - 1] |= mk.UNTERMINATED
        return self._piece(chunk, [out[0][:k]], [out[1][:k]], bits)

    # ---------------------------------------------------------------- output
    def _columns(self, chunk: Chunk, meta: np.ndarray, lv: np.ndarray) -> dict[str, np.ndarray]:
        """Bronze MBP-10 columns of kernel output rows (copied out of the reused buffers), plus
        ``_kind`` and ``_inst`` for the split into trades and the symbol codes."""
        c = chunk.columns
        at = meta[:, mk.M_TS]
        cols: dict[str, np.ndarray] = {name: c[name][at] for name in _BOOK_COLS}
        cols["instrument_id"] = self._ids[meta[:, mk.M_INST]]
        cols["action"] = meta[:, mk.M_ACT].astype(np.uint8)
        cols["side"] = meta[:, mk.M_SIDE].astype(np.uint8)
        cols["price"] = meta[:, mk.M_PX].copy()
        cols["size"] = meta[:, mk.M_SZ].astype(np.uint32)
        cols["depth"] = meta[:, mk.M_DEPTH].astype(np.uint8)
        for p, plane in enumerate(mk.PLANES):
            side, kind = plane.split("_")
            for i in range(N_LEVELS):
                col = lv[p * N_LEVELS + i]
                name = f"{side}_{kind}_{i:02d}"
                cols[name] = col.copy() if kind == "px" else col.astype(np.uint32)
        src = meta[:, mk.M_SRC]
        cols["_rows"] = np.where(src >= 0, chunk.first_row + src, meta[:, mk.M_GROW])
        cols["_kind"] = meta[:, mk.M_KIND].copy()
        cols["_inst"] = meta[:, mk.M_INST].copy()
        return cols

    def _piece(
        self, chunk: Chunk, parts: list[dict[str, np.ndarray]], bits: np.ndarray
    ) -> MboPiece:
        if len(parts) == 1:
            cols = parts[0]
        elif parts:
            cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        else:
            cols = self._columns(
                chunk, np.zeros((0, mk.META), np.int64), np.zeros((60, 0), np.int64)
            )
        rows, kind, inst = cols.pop("_rows"), cols.pop("_kind"), cols.pop("_inst")
        names = sorted({s for s in self._symbol if s is not None})
        code_of = {s: i for i, s in enumerate(names)}
        per_slot = np.array([code_of.get(s, -1) if s else -1 for s in self._symbol], np.int32)
        codes = per_slot[inst] if inst.shape[0] else np.zeros(0, np.int32)
        n = rows.shape[0]
        depth = Chunk(
            cols | {"rtype": np.full(n, 10, np.uint8)}, codes, names, chunk.first_row, rows
        )
        t = np.flatnonzero(kind == mk.ROW_TRADE)
        tcols = {k: cols[k][t] for k in (*_BOOK_COLS, *_TRADE_COLS)}
        tcols["rtype"] = np.zeros(t.shape[0], np.uint8)
        trades = Chunk(tcols, codes[t], names, chunk.first_row, rows[t])
        return MboPiece(depth, trades, bits, chunk.columns["ts_recv"])
