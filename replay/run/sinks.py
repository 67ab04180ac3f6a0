"""Row sinks of the session seam besides the Gold writer: collect in memory, or one call per snap.

``CollectingSink`` keeps the rows as Arrow batches (the API's ``replay_session`` without an output
directory); ``PerSnapSink`` asks the engine for every snap as soon as it is scored (``batch_rows``
= 1) and calls back once per snap with that snap's rows: what live mode publishes as one
``levels.signals`` message. Both see exactly the rows the Gold writer would write.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from engines.columns.rows import RowBlock
from replay.gold.schema import GOLD, record_batch
from replay.gold.writer import BATCH_ROWS


class CollectingSink:
    """All rows of a session, in memory (small sessions and notebooks)."""

    batch_rows = BATCH_ROWS

    def __init__(self) -> None:
        self.batches: list[pa.RecordBatch] = []

    def put(self, block: RowBlock) -> None:
        if len(block):
            self.batches.append(record_batch(block))

    def table(self) -> pa.Table:
        return pa.Table.from_batches(self.batches, schema=GOLD)


class PerSnapSink:
    """Calls ``on_snap(rows)`` once per scored snap that has rows, in snap order."""

    batch_rows = 1

    def __init__(self, on_snap: Callable[[pa.RecordBatch], None]):
        self.on_snap = on_snap

    def put(self, block: RowBlock) -> None:
        for a, b in block.snap_bounds():
            self.on_snap(record_batch(block.slice(a, b)))
