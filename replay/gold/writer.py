"""Gold ``levels.signals`` Parquet: explicit schema, fixed writer options, atomic commit.

Rows arrive snap by snap (already sorted by ``level_px``, ``level_id`` within a snap, snaps in
time order), are buffered column-wise in bounded batches, and streamed into a hidden temp file
that is fsynced and renamed over the final path only when the session completed. A crash or a
kill mid-write leaves the previous Gold untouched. Row groups are encoded (zstd) on a background
thread, one in flight, in submission order: the bytes are those of a synchronous write, and the
engines keep their core (≈ 1 s of a heavy day).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from engines.signal_service import LevelRow, SnapResult
from replay.common.atomic import commit, temp_path_for
from replay.lake.schemas import GOLD, GOLD_ENUMS

BATCH_ROWS = 1 << 15
GOLD_ROW_GROUP = 1 << 15
_LEVEL_FIELDS = [f.name for f in dataclasses.fields(LevelRow)]


def gold_dir(out: Path, date: dt.date) -> Path:
    return out / "gold" / "levels_signals" / f"date={date.isoformat()}"


def gold_file(out: Path, date: dt.date) -> Path:
    return gold_dir(out, date) / "part-00000.parquet"


def manifest_file(out: Path, date: dt.date) -> Path:
    return gold_dir(out, date) / "_manifest.json"


class GoldWriter:
    """Streams SnapResults into the Gold file of one session."""

    def __init__(self, final: Path, session_date: dt.date, instrument: str):
        self.final = final
        self.tmp = temp_path_for(final, "writing")
        final.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(
            self.tmp,
            GOLD,
            compression="zstd",
            compression_level=3,
            use_dictionary=True,
            write_statistics=True,
            data_page_size=1 << 20,
            store_schema=True,
        )
        self._date = session_date
        self._instrument = instrument
        self._cols: dict[str, list] = {n: [] for n in GOLD.names}
        self._n = 0
        self.rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._pool: ThreadPoolExecutor | None = None
        self._inflight: Future[None] | None = None

    def add(self, snap: SnapResult) -> None:
        if not snap.rows:
            return
        c = self._cols
        for r in snap.rows:
            c["ts_ns"].append(snap.ts_ns)
            c["snap_index"].append(snap.snap_index)
            c["session_date"].append(self._date)
            c["instrument"].append(self._instrument)
            c["spot_px"].append(snap.spot_px)
            c["bid_px"].append(snap.bid_px)
            c["ask_px"].append(snap.ask_px)
            for name in _LEVEL_FIELDS:
                c[name].append(getattr(r, name))
        self._n += len(snap.rows)
        if self._n >= BATCH_ROWS:
            self._flush_batch()

    def _flush_batch(self) -> None:
        if self._n == 0:
            return
        arrays = []
        for f in GOLD:
            vals = self._cols[f.name]
            if f.name in GOLD_ENUMS:
                allowed = set(GOLD_ENUMS[f.name])
                bad = {v for v in vals if v is not None and v not in allowed}
                if bad:
                    raise ValueError(f"Gold column {f.name}: values {sorted(bad)} not in {allowed}")
            arrays.append(pa.array(vals, type=f.type))
        self._cols = {n: [] for n in GOLD.names}
        self._n = 0
        self.add_batch(pa.RecordBatch.from_arrays(arrays, schema=GOLD))

    def add_batch(self, batch: pa.RecordBatch) -> None:
        """Queue one batch of whole snaps (the fast path builds them column-wise itself).

        Batches must be cut where ``add`` cuts them (after the snap that reaches
        ``BATCH_ROWS``): row groups and pages then fall at the same rows, so the bytes match.
        """
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self.rows += batch.num_rows
        if self._pending_rows >= GOLD_ROW_GROUP:
            self._write_pending()

    def _write_pending(self) -> None:
        if self._pending:
            table = pa.Table.from_batches(self._pending, schema=GOLD)
            self._wait()  # at most one row group in flight: bounded memory, ordered writes
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gold-encode")
            self._inflight = self._pool.submit(
                self._writer.write_table, table, row_group_size=GOLD_ROW_GROUP
            )
        self._pending = []
        self._pending_rows = 0

    def _wait(self) -> None:
        if self._inflight is not None:
            fut, self._inflight = self._inflight, None
            fut.result()

    def _stop(self) -> None:
        try:
            self._wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def commit(self) -> Path:
        """Finish the file and atomically move it into place."""
        self._flush_batch()
        self._write_pending()
        self._stop()
        self._writer.close()
        commit(self.tmp, self.final)
        return self.final

    def abort(self) -> None:
        with contextlib.suppress(BaseException):  # a failed write: the temp file goes anyway
            self._stop()
        try:
            self._writer.close()
        finally:
            self.tmp.unlink(missing_ok=True)
