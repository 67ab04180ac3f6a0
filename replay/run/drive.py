"""Driving a ``SessionEngine`` with merged chunks, its preparation stages on their own threads.

Each stage an engine asks for (``SessionEngine.stages``) runs on a thread of its own, a bounded
number of chunks ahead of the next (``prefetch``): for the fast engine that is reading, merging and
option mids (with the reader), option IV bisection (~2.4 s of a heavy day), then the kernel here.
Which of the first two is heavier depends on the source (Bronze decode vs Silver), so the OS
balances them over the cores; all of them release the GIL. Offline replay and live mode both
drive engines through this function, so they differ only in where the chunks come from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from engines.contract.events import MergedChunk
from engines.seam.session_engine import SessionEngine
from replay.common.prefetch import prefetch

PREFETCH_DEPTH = 2  # chunks in flight per stage: bounded memory


def drive(
    engine: SessionEngine,
    chunks: Iterator[MergedChunk],
    on_snap: Callable[[int], None] | None = None,
) -> None:
    """Feed every chunk to ``engine`` and finish the session; ``on_snap(k)`` after each chunk."""
    items: Iterator[Any] = chunks
    for stage in engine.stages():
        items = prefetch(stage(items), PREFETCH_DEPTH)
    for item in items:
        engine.feed(item)
        if on_snap is not None:
            on_snap(engine.next_k)
    engine.finish()
