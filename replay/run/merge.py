"""The merged event stream of a session (SPEC §2.4), as per-stream consecutive slices.

Total order: (``ts_recv``, stream rank, ``sequence``, ``src_key``, ``src_row``) with ranks
futures_mbp10 1 < futures_trades 2 < option_trades 3. Each stream arrives already sorted by its
own key (Bronze partition order), so the merge never re-sorts a stream: it buffers one batch per
stream, and every buffered row whose key is <= the smallest "last buffered key" among unfinished
streams is safe to emit. A chunk of ``chunk_events`` events is the first ``chunk_events`` safe
events in the total order (an explicit lexsort over the five key columns, so no equal-key order is
left to a library); per stream they form a prefix, which is what the engines receive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np

from engines.contract.events import (
    DepthBatch,
    MergedChunk,
    OptionDefinitions,
    OptionTradeBatch,
    TradeBatch,
    concat_batches,
    slice_batch,
)
from replay.lake.reader import Keyed

RANK_DEPTH, RANK_TRADES, RANK_OPTIONS = 1, 2, 3


def slice_keyed(k: Keyed, start: int, stop: int) -> Keyed:
    return Keyed(
        k.ts[start:stop],
        k.seq[start:stop],
        k.src_key[start:stop],
        k.src_row[start:stop],
        slice_batch(k.batch, start, stop),  # type: ignore[type-var]
    )


def concat_keyed(parts: list[Keyed]) -> Keyed:
    if len(parts) == 1:
        return parts[0]
    return Keyed(
        np.concatenate([p.ts for p in parts]),
        np.concatenate([p.seq for p in parts]),
        np.concatenate([p.src_key for p in parts]),
        np.concatenate([p.src_row for p in parts]),
        concat_batches([p.batch for p in parts]),  # type: ignore[type-var]
    )


def _key_le(k: Keyed, rank: int, bound: tuple[int, ...]) -> int:
    """How many leading rows of ``k`` have key <= ``bound`` (a prefix: k is sorted)."""
    cols = (k.ts, np.full(len(k), rank, dtype=np.int64), k.seq, k.src_key, k.src_row)
    less = np.zeros(len(k), dtype=bool)
    equal = np.ones(len(k), dtype=bool)
    for c, b in zip(cols, bound, strict=True):
        less |= equal & (c < b)
        equal &= c == b
    return int(np.count_nonzero(less | equal))


def _last_key(k: Keyed, rank: int) -> tuple[int, ...]:
    i = len(k) - 1
    return (int(k.ts[i]), rank, int(k.seq[i]), int(k.src_key[i]), int(k.src_row[i]))


class _Stream:
    def __init__(self, it: Iterator[Keyed], rank: int, empty: Any):
        self.it = it
        self.rank = rank
        self.empty = empty
        self.buf: Keyed | None = None
        self.done = False

    def fill(self) -> None:
        while not self.done and (self.buf is None or len(self.buf) == 0):
            nxt = next(self.it, None)
            if nxt is None:
                self.done = True
            elif len(nxt):
                self.buf = nxt

    def has_rows(self) -> bool:
        return self.buf is not None and len(self.buf) > 0

    def take(self, n: int) -> Any:
        if n == 0 or self.buf is None:
            return self.empty
        out = slice_keyed(self.buf, 0, n)
        self.buf = slice_keyed(self.buf, n, len(self.buf))
        return out.batch


def merged_chunks(
    depth: Iterator[Keyed],
    trades: Iterator[Keyed],
    options: Iterator[Keyed],
    chunk_events: int | None = None,
) -> Iterator[MergedChunk]:
    """Yield the session's events in total order, ``chunk_events`` at a time (None: as read)."""
    streams = [
        (depth, RANK_DEPTH, DepthBatch.empty()),
        (trades, RANK_TRADES, TradeBatch.empty()),
        (options, RANK_OPTIONS, OptionTradeBatch.empty()),
    ]
    for d, t, o in merged_slices(streams, chunk_events):
        yield MergedChunk(depth=d, trades=t, options=o)


def merged_slices(
    sources: list[tuple[Iterator[Keyed], int, Any]], chunk_events: int | None = None
) -> Iterator[list[Any]]:
    """The merge over any batch type (``(stream, rank, empty batch)`` per stream): per step, each
    stream's next slice (a prefix of what is safe to emit), ``chunk_events`` events at most."""
    streams = [_Stream(it, rank, empty) for it, rank, empty in sources]
    while True:
        for s in streams:
            s.fill()
        live = [s for s in streams if s.has_rows()]
        if not live:
            return
        bounds = [_last_key(s.buf, s.rank) for s in live if not s.done]  # type: ignore[arg-type]
        frontier = min(bounds) if bounds else None
        safe = [
            len(s.buf) if frontier is None else _key_le(s.buf, s.rank, frontier)  # type: ignore[arg-type]
            for s in live
        ]
        counts = safe
        if chunk_events is not None and sum(safe) > chunk_events:
            counts = _first_n(live, safe, chunk_events)
        taken = {id(s): s.take(c) for s, c in zip(live, counts, strict=True)}
        yield [taken.get(id(s), s.empty) for s in streams]


def _first_n(live: list[_Stream], safe: list[int], n: int) -> list[int]:
    """Per-stream counts of the first ``n`` safe events in the total order."""
    ts, rank, seq, sk, sr, who = [], [], [], [], [], []
    for j, (s, m) in enumerate(zip(live, safe, strict=True)):
        b = s.buf
        assert b is not None
        ts.append(b.ts[:m])
        rank.append(np.full(m, s.rank, dtype=np.int64))
        seq.append(b.seq[:m])
        sk.append(b.src_key[:m])
        sr.append(b.src_row[:m])
        who.append(np.full(m, j, dtype=np.int64))
    order = np.lexsort(
        (
            np.concatenate(sr),
            np.concatenate(sk),
            np.concatenate(seq),
            np.concatenate(rank),
            np.concatenate(ts),
        )
    )
    first = np.concatenate(who)[order[:n]]
    return [int(np.count_nonzero(first == j)) for j in range(len(live))]


def _split(chunk: MergedChunk, ts: int) -> tuple[MergedChunk, MergedChunk]:
    """The chunk's events before ``ts``, and the rest (a definition at ``ts`` has rank 0: it
    precedes every event at the same time)."""
    heads, tails = [], []
    for b in (chunk.depth, chunk.trades, chunk.options):
        n = int(np.searchsorted(b.ts_recv, ts, side="left"))
        heads.append(slice_batch(b, 0, n))
        tails.append(slice_batch(b, n, len(b)))
    return MergedChunk(*heads), MergedChunk(*tails)  # type: ignore[arg-type]


def _known(chunk: MergedChunk, universe: OptionDefinitions) -> MergedChunk:
    """The chunk with only option trades of instruments defined by now (as live sees them)."""
    o = chunk.options
    keep = np.isin(o.instrument_id, universe.instrument_id)
    if not keep.all():
        kept = {f.name: getattr(o, f.name)[keep] for f in dataclasses.fields(o)}
        o = dataclasses.replace(o, **kept)
    return MergedChunk(chunk.depth, chunk.trades, o)


def arrival_chunk(ts: int, defs: OptionDefinitions) -> MergedChunk:
    """No events: option definitions arriving at ``ts`` (snaps before it are scored first)."""
    empty = (DepthBatch.empty(), TradeBatch.empty(), OptionTradeBatch.empty())
    return MergedChunk(*empty, new_options=defs, new_options_ts=ts)


def with_arrivals(
    chunks: Iterator[MergedChunk],
    universe: OptionDefinitions,
    coming: list[tuple[int, OptionDefinitions]],
) -> Iterator[MergedChunk]:
    """Chunks cut where option definitions arrive mid-session (SPEC §2.4): each arrival is a chunk
    of its own at its ``ts_recv``, and an option trade counts only once its instrument is defined,
    exactly as live mode applies a definitions message."""
    pending = list(coming)
    for chunk in chunks:
        rest = chunk
        while pending and len(rest) and rest.last_ts() >= pending[0][0]:
            ts, defs = pending.pop(0)
            head, rest = _split(rest, ts)
            if len(head):
                yield _known(head, universe)
            yield arrival_chunk(ts, defs)
            universe = universe.union(defs)
        if len(rest):
            yield _known(rest, universe)
