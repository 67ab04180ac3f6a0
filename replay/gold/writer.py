"""Gold ``levels.signals`` Parquet: explicit schema, fixed writer options, atomic commit.

The writer is a sink of the session seam: engines hand it ``RowBlock``s of whole snaps, in snap
order, of any size (a kernel's 32 Ki-row batches, or one snap at a time in live mode). It cuts them
into batches itself, always after the snap that reaches ``BATCH_ROWS``, so row groups and pages fall
at the same rows, and the bytes are the same, however the rows were delivered. Batches are
streamed into a hidden temp file that is fsynced and renamed over the final path only when the
session completed: a crash or a kill mid-write leaves the previous Gold untouched. Row groups are
encoded (zstd) on a background thread, one in flight, in submission order: the bytes are those of
a synchronous write, and the engines keep their core (≈ 1 s of a heavy day).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engines.columns.rows import RowBlock
from replay.common.atomic import commit, temp_path_for
from replay.common.one_in_flight import OneInFlight
from replay.gold.schema import GOLD, record_batch

PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 3,
    "write_statistics": True,
    "data_page_size": 1 << 20,
    "store_schema": True,
}
"""Fixed writer options of every output table (with pyarrow's version, they fix the bytes)."""

BATCH_ROWS = 1 << 15
GOLD_ROW_GROUP = 1 << 15


def _snap_end(batches: list[pa.RecordBatch], row: int) -> int:
    """Index just past the snap that holds global row ``row`` of ``batches``."""
    k = np.concatenate([b.column("snap_index").to_numpy() for b in batches])
    after = np.flatnonzero(k[row + 1 :] != k[row])
    return int(row + 1 + after[0]) if after.shape[0] else int(k.shape[0])


class GoldWriter:
    """Streams the RowBlocks of one session into its Gold file (a ``RowSink``)."""

    def __init__(self, final: Path, staging: Path | None = None):
        self.batch_rows = BATCH_ROWS  # engines may gather this many rows before handing them over
        self.final = final
        self.tmp = temp_path_for(final, "writing", staging)
        self.tmp.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(self.tmp, GOLD, use_dictionary=True, **PARQUET_OPTIONS)
        self.rows = 0
        self._open: list[pa.RecordBatch] = []  # rows not yet cut into a batch
        self._open_rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._encoder = OneInFlight("gold-encode")  # bounded memory, ordered writes

    def put(self, block: RowBlock) -> None:
        """Take rows of whole snaps (in snap order)."""
        if len(block) == 0:
            return
        self._open.append(record_batch(block))
        self._open_rows += len(block)
        self.rows += len(block)
        while self._open_rows >= BATCH_ROWS:
            cut = _snap_end(self._open, BATCH_ROWS - 1)
            if cut == self._open_rows and len(self._open) == 1:
                head, self._open = self._open[0], []  # the common case: a kernel batch, as is
            else:
                table = pa.Table.from_batches(self._open, schema=GOLD)
                head = table.slice(0, cut).combine_chunks().to_batches()[0]
                self._open = table.slice(cut).to_batches()
            self._open_rows -= head.num_rows
            self._add_batch(head)

    def _add_batch(self, batch: pa.RecordBatch) -> None:
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        if self._pending_rows >= GOLD_ROW_GROUP:
            self._write_pending()

    def _close_open(self) -> None:
        if self._open_rows:
            table = pa.Table.from_batches(self._open, schema=GOLD).combine_chunks()
            self._add_batch(table.to_batches()[0])
        self._open, self._open_rows = [], 0

    def _write_pending(self) -> None:
        if self._pending:
            table = pa.Table.from_batches(self._pending, schema=GOLD)
            self._encoder.submit(self._writer.write_table, table, row_group_size=GOLD_ROW_GROUP)
        self._pending = []
        self._pending_rows = 0

    def commit(self) -> Path:
        """Finish the file and atomically move it into place."""
        self._close_open()
        self._write_pending()
        self._encoder.stop()
        self._writer.close()
        commit(self.tmp, self.final)
        return self.final

    def abort(self) -> None:
        with contextlib.suppress(BaseException):  # a failed write: the temp file goes anyway
            self._encoder.stop()
        try:
            self._writer.close()
        finally:
            self.tmp.unlink(missing_ok=True)
