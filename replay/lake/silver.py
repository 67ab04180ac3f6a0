"""Silver: the MBP-10 book as per-record changes, written at ingest, read by every replay.

Replay needs, of each MBP-10 record, its merge keys, flags and the ten-level book. Bronze keeps
the book as forty columns (DBN's layout, SPEC §2.3); decoding them and assembling the row-major
(n, 4, 10) block the engines read was over half of a heavy day's replay CPU, although a record
usually changes one or two of those forty values. Silver stores, per record, only the slots that
changed since the previous record *of the same instrument*: a 40-bit mask (bit ``4·10`` plane-major:
``plane·10 + level``, planes as ``DepthBatch.levels``) and the new values in bit order. The first
record of an instrument is a change from the empty book (prices ``UNDEF_PRICE``, sizes 0).

Silver holds only the changes; keys, instrument and flags are read from Bronze's narrow columns
beside it (Silver row i mirrors Bronze row i). It is config-independent, derived from Bronze only,
and built on request (``levelreplay silver``, or ``ingest --silver``) for sessions replayed more
than once (parameter sweeps, training sets): building it inside ingest's write path cost 8 s of a
heavy day's 18 s ingest, against issue 6's ingest budget of 2x the decode. It is stamped with the
Bronze partition's sha256; a replay uses it only while the stamp matches, else it reads Bronze.
Both paths give the same DepthBatches, so the same Gold bytes (tested).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numba import njit

from engines.contract.events import LV_ASK_PX, LV_BID_PX, N_LEVELS, UNDEF_PRICE, DepthBatch
from replay.common.atomic import commit, temp_path_for
from replay.common.faults import SILVER_TEMP_WRITTEN, fault_point
from replay.common.hashing import sha256_file
from replay.common.locks import file_lock
from replay.lake.layout import partition_entry, remove_stale_temps
from replay.lake.level_block import PRICE_PLANES, SIZE_PLANES, level_columns
from replay.lake.partition_digest import partition_sha256
from replay.lake.partition_digest import record as record_digest

SILVER_VERSION = "1"
N_SLOTS = 4 * N_LEVELS
META_VERSION = b"levelreplay.silver"
META_BRONZE = b"levelreplay.bronze_sha256"
ROW_GROUP_ROWS = 1 << 19
_ENCODE_ROWS = 1 << 16
SCHEMA = pa.schema(
    [
        pa.field("chg_mask", pa.uint64(), nullable=False),
        pa.field("chg_vals", pa.list_(pa.field("v", pa.int64(), nullable=False)), nullable=False),
    ]
)
# what a replay reads of Bronze beside Silver (Silver row i is Bronze row i)
BRONZE_COLUMNS = ("ts_recv", "sequence", "src_key", "src_row", "instrument_id", "flags")


def silver_file(lake: Path, date: dt.date) -> Path:
    return lake / "silver" / "futures_mbp10" / f"date={date.isoformat()}" / "part-00000.parquet"


def silver_staging(lake: Path) -> Path:
    """Where a Silver build writes its temp files (same filesystem as the Silver files)."""
    return lake / "silver" / "_staging"


def silver_lock(lake: Path, date: dt.date) -> Path:
    """Held (exclusive) by the Silver build of ``date``: one builder at a time, so the stale temp
    files of a killed build can be removed without touching a live one's."""
    return silver_staging(lake) / "locks" / f"date={date.isoformat()}.lock"


def empty_book() -> np.ndarray:
    book = np.zeros((4, N_LEVELS), dtype=np.int64)
    book[LV_BID_PX] = UNDEF_PRICE
    book[LV_ASK_PX] = UNDEF_PRICE
    return book


# --------------------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def _mark(a, c, f, k, slot, one, books, mask):  # type: ignore[no-untyped-def]
    """Column ``c`` (plane f, level k): flag rows whose value differs from their book's."""
    bit = np.uint64(1) << np.uint64(c)
    n = a.shape[0]
    if n == 0:
        return
    if one:  # one instrument (the usual slice): compare with the previous row, vectorisable
        s = slot[0]
        if np.int64(a[0]) != books[s, f, k]:
            mask[0] |= bit
        for r in range(1, n):
            if a[r] != a[r - 1]:
                mask[r] |= bit
        books[s, f, k] = np.int64(a[n - 1])
        return
    for r in range(n):
        s = slot[r]
        v = np.int64(a[r])
        if v != books[s, f, k]:
            mask[r] |= bit
            books[s, f, k] = v


@njit(cache=True, nogil=True)
def _place(a, c, mask, pos, vals):  # type: ignore[no-untyped-def]
    """Column ``c``'s changed values into each row's run of ``vals`` (columns in bit order)."""
    bit = np.uint64(1) << np.uint64(c)
    for r in range(a.shape[0]):
        if mask[r] & bit:
            vals[pos[r]] = a[r]
            pos[r] += 1


@njit(cache=True, nogil=True)
def _encode(slot, px, sz, books, mask, offs, vals):  # type: ignore[no-untyped-def]
    """Per row: bits of the slots that differ from the row's instrument's last book, values.

    Reads Bronze's level columns directly (``px``: the 20 price columns, ``sz``: the 20 size
    columns, plane-major), one column at a time: a column's changes depend only on its own
    earlier values, so a first pass sets the mask bits and a second places the values in bit
    order per row. ``offs[r + 1]`` gets the running value count from 0 (``offs[0]`` is the
    caller's). No (rows, 4, 10) block is materialised.
    """
    n = slot.shape[0]
    mask[:] = 0
    one = True
    for r in range(1, n):
        if slot[r] != slot[0]:
            one = False
            break
    for c in range(2 * N_LEVELS):
        _mark(px[c], c, c // N_LEVELS, c % N_LEVELS, slot, one, books, mask)
    for c in range(2 * N_LEVELS):
        _mark(sz[c], 2 * N_LEVELS + c, 2 + c // N_LEVELS, c % N_LEVELS, slot, one, books, mask)
    pos = np.empty(n, dtype=np.int64)
    nv = 0
    for r in range(n):
        pos[r] = nv
        m = mask[r]
        while m:
            m &= m - np.uint64(1)
            nv += 1
        offs[r + 1] = nv
    for c in range(2 * N_LEVELS):
        _place(px[c], c, mask, pos, vals)
    for c in range(2 * N_LEVELS):
        _place(sz[c], 2 * N_LEVELS + c, mask, pos, vals)
    return nv


@njit(cache=True, nogil=True)
def _decode(keep, mask, offs, vals, book, out):  # type: ignore[no-untyped-def]
    """Apply every kept row's changes to ``book`` and copy it out; other rows are skipped."""
    j = 0
    for r in range(mask.shape[0]):
        if not keep[r]:
            continue
        m = mask[r]
        p = offs[r]
        if m != 0:
            for b in range(N_SLOTS):
                if (m >> np.uint64(b)) & np.uint64(1):
                    book[b // N_LEVELS, b % N_LEVELS] = vals[p]
                    p += 1
        for f in range(4):
            for k in range(N_LEVELS):
                out[j, f, k] = book[f, k]
        j += 1
    return j


# --------------------------------------------------------------------------- writing
class SilverWriter:
    """Encodes the Bronze MBP-10 tables of one file, in write order, into its Silver file."""

    def __init__(self, path: Path):
        self.path = path
        self._writer = pq.ParquetWriter(
            path,
            SCHEMA,
            compression="lz4",
            use_dictionary=False,
            write_statistics=False,
            data_page_size=1 << 20,
            write_page_index=False,
            store_schema=True,
        )
        self._slots: dict[int, int] = {}
        self._books = np.zeros((0, 4, N_LEVELS), dtype=np.int64)

    def _slot_of(self, iid: np.ndarray) -> np.ndarray:
        # few instruments per partition: a pass per distinct id (pc.unique keeps first-seen order)
        ids = pc.unique(pa.array(iid)).to_numpy()
        slot = np.empty(iid.shape[0], dtype=np.int64)
        for i in ids.tolist():
            if i not in self._slots:
                self._slots[i] = len(self._slots)
                self._books = np.concatenate([self._books, empty_book()[None]])
            slot[iid == i] = self._slots[i]
        return slot

    def write(self, t: pa.Table) -> None:
        """One Bronze table (already in partition order); one Silver row per Bronze row."""
        n = t.num_rows
        if n == 0:
            return
        slot = self._slot_of(t.column("instrument_id").to_numpy())
        mask = np.empty(n, dtype=np.uint64)
        offs = np.zeros(n + 1, dtype=np.int32)
        parts = []
        nv = 0
        for a in range(0, n, _ENCODE_ROWS):  # bounds the values buffer
            z = min(n, a + _ENCODE_ROWS)
            part = t.slice(a, z - a)
            px = level_columns(part, PRICE_PLANES, np.int64)
            sz = level_columns(part, SIZE_PLANES, np.uint32)
            vals = np.empty((z - a) * N_SLOTS, dtype=np.int64)
            k = _encode(slot[a:z], px, sz, self._books, mask[a:z], offs[a : z + 1], vals)
            offs[a + 1 : z + 1] += nv  # the kernel counts from 0 within the slice
            parts.append(vals[:k].copy())
            nv += k
        chg = pa.ListArray.from_arrays(pa.array(offs), pa.array(np.concatenate(parts)))
        out = pa.Table.from_arrays([pa.array(mask), chg], schema=SCHEMA)
        self._writer.write_table(out, row_group_size=ROW_GROUP_ROWS)

    def close(self, bronze_sha256: str | None) -> None:
        """Finish the file; stamp it with the Bronze file it mirrors (None: left unstamped)."""
        if bronze_sha256 is not None:
            self._writer.add_key_value_metadata(
                {META_VERSION: SILVER_VERSION.encode(), META_BRONZE: bronze_sha256.encode()}
            )
        self._writer.close()


def build_silver(lake: Path, date: dt.date, rows: int = _ENCODE_ROWS) -> Path | None:
    """Write (atomically) the Silver mirror of a session's MBP-10 partition; None if it has none.

    A fixed read batch makes the bytes a function of the Bronze bytes alone. Builds of one date
    take turns (its Silver lock); each first removes the temp files a killed build left.
    """
    bronze = partition_entry(lake, "futures_mbp10", date)
    if bronze is None:
        return None
    with file_lock(silver_lock(lake, date), f"the Silver of {date} in {lake}"):
        final = silver_file(lake, date)  # a killed build's temps: in staging, or beside the file
        remove_stale_temps(silver_staging(lake), final.parent.name)
        remove_stale_temps(final.parent)
        return _build_locked(lake, date, bronze, rows)


def _build_locked(lake: Path, date: dt.date, bronze: Path, rows: int) -> Path:
    sha = partition_sha256(bronze)
    final = silver_file(lake, date)
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = silver_staging(lake)
    stage.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(final, sha[:16], stage)
    cols = [
        "instrument_id",
        *(f"{p}_{i:02d}" for p in PRICE_PLANES + SIZE_PLANES for i in range(N_LEVELS)),
    ]
    w = SilverWriter(tmp)
    try:
        pf = pq.ParquetFile(bronze, pre_buffer=False)  # pre-buffering caches every range read
        for b in pf.iter_batches(batch_size=rows, columns=cols):
            w.write(pa.Table.from_batches([b]))
        w.close(sha)
    except BaseException:
        w.close(None)
        tmp.unlink(missing_ok=True)
        raise
    fault_point(SILVER_TEMP_WRITTEN)
    commit(tmp, final)
    record_digest(final, sha256_file(final), stage)  # a replay lists it as an input it reads
    return final


# --------------------------------------------------------------------------- reading
def silver_stamp(path: Path) -> str | None:
    """The Bronze sha256 a Silver file was derived from, or None (missing, old or broken)."""
    try:
        md = pq.ParquetFile(path).metadata.metadata or {}  # the file's key-value metadata
    except (OSError, pa.ArrowException):
        return None
    if md.get(META_VERSION) != SILVER_VERSION.encode() or META_BRONZE not in md:
        return None
    return md[META_BRONZE].decode()


class _ChangeCursor:
    """Silver's change rows as a stream, consumed in runs of any length (Bronze's batches)."""

    def __init__(self, path: Path, rows: int):
        self._it = pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=rows)
        self._mask = np.zeros(0, dtype=np.uint64)
        self._offs = np.zeros(1, dtype=np.int32)
        self._vals = np.zeros(0, dtype=np.int64)
        self._p = 0
        self.book = empty_book()

    def _refill(self, path_hint: str) -> None:
        c = next(self._it, None)
        if c is None:
            raise ValueError(f"{path_hint}: Silver ends before its Bronze partition")
        chg = c.column("chg_vals")
        self._mask = c.column("chg_mask").to_numpy()
        self._offs = chg.offsets.to_numpy()
        self._vals = chg.values.to_numpy()
        self._p = 0

    def decode(self, keep: np.ndarray, out: np.ndarray, path_hint: str) -> None:
        """The next ``len(keep)`` rows: apply all, copy the kept rows' books into ``out``."""
        i = j = 0
        n = keep.shape[0]
        while i < n:
            if self._p == self._mask.shape[0]:
                self._refill(path_hint)
            k = min(n - i, self._mask.shape[0] - self._p)
            p = self._p
            j += _decode(
                keep[i : i + k], self._mask[p : p + k], self._offs[p : p + k + 1],
                self._vals, self.book, out[j:],
            )  # fmt: skip
            self._p += k
            i += k


def iter_silver_depth(
    silver: Path, bronze: Path, primary_id: int, rows: int = 1 << 16
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, DepthBatch]]:
    """The primary future's records as (ts, seq, src_key, src_row, DepthBatch), in file order.

    Keys, instrument and flags come from Bronze's narrow columns, the book from Silver (Silver
    row i mirrors Bronze row i; their batches need not line up).
    """
    bf = pq.ParquetFile(bronze, pre_buffer=False)  # pre-buffering caches every range read
    n_silver = pq.ParquetFile(silver).metadata.num_rows
    if n_silver != bf.metadata.num_rows:
        raise ValueError(f"{silver}: {n_silver} rows, its Bronze has {bf.metadata.num_rows}")
    cur = _ChangeCursor(silver, rows)
    for b in bf.iter_batches(batch_size=rows, columns=list(BRONZE_COLUMNS)):
        keep = b.column("instrument_id").to_numpy() == primary_id
        m = int(np.count_nonzero(keep))
        lv = np.empty((m, 4, N_LEVELS), dtype=np.int64)
        cur.decode(keep, lv, str(silver))
        if m == 0:
            continue
        ts = _kept(b, "ts_recv", keep, m, np.int64)
        seq = _kept(b, "sequence", keep, m, np.int64)
        flags = _kept(b, "flags", keep, m, np.uint8)
        batch = DepthBatch(ts_recv=ts, sequence=seq, flags=flags, levels=lv)
        yield (
            ts,
            seq,
            _kept(b, "src_key", keep, m, np.int64),
            _kept(b, "src_row", keep, m, np.int64),
            batch,
        )


def _kept(b: pa.RecordBatch, name: str, keep: np.ndarray, m: int, dtype: type) -> np.ndarray:
    a = b.column(name).to_numpy()
    return (a if m == a.shape[0] else a[keep]).astype(dtype)  # a writable copy, as Bronze gives
