"""Columnar event batches: the contract between the replay driver (or live mode) and MarketState.

A merged chunk of the session's event stream (SPEC §2.4) is handed to the engines as one batch
per stream, each holding the *consecutive* slice of that stream that falls in the chunk. Because
the merged order puts, at equal ``ts_recv``, depth before futures trades before option trades,
per-stream slices carry everything the engines need: the book an option trade saw is the last
depth record with ``ts_recv <=`` the trade's. Arrays are numpy, never Python objects per event.

Side and action codes are the ASCII bytes Databento uses (``ord('A')``, ``ord('B')``, ...).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

SIDE_ASK = ord("A")  # trade: sell aggressor hit the bid
SIDE_BID = ord("B")  # trade: buy aggressor lifted the ask
SIDE_NONE = ord("N")
ACTION_TRADE = ord("T")
F_LAST = 1 << 7
F_SNAPSHOT = 1 << 5  # DBN: the record belongs to a book snapshot (MBO)
UNDEF_PRICE = np.iinfo(np.int64).max
N_LEVELS = 10


# planes of DepthBatch.levels (and of MarketState's book planes)
LV_BID_PX, LV_ASK_PX, LV_BID_SZ, LV_ASK_SZ = range(4)


@dataclass(frozen=True)
class DepthBatch:
    """MBP-10 records of the primary future, in merged order: what the engines read of them.

    The engines take depth flow from consecutive books (SPEC §5.1), never from a record's own
    action/side/price/size, so those are not read into the batch.

    ``levels`` is int64 (n, 4, 10): per record the bid prices, ask prices, bid sizes and ask sizes
    (``LV_*`` planes), level 0 best; empty levels carry ``UNDEF_PRICE`` and size 0. One block
    rather than four arrays, so a numba kernel reads a record through a single array argument
    (each array argument of a numba call costs a reference-count round trip).
    """

    ts_recv: np.ndarray  # int64 (n,)
    sequence: np.ndarray  # int64 (n,)
    flags: np.ndarray  # uint8 (n,)
    levels: np.ndarray  # int64 (n, 4, 10)

    def __len__(self) -> int:
        return int(self.ts_recv.shape[0])

    @property
    def bid_px(self) -> np.ndarray:
        return self.levels[:, LV_BID_PX]

    @property
    def ask_px(self) -> np.ndarray:
        return self.levels[:, LV_ASK_PX]

    @property
    def bid_sz(self) -> np.ndarray:
        return self.levels[:, LV_BID_SZ]

    @property
    def ask_sz(self) -> np.ndarray:
        return self.levels[:, LV_ASK_SZ]

    @staticmethod
    def stack_levels(
        bid_px: np.ndarray, ask_px: np.ndarray, bid_sz: np.ndarray, ask_sz: np.ndarray
    ) -> np.ndarray:
        """The (n, 4, 10) ``levels`` block from four (n, 10) arrays."""
        return np.ascontiguousarray(np.stack([bid_px, ask_px, bid_sz, ask_sz], axis=1), np.int64)

    @staticmethod
    def empty() -> DepthBatch:
        z1 = np.zeros(0, dtype=np.int64)
        zu = np.zeros(0, dtype=np.uint8)
        return DepthBatch(z1, z1, zu, np.zeros((0, 4, N_LEVELS), dtype=np.int64))


@dataclass(frozen=True)
class TradeBatch:
    """Trades of the primary future (futures_trades, or MBP-10 ``T`` records), in merged order."""

    ts_recv: np.ndarray  # int64 (n,)
    price: np.ndarray  # int64 (n,)
    size: np.ndarray  # int64 (n,)
    side: np.ndarray  # uint8 (n,) aggressor: 'A', 'B' or 'N'

    def __len__(self) -> int:
        return int(self.ts_recv.shape[0])

    @staticmethod
    def empty() -> TradeBatch:
        z1 = np.zeros(0, dtype=np.int64)
        return TradeBatch(z1, z1, z1, np.zeros(0, dtype=np.uint8))


@dataclass(frozen=True)
class OptionTradeBatch:
    """Option trades with a definition, in merged order."""

    ts_recv: np.ndarray  # int64 (n,)
    instrument_id: np.ndarray  # int64 (n,)
    price: np.ndarray  # int64 (n,) option premium, index points in 1e-9 units
    size: np.ndarray  # int64 (n,)
    side: np.ndarray  # uint8 (n,) aggressor: 'A', 'B' or 'N'

    def __len__(self) -> int:
        return int(self.ts_recv.shape[0])

    @staticmethod
    def empty() -> OptionTradeBatch:
        z1 = np.zeros(0, dtype=np.int64)
        return OptionTradeBatch(z1, z1, z1, z1, np.zeros(0, dtype=np.uint8))


@dataclass(frozen=True)
class OptionDefinitions:
    """The session's option universe (from Bronze definitions), sorted by instrument_id."""

    instrument_id: np.ndarray  # int64 (m,)
    is_call: np.ndarray  # bool (m,)
    strike: np.ndarray  # int64 (m,) fixed-point units
    expiration: np.ndarray  # int64 (m,) ns since epoch UTC

    def __len__(self) -> int:
        return int(self.instrument_id.shape[0])

    @staticmethod
    def empty() -> OptionDefinitions:
        z = np.zeros(0, dtype=np.int64)
        return OptionDefinitions(z, np.zeros(0, dtype=np.bool_), z, z)

    def union(self, other: OptionDefinitions) -> OptionDefinitions:
        """Both universes, sorted by instrument_id; ``other`` wins for an id in both."""
        if len(other) == 0:
            return self
        keep = ~np.isin(self.instrument_id, other.instrument_id)
        cols = {
            f.name: np.concatenate([getattr(self, f.name)[keep], getattr(other, f.name)])
            for f in dataclasses.fields(self)
        }
        order = np.argsort(cols["instrument_id"], kind="stable")
        return OptionDefinitions(**{k: v[order] for k, v in cols.items()})


B = TypeVar("B", DepthBatch, TradeBatch, OptionTradeBatch)


def slice_batch(b: B, start: int, stop: int) -> B:
    return dataclasses.replace(
        b, **{f.name: getattr(b, f.name)[start:stop] for f in dataclasses.fields(b)}
    )


def concat_batches(parts: list[B]) -> B:
    first = parts[0]
    if len(parts) == 1:
        return first
    return dataclasses.replace(
        first,
        **{
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in dataclasses.fields(first)
        },
    )


@dataclass(frozen=True)
class MergedChunk:
    """Consecutive events of the total order, as one slice per stream."""

    depth: DepthBatch
    trades: TradeBatch
    options: OptionTradeBatch
    # option definitions that arrive mid-session (SPEC §2.4), taking effect before this chunk's
    # events; ``new_options_ts`` is their ts_recv: snaps before it are scored without them
    new_options: OptionDefinitions = field(default_factory=lambda: OptionDefinitions.empty())
    new_options_ts: int | None = None

    def __len__(self) -> int:
        return len(self.depth) + len(self.trades) + len(self.options)

    def last_ts(self) -> int:
        return max(
            int(b.ts_recv[-1]) for b in (self.depth, self.trades, self.options) if len(b) > 0
        )


class EventCounts:
    """Events per stream, primary-future sequence gaps and the last ``ts_recv`` seen (manifest)."""

    def __init__(self) -> None:
        self.events = {"futures_mbp10": 0, "futures_trades": 0, "option_trades": 0}
        self.sequence_gaps = 0
        self.last_seq: int | None = None
        self.last_event_ts: int | None = None

    def add(self, d: DepthBatch, t: TradeBatch, o: OptionTradeBatch) -> None:
        """Count consecutive slices of the three streams (any chunking gives the same totals)."""
        if len(d):
            seq = d.sequence
            gaps = int(np.count_nonzero(np.diff(seq) > 1))
            if self.last_seq is not None and int(seq[0]) > self.last_seq + 1:
                gaps += 1
            self.sequence_gaps += gaps
            self.last_seq = int(seq[-1])
        self.events["futures_mbp10"] += len(d)
        self.events["futures_trades"] += len(t)
        self.events["option_trades"] += len(o)
        if len(d) + len(t) + len(o):
            last = max(int(b.ts_recv[-1]) for b in (d, t, o) if len(b))
            prev = self.last_event_ts
            self.last_event_ts = last if prev is None else max(prev, last)
