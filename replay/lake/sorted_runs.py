"""Bounded-memory sorted Parquet partitions: runs of sorted rows, then a k-way merge.

Ingest appends each chunk's rows for a (table, date) to the current *run* while the key order
holds (the normal case: one run, renamed into place). A chunk that is out of order is stably
sorted and, if it starts before the run's last key, opens a new run; the descents are counted.
At the end the runs (and the partition already in the lake, minus rows of the same source file)
are merged by streaming record batches: at each step every row whose key is <= the smallest
"last buffered key" among unfinished runs is final, so memory is k runs x one batch.
Keys are unique (src_key, src_row end every key), so the merged order is a total order.
A merge also drops duplicate and overlapping records (``record_identity.py``): a file's late rows
make its staging runs carry their packet run, which tells a copy from a second fill.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from replay.common.atomic import commit, temp_path_for
from replay.common.faults import PARTITION_TEMP_WRITTEN, fault_point
from replay.common.hashing import sha256_file
from replay.lake.layout import ROW_GROUP_ROWS, parquet_writer
from replay.lake.partition_quality import Entries, footer_metadata, with_drops
from replay.lake.record_identity import (
    IN_ONE_RUN,
    RUN,
    RUN_FIELD,
    Deduper,
    Drops,
    packet_runs,
    staging_schema,
)
from replay.lake.schemas import SCHEMAS

MERGE_BATCH_ROWS = 1 << 16


def key_arrays(table: pa.Table, key: tuple[str, ...]) -> list[np.ndarray]:
    return [table.column(k).to_numpy().astype(np.int64, copy=False) for k in key]


def descents(keys: list[np.ndarray]) -> np.ndarray:
    """Boolean per row i >= 1: key[i] < key[i-1] (lexicographic)."""
    n = keys[0].shape[0]
    if n < 2:
        return np.zeros(max(n - 1, 0), dtype=bool)
    less = np.zeros(n - 1, dtype=bool)
    equal = np.ones(n - 1, dtype=bool)
    for k in keys:
        a, b = k[1:], k[:-1]
        less |= equal & (a < b)
        equal &= a == b
    return less


def compare_first_to(keys: list[np.ndarray], last: tuple[int, ...]) -> bool:
    """True when the first row's key is < ``last``."""
    first = tuple(int(k[0]) for k in keys)
    return first < last


def count_le(keys: list[np.ndarray], bound: tuple[int, ...]) -> int:
    """Rows of a sorted key set that are <= ``bound`` (they form a prefix)."""
    n = keys[0].shape[0]
    less = np.zeros(n, dtype=bool)
    equal = np.ones(n, dtype=bool)
    for k, b in zip(keys, bound, strict=True):
        less |= equal & (k < b)
        equal &= k == b
    return int(np.count_nonzero(less | equal))


def sort_table(table: pa.Table, key: tuple[str, ...]) -> pa.Table:
    keys = key_arrays(table, key)
    order = np.lexsort(keys[::-1])
    return table.take(pa.array(order))


class GroupWriter:
    """Writes a sorted stream of tables into row groups of exactly ``ROW_GROUP_ROWS`` rows.

    Parquet encoding (compression, page building) runs on a background thread, one row group at
    a time, so the caller decodes the next chunk on the other core meanwhile. Row groups are
    written in submission order, so the bytes are the same as a synchronous write.
    """

    def __init__(self, path: Path, table_name: str, schema: pa.Schema | None = None):
        self.path = path
        self._writer = parquet_writer(path, table_name, schema)
        self._sha256: str | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._pool: ThreadPoolExecutor | None = None
        self._inflight: Future[None] | None = None
        self.rows = 0
        self.metadata: dict[bytes, bytes] | None = None  # footer key-value metadata, if any

    def _submit(self, t: pa.Table) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-encode")
        if self._inflight is not None:
            self._inflight.result()  # at most one group in flight: bounded memory
        self._inflight = self._pool.submit(
            self._writer.write_table, t, row_group_size=ROW_GROUP_ROWS
        )

    def write(self, t: pa.Table) -> None:
        if t.num_rows == 0:
            return
        self._pending.append(t)
        self._pending_rows += t.num_rows
        self.rows += t.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            whole = pa.concat_tables(self._pending)
            cut = (self._pending_rows // ROW_GROUP_ROWS) * ROW_GROUP_ROWS
            self._submit(whole.slice(0, cut))
            rest = whole.slice(cut)
            self._pending = [rest] if rest.num_rows else []
            self._pending_rows = rest.num_rows

    def close(self) -> None:
        try:
            if self._pending_rows:
                self._submit(pa.concat_tables(self._pending))
            if self._inflight is not None:
                self._inflight.result()
        finally:
            self._pending = []
            self._inflight = None
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
            if self.metadata:
                self._writer.add_key_value_metadata(self.metadata)
            self._writer.close()
            # read back from the page cache (~1.8 GB/s): hashing through a Python sink while
            # writing took the GIL for every page and stalled ingest's main thread
            self._sha256 = sha256_file(self.path)

    @property
    def sha256(self) -> str:
        """sha256 of the file's bytes (once closed)."""
        assert self._sha256 is not None, "GroupWriter.sha256 before close()"
        return self._sha256


class RunSet:
    """All rows of one source file for one (table, date), as sorted runs in a staging directory.

    While the file's rows arrive in key order they form one run, renamed into place at commit.
    From the first late row on (``identity``), runs also carry each row's packet run (``_run``),
    and the commit merges: that is when a file can hold a copy of its own records."""

    def __init__(self, staging: Path, table_name: str, key: tuple[str, ...]):
        self.staging = staging
        self.table_name = table_name
        self.key = key
        self.runs: list[Path] = []
        self.run_sha256: list[str] = []
        self._writer: GroupWriter | None = None
        self._last: tuple[int, ...] | None = None
        self._max: tuple[int, int] | None = None
        self._packet: tuple[int, int] | None = None  # (ts_recv, run id) of the last row
        self.identity = False  # runs after the first carry RUN (the first never does)
        self.out_of_order = 0
        self.rows = 0
        self.entries: Entries = {}  # the partition's footer counts, per source file
        self.drops = Drops()  # filled by commit_to

    def add(self, t: pa.Table) -> None:
        if t.num_rows == 0:
            return
        keys = key_arrays(t, self.key)
        unsorted = bool(np.any(descents(keys)))
        late = self._count_late(keys[0], keys[1], unsorted)
        self.out_of_order += late
        runs, self._packet = packet_runs(keys[0], _np(t, "src_row"), self._packet)
        force_new = late > 0 and not self.identity
        if late:
            self.identity = True
        if self.identity:
            t = t.append_column(RUN_FIELD, pa.array(runs))
        if unsorted:
            t = sort_table(t, self.key)
            keys = key_arrays(t, self.key)
        starts_before = self._last is not None and compare_first_to(keys, self._last)
        if self._writer is None or starts_before or force_new:
            self._open_run()
        assert self._writer is not None
        self._writer.write(t)
        self._last = tuple(int(k[-1]) for k in keys)
        self.rows += t.num_rows

    def _count_late(self, ts: np.ndarray, seq: np.ndarray, unsorted: bool) -> int:
        """Rows whose (ts_recv, sequence) is below the largest seen before them in file order.

        A running maximum makes the count independent of how the file was chunked.
        """
        late = np.zeros(ts.shape[0], dtype=bool)
        if self._max is not None:
            pts, pseq = self._max
            late |= (ts < pts) | ((ts == pts) & (seq < pseq))
        if unsorted:
            _, ranks = np.unique(np.stack([ts, seq], axis=1), axis=0, return_inverse=True)
            ranks = ranks.reshape(-1)
            runmax = np.maximum.accumulate(ranks)
            late[1:] |= ranks[1:] < runmax[:-1]
        j = int(np.lexsort((seq, ts))[-1])
        cand = (int(ts[j]), int(seq[j]))
        if self._max is None or cand > self._max:
            self._max = cand
        return int(np.count_nonzero(late))

    def _open_run(self) -> None:
        self.close()
        self.staging.mkdir(parents=True, exist_ok=True)
        path = self.staging / f"{self.table_name}-run{len(self.runs):05d}.parquet"
        self.runs.append(path)
        schema = staging_schema(SCHEMAS[self.table_name]) if self.identity else None
        self._writer = GroupWriter(path, self.table_name, schema)

    def close(self) -> None:
        if self._writer is not None:
            # the last run becomes the partition alone when it is the only one
            self._writer.metadata = footer_metadata(self.entries)
            self._writer.close()
            self.run_sha256.append(self._writer.sha256)
            self._writer = None

    def commit_to(self, final: Path, src_key: int, tag: str) -> tuple[int, str]:
        """Merge the runs with the partition at ``final`` (if any) and replace it atomically.

        Rows already in the partition from the same source file (same ``src_key``: an earlier
        ingest interrupted before its log entry) are replaced, so re-ingest stays idempotent.
        Duplicates and overlaps found by the merge are in ``self.drops`` and the footer.
        Returns the partition's row count and sha256.
        """
        self.close()
        if not final.is_file() and len(self.runs) == 1 and not self.identity:
            final.parent.mkdir(parents=True, exist_ok=True)
            commit(self.runs[0], final)
            return self.rows, self.run_sha256[0]
        inputs: list[Iterator[pa.Table]] = [_batches(p) for p in self.runs]
        if final.is_file():
            inputs.append(_batches(final, drop_src_key=src_key, deduplicated=True))
        # the temp lives in this file's staging directory, not beside the partition: a kill leaves
        # debris only where the next ingest of the file clears it, never in a partition directory
        self.staging.mkdir(parents=True, exist_ok=True)
        tmp = temp_path_for(final, tag, self.staging)
        final.parent.mkdir(parents=True, exist_ok=True)
        out = GroupWriter(tmp, self.table_name)
        dedup = Deduper(self.key[:-2], out.write)
        try:
            merge_sorted(inputs, self.key, dedup.feed)
            dedup.finish()
            self.drops = dedup.drops
            out.metadata = footer_metadata(with_drops(self.entries, dedup.drops.by_source()))
            out.close()
        except BaseException:
            out.close()
            tmp.unlink(missing_ok=True)
            raise
        fault_point(PARTITION_TEMP_WRITTEN)
        commit(tmp, final)
        return out.rows, out.sha256


def _np(t: pa.Table, name: str) -> np.ndarray:
    return t.column(name).to_numpy().astype(np.int64, copy=False)


def _batches(
    path: Path, drop_src_key: int | None = None, deduplicated: bool = False
) -> Iterator[pa.Table]:
    """A sorted file's rows in batches, with the packet run column: as stored in a staging run,
    derived from ``ts_recv`` for a run without it (a file's first run: its rows came in file
    order), or one per source file in a committed partition (already deduplicated)."""
    pf = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering caches every range read: RSS grows
    stored = RUN in pf.schema_arrow.names
    carry: tuple[int, int] | None = None
    for b in pf.iter_batches(batch_size=MERGE_BATCH_ROWS):
        t = pa.Table.from_batches([b])
        if drop_src_key is not None:
            t = t.filter(pc.not_equal(t.column("src_key"), drop_src_key))
        if not t.num_rows:
            continue
        if deduplicated:
            t = t.append_column(RUN_FIELD, pa.array(np.full(t.num_rows, IN_ONE_RUN)))
        elif not stored:
            ids, carry = packet_runs(_np(t, "ts_recv"), _np(t, "src_row"), carry)
            t = t.append_column(RUN_FIELD, pa.array(ids))
        yield t


def merge_sorted(
    inputs: list[Iterator[pa.Table]],
    key: tuple[str, ...],
    emit: callable,  # type: ignore[valid-type]
) -> None:
    """K-way merge of sorted table streams into ``emit`` in key order, bounded memory."""
    bufs: list[pa.Table | None] = [next(it, None) for it in inputs]
    done = [b is None for b in bufs]
    while True:
        live = [i for i, b in enumerate(bufs) if b is not None and b.num_rows > 0]
        if not live:
            return
        # The frontier: smallest last-key among inputs that may still deliver more rows.
        frontier: tuple[int, ...] | None = None
        for i in live:
            if done[i]:
                continue
            b = bufs[i]
            assert b is not None
            last = tuple(int(b.column(k)[b.num_rows - 1].as_py()) for k in key)
            if frontier is None or last < frontier:
                frontier = last
        pieces = []
        for i in live:
            b = bufs[i]
            assert b is not None
            n = b.num_rows if frontier is None else count_le(key_arrays(b, key), frontier)
            if n:
                pieces.append(b.slice(0, n))
                rest = b.slice(n)
                bufs[i] = rest
        if pieces:
            emit(sort_table(pa.concat_tables(pieces), key))
        for i in live:
            b = bufs[i]
            if b is not None and b.num_rows == 0 and not done[i]:
                nb = next(inputs[i], None)
                if nb is None:
                    done[i] = True
                    bufs[i] = None
                else:
                    bufs[i] = nb
            elif b is not None and b.num_rows == 0:
                bufs[i] = None
