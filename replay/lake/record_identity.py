"""Record identity at ingest (SPEC §8): duplicate records dropped, overlap between files counted.

Equal bytes are not always a duplicate. Databento's trades and MBP-10 records carry no order id,
so one matching event that fills two resting orders of the same size at the same price gives two
records equal in every field: the real ESH4 MBO file fills orders 6412777162270 and 6412777268445
(1 lot each at 4807.00, one event) and its trades derivation holds 15 such pairs. Those are two
trades. They sit next to each other in their file, inside one *packet run*: the contiguous rows
of one source file (per table and date) sharing a ``ts_recv``. A copy of a record anywhere else in
the file, or in another file, is the same record again. So, within a group of rows with equal
(``ts_recv``, ``sequence``) (``ts_recv`` alone for definitions):

- a *unit* is one packet run of one source file; a row's identity is (its DBN fields, its
  occurrence rank among equal rows of its unit), so units hold multisets and two fills stay two;
- units are ranked (``src_key``; the larger unit first; the earlier packet run); a row whose
  identity a higher-ranked unit already holds is dropped: a *duplicate* when that unit is of the
  same file, an *overlap* when of another file (a DBN file and its Parquet export, or two
  downloads of overlapping spans).

Keeping the copy of the smallest ``src_key`` makes the partition the same whatever order files
were ingested in. A file whose rows are in (``ts_recv``, ``sequence``) order has one packet run per
``ts_recv``, so it cannot hold a duplicate of its own: only files with late rows carry the packet
run column (``_run``) through staging, and a partition is only re-read here when it is merged.
Equality is decided on the bytes, not the hash that finds candidates: a hash collision keeps both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

RUN = "_run"
RUN_FIELD = pa.field(RUN, pa.int64(), nullable=False)
IN_ONE_RUN = -1
"""``_run`` of rows already deduplicated (a committed partition): each file is one unit."""
NOT_CONTENT = ("symbol", "src_key", "src_row", RUN)
"""Columns that are not the record's DBN fields (symbol comes from the file's symbology)."""
DUPLICATE = "duplicate_records"
OVERLAP = "overlap_records"


def staging_schema(schema: pa.Schema) -> pa.Schema:
    """A partition schema with the packet run column, for staging runs of files with late rows."""
    return schema.append(RUN_FIELD)


def packet_runs(
    ts: np.ndarray, src_row: np.ndarray, carry: tuple[int, int] | None
) -> tuple[np.ndarray, tuple[int, int] | None]:
    """Packet run id (``src_row`` of the run's first row) of rows in file order, and the carry
    (last ``ts_recv``, its run id) for the next rows of the same file, table and date."""
    n = ts.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64), carry
    start = np.empty(n, dtype=bool)
    start[0] = carry is None or int(ts[0]) != carry[0]
    np.not_equal(ts[1:], ts[:-1], out=start[1:])
    at = np.maximum.accumulate(np.where(start, np.arange(n), -1))
    ids = src_row[np.maximum(at, 0)].astype(np.int64, copy=True)
    if carry is not None:
        ids[at < 0] = carry[1]
    return ids, (int(ts[-1]), int(ids[-1]))


@dataclass
class Drops:
    """Rows dropped, by (dropped row's src_key, kind, kept row's src_key)."""

    counts: dict[tuple[int, str, int], int] = field(default_factory=dict)

    def add(self, dropped: np.ndarray, kind: np.ndarray, kept: np.ndarray) -> None:
        if dropped.shape[0] == 0:
            return
        for d in np.unique(dropped).tolist():  # a handful of files: loops over files, not rows
            of_d = dropped == d
            for s in np.unique(kept[of_d]).tolist():
                pair = of_d & (kept == s)
                for name, sel in ((DUPLICATE, pair & kind), (OVERLAP, pair & ~kind)):
                    c = int(np.count_nonzero(sel))
                    if c:
                        key = (int(d), name, int(s))
                        self.counts[key] = self.counts.get(key, 0) + c

    def of_file(self, src_key: int) -> dict[str, int]:
        """What one file's report says: its own rows dropped as duplicates, and records it
        shared with other files (whichever copy was kept)."""
        dup = sum(n for (d, k, _), n in self.counts.items() if d == src_key and k == DUPLICATE)
        ovl = sum(
            n
            for (d, k, s), n in self.counts.items()
            if k == OVERLAP and (d == src_key or s == src_key)
        )
        own = sum(n for (d, _, _), n in self.counts.items() if d == src_key)
        return {DUPLICATE: dup, OVERLAP: ovl, "own_dropped": own}

    def by_source(self) -> dict[int, dict[str, int]]:
        """Per dropped row's src_key: the counts its partition-footer entry gains."""
        out: dict[int, dict[str, int]] = {}
        for (d, k, _), n in sorted(self.counts.items()):
            per = out.setdefault(d, {DUPLICATE: 0, OVERLAP: 0})
            per[k] += n
        return out


class Deduper:
    """A filter on a key-sorted stream of tables (with ``_run``): complete groups only, so the
    last group of each table waits for the next one (or ``finish``)."""

    def __init__(self, group_cols: tuple[str, ...], emit: Callable[[pa.Table], None]):
        self.group_cols = group_cols
        self.emit = emit
        self.drops = Drops()
        self._held: pa.Table | None = None

    def feed(self, t: pa.Table) -> None:
        if t.num_rows == 0:
            return
        if self._held is not None:
            t = pa.concat_tables([self._held, t])
        cut = _last_group_start(t, self.group_cols)
        self._held = t.slice(cut)
        if cut:
            self._process(t.slice(0, cut))

    def finish(self) -> None:
        if self._held is not None and self._held.num_rows:
            self._process(self._held)
        self._held = None

    def _process(self, t: pa.Table) -> None:
        drop = self._drop_rows(t)
        out = t.drop_columns([RUN])
        if drop.shape[0]:
            keep = np.ones(t.num_rows, dtype=bool)
            keep[drop] = False
            out = out.filter(pa.array(keep))
        self.emit(out)

    def _drop_rows(self, t: pa.Table) -> np.ndarray:
        n = t.num_rows
        if n < 2:
            return np.empty(0, dtype=np.int64)
        new_group = _starts(*(_np(t, c) for c in self.group_cols))
        sk, run = _np(t, "src_key"), _np(t, RUN)
        new_unit = new_group.copy()
        new_unit[1:] |= (sk[1:] != sk[:-1]) | (run[1:] != run[:-1])
        if not bool(np.any(new_unit & ~new_group)):  # every group is one unit: nothing to do
            return np.empty(0, dtype=np.int64)
        gid = np.cumsum(new_group) - 1
        uid = np.cumsum(new_unit) - 1
        units_in_group = np.bincount(gid[new_unit], minlength=int(gid[-1]) + 1)
        rows = np.flatnonzero(units_in_group[gid] > 1)
        content = [c for c in t.column_names if c not in NOT_CONTENT]
        cand = t.select(content)
        if rows.shape[0] < n:
            cand = cand.take(pa.array(rows))
        import polars as pl  # only when files share groups: ingest's import stays light

        h = pl.from_arrow(cand).hash_rows(seed=0).to_numpy()
        g, u, s, r = gid[rows], uid[rows], sk[rows], run[rows]
        size = np.bincount(uid)[u]
        m = rows.shape[0]
        pos = np.arange(m)
        # occurrence rank of each row among equal rows of its unit (rows are in src_row order)
        o1 = np.lexsort((pos, h, u, g))
        first1 = _starts(g[o1], u[o1], h[o1])
        rank = np.empty(m, dtype=np.int64)
        rank[o1] = pos - np.maximum.accumulate(np.where(first1, pos, 0))
        # per identity (group, bytes, rank): units in rank order; the first holds it
        o2 = np.lexsort((r, -size, s, rank, h, g))
        s2 = s[o2]
        first2 = _starts(g[o2], h[o2], rank[o2])
        holder = np.maximum.accumulate(np.where(first2, pos, 0))
        later = np.flatnonzero(~first2)
        if later.shape[0] == 0:
            return np.empty(0, dtype=np.int64)
        same = _rows_equal(cand, o2[later], o2[holder[later]])  # the bytes decide, not the hash
        dropped, kept = rows[o2[later]], rows[o2[holder[later]]]
        later, dropped, kept = later[same], dropped[same], kept[same]
        duplicate = s2[later] == s2[later - 1]  # an earlier unit of the same file holds it
        self.drops.add(sk[dropped], duplicate, sk[kept])
        return np.sort(dropped)


def _starts(*cols: np.ndarray) -> np.ndarray:
    """True where a sorted row's values differ from the previous row's (a segment starts)."""
    first = np.zeros(cols[0].shape[0], dtype=bool)
    first[0] = True
    for c in cols:
        first[1:] |= c[1:] != c[:-1]
    return first


def _np(t: pa.Table, name: str) -> np.ndarray:
    return t.column(name).to_numpy().astype(np.int64, copy=False)


def _last_group_start(t: pa.Table, group_cols: tuple[str, ...]) -> int:
    n = t.num_rows
    same = np.ones(n, dtype=bool)
    for c in group_cols:
        a = _np(t, c)
        same &= a == a[-1]
    differ = np.flatnonzero(~same)
    return int(differ[-1]) + 1 if differ.shape[0] else 0


def _rows_equal(t: pa.Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows ``a[i]`` and ``b[i]`` of ``t`` equal in every column."""
    eq = np.ones(a.shape[0], dtype=bool)
    for col in t.itercolumns():
        if pa.types.is_integer(col.type):
            v = col.to_numpy()
            eq &= v[a] == v[b]
        else:
            same = pc.equal(col.take(pa.array(a)), col.take(pa.array(b))).fill_null(False)
            eq &= same.to_numpy(zero_copy_only=False)
    return eq
