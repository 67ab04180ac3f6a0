"""The session seam (ARCHITECTURE.md): one interface that offline replay, live mode, the API and
the executors drive, whichever engine is behind it.

``replay/`` hands an engine merged chunks (``engines.contract.events.MergedChunk``) and receives
rows: the
engine folds every event, scores each snap once an event after it (or the session's end) has been
seen (SPEC §2.4), and hands whole snaps' rows to its ``RowSink`` as ``RowBlock``s. The session's
inputs (``SessionSetup``) hold no lake paths, so a live feed builds them as easily as the lake.
The option universe can grow mid-session (``MergedChunk.new_options``).

Two engines implement it and write the same rows: ``reference``
(``engines/reference/reference_engine.py``,
the engines level by level in Python: the readable definition and the oracle) and ``fast``
(``engines/fast/fast_engine.py``, one numba kernel call per chunk, the default).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from engines.columns.rows import RowBlock
from engines.contract.config import EngineConfig
from engines.contract.events import EventCounts, OptionDefinitions
from engines.state.session_context import PriorSession

Stage = Callable[[Iterator[Any]], Iterator[Any]]
"""A per-chunk preparation step an engine asks the driver to run ahead of ``feed`` (possibly on
another thread): pure, in order, one item out per item in."""


@dataclass(frozen=True)
class SessionSetup:
    """What an engine must know of a session before its first event (never where it came from).

    ``t0`` is the first snap time (the first event's ``ts_recv`` rounded up to the snap grid);
    ``options`` the option universe known at the start; ``prior`` the previous session's
    high/low/close behind PDH/PDL/PDC (SPEC §5.7), if there is one.
    """

    date: dt.date
    primary_id: int
    primary_symbol: str
    t0: int
    options: OptionDefinitions
    prior: PriorSession | None


@dataclass(frozen=True)
class EngineCounters:
    """What a finished (or running) session counted: the manifest's event and quality numbers."""

    events: dict[str, int]
    last_event_ts: int | None
    snaps: int
    snaps_with_rows: int
    sequence_gaps: int
    stale_book_snaps: int
    unscored_snaps: int
    option_iv_out_of_band: int
    option_universe: int
    market: dict[str, int]  # MarketState's book and trade counters


class RowSink(Protocol):
    """Receives the rows of whole snaps, in snap order (Gold writer, API collector, live)."""

    batch_rows: int  # an engine may gather up to about this many rows per ``put`` (1: each snap)

    def put(self, block: RowBlock) -> None: ...


class SessionEngine(Protocol):
    """One session's engine state between chunks."""

    cfg: EngineConfig
    setup: SessionSetup

    def stages(self) -> tuple[Stage, ...]:
        """Preparation steps the driver runs, in order, between the chunks and ``feed``."""
        ...

    def feed(self, item: Any) -> None:
        """Fold one prepared chunk, handing the rows of every snap it completes to the sink."""
        ...

    def close(self, watermark_ns: int) -> None:
        """Score every snap with ``T_k <= watermark_ns``: the caller promises that no event with
        ``ts_recv <= watermark_ns`` follows (a live watermark, SPEC §6). Never changes a row."""
        ...

    def finish(self) -> None:
        """Score the remaining snaps through the first snap at or after the last event."""
        ...

    @property
    def next_k(self) -> int:
        """Index of the next snap to be scored (= snaps scored so far)."""
        ...

    def counters(self) -> EngineCounters: ...


def last_snap(setup: SessionSetup, snap_ns: int, last_event_ts: int | None) -> int:
    """Index of the session's last snap: the first ``T_k`` at or after its last event (SPEC
    §2.4); snap 0 when there was no event."""
    last = setup.t0 if last_event_ts is None else last_event_ts
    return max(0, -(-(last - setup.t0) // snap_ns))


def closed_snap(setup: SessionSetup, snap_ns: int, watermark_ns: int) -> int:
    """Index of the last snap a watermark completes (``T_k <= watermark_ns``; -1 for none)."""
    return (watermark_ns - setup.t0) // snap_ns


class SnapClock:
    """When snaps close, shared by both engines: a watermark closes every snap it completes, the
    session's end closes through its last snap (SPEC §2.4, §6). An engine supplies
    ``_score_through(k)`` (score snaps up to k, folding nothing) and ``_deliver()`` (hand any
    rows it still holds to the sink)."""

    cfg: EngineConfig
    setup: SessionSetup
    counts: EventCounts

    def close(self, watermark_ns: int) -> None:
        """Score every snap with ``T_k <= watermark_ns`` (no event at or before it follows)."""
        self._score_through(closed_snap(self.setup, self.cfg.snap_ns, watermark_ns))

    def finish(self) -> None:
        """Score the remaining snaps through the first T_k at or after the last event."""
        self._score_through(last_snap(self.setup, self.cfg.snap_ns, self.counts.last_event_ts))
        self._deliver()

    def _score_through(self, k_last: int) -> None:
        raise NotImplementedError

    def _deliver(self) -> None:
        raise NotImplementedError
