"""DBN / Databento-Parquet -> Bronze lake (SPEC §2.3): streaming, idempotent, atomic per partition.

Per source file: hash it (sha256; a file already in the ingest log is a reported no-op), decode it
in chunks, route each row to its table (or count it as excluded), split by CME trade date, and
append to per-(table, date) sorted runs in a staging directory. Only when the whole file decoded
cleanly are the partitions replaced (temp file, fsync, rename) and the log entry appended, so a
bad file leaves the lake exactly as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from replay.common.atomic import commit, temp_path_for, writes_into
from replay.common.errors import BadInputFile, LevelReplayError, UserError
from replay.common.faults import PARTITIONS_COMMITTED, fault_point
from replay.common.hashing import sha256_file
from replay.common.locks import file_lock
from replay.lake import instruments as ins
from replay.lake import record_checks
from replay.lake.dbn_source import (
    DEF_CHAR_FIELDS,
    DEF_STRING_FIELDS,
    Chunk,
    SourceFile,
    claims_source,
    iter_chunks,
    looks_like_source,
    open_source,
)
from replay.lake.layout import (
    date_lock,
    ingest_lock,
    ingest_log_path,
    open_partition,
    partition_dir,
    partition_entry,
    partition_file,
    read_ingest_log,
    remove_stale_temps,
    staging_dir,
)
from replay.lake.mbo_depth import BookBuilder, MboPiece
from replay.lake.partition_digest import record as record_digest
from replay.lake.partition_quality import (
    MBO_COUNTERS,
    from_mbo,
    merged_entries,
    orphan_file,
    read_entries,
    record_orphan_counts,
    source_tag,
)
from replay.lake.record_identity import DUPLICATE, OVERLAP
from replay.lake.schemas import DEF_SORT_KEY, INGEST_LOG, SCHEMAS, SORT_KEY
from replay.lake.sorted_runs import RunSet
from replay.lake.trade_date import day_number_to_date, trade_day_numbers

DEFAULT_CHUNK_ROWS = 1 << 18
_SCHEMA_ORDER = {"definition": 0, "mbp-10": 1, "mbo": 1, "trades": 2}
EXCLUDED = np.uint8(255)  # a category no route takes: the record is dropped (and was counted)


@dataclass
class FileReport:
    """What one source file contributed (or why it contributed nothing)."""

    path: str
    sha256: str
    format: str
    schema: str
    dbn_version: int | None
    dataset: str | None
    size_bytes: int
    duplicate: bool = False
    records_in: int = 0
    rows: dict[str, int] = field(
        default_factory=lambda: {
            t: 0 for t in ("futures_mbp10", "futures_trades", "option_trades", "definitions")
        }
    )
    excluded_spread: int = 0
    excluded_other_instrument: int = 0
    excluded_orphan_option: int = 0
    excluded_bad_timestamp: int = 0  # ts_recv 0 or UINT64_MAX (record_checks.py)
    excluded_bad_price: int = 0
    excluded_bad_side: int = 0
    out_of_order_resorted: int = 0
    duplicate_records: int = 0  # copies of this file's own records, dropped
    overlap_records: int = 0  # records another file in the lake also holds (stored once)
    ts_recv_min: int | None = None
    ts_recv_max: int | None = None
    dates: list[str] = field(default_factory=list)
    primary_future: str | None = None
    mbo: dict[str, int] = field(default_factory=dict)  # MBO_COUNTERS (an MBO file only)
    mbo_started_empty: list[str] = field(default_factory=list)  # instruments without a snapshot
    error: str | None = None  # why this file was refused (nothing of it committed)
    skipped: str | None = None  # why a file found among the paths is not a source at all

    @classmethod
    def skip(cls, path: Path, why: str) -> FileReport:
        """A file that is not DBN or Parquet (by content), listed and left alone."""
        return cls(str(path), "", "none", "none", None, None, 0, skipped=why)

    @classmethod
    def refused(cls, path: Path, error: str) -> FileReport:
        """A file whose header could not be read or was refused."""
        return cls(str(path), "", "unknown", "unknown", None, None, 0, error=error)

    @property
    def excluded_bad_values(self) -> int:
        return self.excluded_bad_timestamp + self.excluded_bad_price + self.excluded_bad_side

    @property
    def excluded(self) -> int:
        return (
            self.excluded_spread
            + self.excluded_other_instrument
            + self.excluded_orphan_option
            + self.excluded_bad_values
        )


def src_key_of(sha: str) -> int:
    """First 8 bytes of the sha256 as a signed int64: stable, independent of ingest order."""
    return int.from_bytes(bytes.fromhex(sha[:16]), "big", signed=True)


def ingest(
    paths: Sequence[Path],
    lake: Path,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_progress: Callable[[str, int], None] | None = None,
    wait: bool = True,
    raise_on_failure: bool = True,
) -> list[FileReport]:
    """Ingest ``paths`` into ``lake``; definitions first so they classify the other files.

    Each file is its own unit: a bad file is reported (``FileReport.error``) and the others are
    committed; then ``IngestFailed`` (exit 2, carrying every report) unless
    ``raise_on_failure`` is off.

    One ingest at a time per lake (``ingest_lock``; ``wait=False`` refuses instead of waiting);
    each date's partitions are replaced under that date's lock, which a replay of the date
    holds shared."""
    if not paths:
        raise UserError("no input files given", expected="one or more .dbn, .dbn.zst or .parquet")
    files, skipped = source_paths([Path(p) for p in paths])
    if not files:
        raise UserError(
            f"no DBN or Parquet file among {len(paths)} path(s): "
            + ", ".join(f"{r.path} ({r.skipped})" for r in skipped[:5])
            + (" …" if len(skipped) > 5 else ""),
            expected="DBN (.dbn, .dbn.zst) or Databento Parquet files, or directories holding them",
        )
    sources: list[SourceFile] = []
    refused: list[FileReport] = list(skipped)
    for p in files:  # every header checked before any write; a bad one fails its file only
        try:
            sources.append(open_source(p))
        except LevelReplayError as exc:
            refused.append(FileReport.refused(p, str(exc)))
    sources.sort(key=lambda s: _SCHEMA_ORDER[s.schema])  # stable: given order within a schema
    reports = refused
    if sources:
        lake.mkdir(parents=True, exist_ok=True)
        with file_lock(ingest_lock(lake), f"the lake {lake} (ingest)", wait=wait):
            reports = refused + _ingest_all(sources, lake, chunk_rows, on_progress, wait)
    failed = [r for r in reports if r.error is not None]
    if failed and raise_on_failure:
        raise IngestFailed(reports)
    return reports


def source_paths(paths: list[Path]) -> tuple[list[Path], list[FileReport]]:
    """The files to ingest, and the files skipped (SPEC §4). A directory gives its DBN and
    Parquet files, found by content, at any depth, in path order; its other files are skipped.
    A file named on the command line is ingested when its content or its name says DBN/Parquet
    (a ``.dbn`` that is not DBN is an error, not a skip); otherwise (``episodes.json`` from
    ``s/*``) it is skipped. A missing path goes on, to fail with its own message."""
    files: list[Path] = []
    skipped: list[FileReport] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(q for q in p.rglob("*") if q.is_file()):
                if looks_like_source(f):
                    files.append(f)
                else:
                    skipped.append(FileReport.skip(f, "not DBN or Parquet"))
        elif p.is_file() and not claims_source(p) and not looks_like_source(p):
            skipped.append(FileReport.skip(p, "not DBN or Parquet"))
        else:
            files.append(p)
    return files, skipped


class IngestFailed(UserError):
    """Some files of an ingest call failed; the others were committed (each file is a unit)."""

    def __init__(self, reports: list[FileReport]):
        failed = [r for r in reports if r.error is not None]
        done = [r.path for r in reports if r.error is None and not r.duplicate and not r.skipped]
        first = failed[0].error
        super().__init__(
            f"{len(failed)} of {len(reports)} file(s) failed ({first}"
            + (f"; and {len(failed) - 1} more" if len(failed) > 1 else "")
            + "); committed: "
            + (", ".join(done) if done else "none"),
            expected="every file ingested: fix what each failed file's line says (or drop it) and "
            "run the same call again; the committed files are then a reported no-op",
        )
        self.reports = reports


def _ingest_all(
    sources: list[SourceFile],
    lake: Path,
    chunk_rows: int,
    on_progress: Callable[[str, int], None] | None,
    wait: bool,
) -> list[FileReport]:
    registry = ins.Registry.from_lake(lake)
    seen = set(read_ingest_log(lake).column("sha256").to_pylist())
    reports = []
    for src in sources:
        sha = sha256_file(src.path)
        rep = FileReport(
            path=str(src.path),
            sha256=sha,
            format=src.format,
            schema=src.schema,
            dbn_version=src.dbn_version,
            dataset=src.dataset,
            size_bytes=src.size_bytes,
        )
        if sha in seen:
            rep.duplicate = True
            reports.append(rep)
            continue
        try:
            with writes_into(lake, f"the partitions of {src.path.name}"):
                displaced = _ingest_one(
                    src, sha, lake, registry, rep, chunk_rows, on_progress, wait
                )
        except LevelReplayError as exc:  # nothing of this file was committed
            rep.error = str(exc)
            reports.append(rep)
            continue
        for earlier in reports:  # this file's copies of their records were kept instead
            for table, n in displaced.get(src_key_of(earlier.sha256), {}).items():
                earlier.rows[table] -= n
        fault_point(PARTITIONS_COMMITTED)
        _append_log(lake, rep)
        seen.add(sha)
        reports.append(rep)
    return reports


def _ingest_one(
    src: SourceFile,
    sha: str,
    lake: Path,
    registry: ins.Registry,
    rep: FileReport,
    chunk_rows: int,
    on_progress: Callable[[str, int], None] | None,
    wait: bool,
) -> dict[int, dict[str, int]]:
    """Ingest one file; returns the rows of other files its copies displaced, per src_key and
    table (the copy of the smallest src_key is the one kept)."""
    key = src_key_of(sha)
    displaced: dict[int, dict[str, int]] = {}
    stage = staging_dir(lake, sha[:16])
    shutil.rmtree(stage, ignore_errors=True)
    to = _Routing(key, stage, registry, rep)
    runsets, tallies, volume = to.runsets, to.tallies, to.volume
    try:
        book = BookBuilder() if src.schema == "mbo" else None
        for chunk in iter_chunks(src, chunk_rows):
            n = len(chunk)
            rep.records_in += n
            if n == 0:
                continue
            ts = chunk.columns["ts_recv"]
            ok_ts = ts[ts > 0]  # 0 and UINT64_MAX (-1) are excluded records, not the span
            if ok_ts.shape[0]:
                lo, hi = int(ok_ts.min()), int(ok_ts.max())
                rep.ts_recv_min = lo if rep.ts_recv_min is None else min(rep.ts_recv_min, lo)
                rep.ts_recv_max = hi if rep.ts_recv_max is None else max(rep.ts_recv_max, hi)
            days = trade_day_numbers(ts)
            if src.schema == "definition":
                _route_definitions(chunk, days, to)
            elif book is not None:
                piece = book.feed(chunk)
                _route_mbo(src, piece, to)
            else:
                _route_market(src, chunk, days, to)
            if on_progress is not None:
                on_progress(str(src.path), n)
        last = book.finish() if book is not None else None
        if last is not None:
            _route_mbo(src, last, to)
        for (table, day), rs in sorted(runsets.items()):
            final = partition_file(lake, table, day_number_to_date(day))
            if partition_entry(lake, table, day_number_to_date(day)) is not None:
                open_partition(final, table)  # damaged or not Parquet: this file fails, named
                _one_depth_schema(final, table, src, key)
            counts = tallies.get((table, day), {}) | {"out_of_order_resorted": rs.out_of_order}
            rs.entries = merged_entries(final, key, counts)
            rs.close()
            rep.out_of_order_resorted += rs.out_of_order
        for day in sorted({d for _, d in runsets}):
            date = day_number_to_date(day)
            with file_lock(date_lock(lake, date), f"session {date} of {lake}", wait=wait):
                for table in sorted(t for t, d in runsets if d == day):
                    final = partition_file(lake, table, date)
                    rs = runsets[(table, day)]
                    remove_stale_temps(partition_dir(lake, table, date))
                    _, digest = rs.commit_to(final, key, sha[:16])
                    record_digest(final, digest, rs.staging)
                    mine = rs.drops.of_file(key)
                    rep.duplicate_records += mine[DUPLICATE]
                    rep.overlap_records += mine[OVERLAP]
                    rep.rows[table] -= mine["own_dropped"]
                    for (dropped, _, kept), n in rs.drops.counts.items():
                        if kept == key and dropped != key:
                            per = displaced.setdefault(dropped, {})
                            per[table] = per.get(table, 0) + n
        for table, day in sorted(set(tallies) - set(runsets)):  # excluded, but no row written
            date = day_number_to_date(day)
            with file_lock(date_lock(lake, date), f"session {date} of {lake}", wait=wait):
                record_orphan_counts(orphan_file(lake, table, date), key, tallies[(table, day)])
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        _remove_empty(stage.parent)
    rep.dates = sorted({day_number_to_date(d).isoformat() for (_, d) in runsets})
    if volume:
        best = sorted(volume.items(), key=lambda kv: (-kv[1], kv[0][0]))[0]
        rep.primary_future = best[0][1]
    return displaced


Tallies = dict[tuple[str, int], dict[str, int]]
"""(table, trade day) -> data-quality counter -> count, for the partitions' footers."""


def _tally(tallies: Tallies, table: str, counter: str, days: np.ndarray) -> int:
    """Count excluded records per trade day of ``table``; returns how many there were."""
    if days.shape[0] == 0:
        return 0
    for day, n in zip(*np.unique(days, return_counts=True), strict=True):
        per = tallies.setdefault((table, int(day)), {})
        per[counter] = per.get(counter, 0) + int(n)
    return int(days.shape[0])


def _remove_empty(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()


@dataclass
class _Routing:
    """Where one source file's rows and counts go while it is ingested: its sorted runs per
    (table, trade day) in its staging directory, its quality tallies, its futures' volume."""

    src_key: int
    stage: Path
    registry: ins.Registry
    rep: FileReport
    runsets: dict[tuple[str, int], RunSet] = field(default_factory=dict)
    tallies: Tallies = field(default_factory=dict)
    volume: dict[tuple[int, str], int] = field(default_factory=dict)

    def runset(self, table: str, day: int) -> RunSet:
        k = (table, day)
        if k not in self.runsets:
            sort_key = DEF_SORT_KEY if table == "definitions" else SORT_KEY
            self.runsets[k] = RunSet(self.stage / f"{table}-{day}", table, sort_key)
        return self.runsets[k]


def _symbol_array(chunk: Chunk, idx: np.ndarray) -> pa.Array:
    if len(chunk.symbols) == 0:
        return pa.nulls(len(idx), type=pa.string())
    codes = chunk.symbol_codes[idx]
    dictionary = pa.array(chunk.symbols, type=pa.string())
    mask = codes < 0
    indices = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def char_array(codes: np.ndarray) -> pa.Array:
    """uint8 ASCII codes -> one-character strings, built from buffers (no per-row objects)."""
    n = codes.shape[0]
    offsets = np.arange(n + 1, dtype=np.int32)
    data = np.ascontiguousarray(codes.astype(np.uint8))
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def market_table(table: str, chunk: Chunk, idx: np.ndarray, src_key: int) -> pa.Table:
    schema = SCHEMAS[table]
    cols = chunk.select(idx)
    arrays = []
    for f in schema:
        name = f.name
        if name == "symbol":
            arrays.append(_symbol_array(chunk, idx))
        elif name == "src_key":
            arrays.append(pa.array(np.full(idx.shape[0], src_key, dtype=np.int64)))
        elif name == "src_row":
            arrays.append(pa.array(chunk.row_numbers(idx)))
        elif name in ("action", "side"):
            arrays.append(char_array(cols[name]))
        else:
            arrays.append(pa.array(cols[name].astype(f.type.to_pandas_dtype(), copy=False)))
    return pa.Table.from_arrays(arrays, schema=schema)


def _route_market(src: SourceFile, chunk: Chunk, days: np.ndarray, to: _Routing) -> None:
    cols = chunk.columns
    tallies, rep = to.tallies, to.rep
    cat = to.registry.categorize(cols["instrument_id"], chunk.symbol_codes, chunk.symbols)
    cat = _exclude_bad_values(src.schema, cols, cat, days, tallies, rep)
    if src.schema == "mbp-10":
        routes = [("futures_mbp10", ins.FUTURE)]
        home, orphan_home = "futures_mbp10", "futures_mbp10"
        other = (cat == ins.OTHER) | (cat == ins.OPTION)  # option depth is not replayed
    else:
        routes = [("futures_trades", ins.FUTURE), ("option_trades", ins.OPTION)]
        home, orphan_home = "futures_trades", "option_trades"
        other = cat == ins.OTHER
    rep.excluded_spread += _tally(tallies, home, "excluded_spread", days[cat == ins.SPREAD])
    rep.excluded_other_instrument += _tally(tallies, home, "excluded_other_instrument", days[other])
    rep.excluded_orphan_option += _tally(
        tallies, orphan_home, "excluded_orphan_option", days[cat == ins.ORPHAN_OPTION]
    )
    for table, want in routes:
        sel = np.flatnonzero(cat == want)
        if sel.size == 0:
            continue
        if want == ins.FUTURE:
            _accumulate_volume(chunk, sel, to.volume, src.schema)
        for day, idx in _split_by_day(days, sel):
            to.runset(table, day).add(market_table(table, chunk, idx, to.src_key))
            rep.rows[table] += int(idx.size)


def _one_depth_schema(final: Path, table: str, src: SourceFile, src_key: int) -> None:
    """A date's futures depth and trades come from MBO files or from MBP-10 and trades files,
    never both: each holds the whole book and every print, so together they would double them."""
    if table not in ("futures_mbp10", "futures_trades"):
        return
    entries = read_entries(final)
    entries.pop(source_tag(src_key), None)  # this file's own earlier entry (a re-ingest)
    mbo = set(from_mbo(entries))
    other = sorted(set(entries) - mbo)
    clash = other if src.schema == "mbo" else sorted(mbo)
    if clash:
        held = "MBP-10 or trades files" if src.schema == "mbo" else "MBO files"
        raise BadInputFile(
            f"{table} of {final.parent.name} already holds rows of {held} (source "
            f"{clash[0]} in {final}), and this {src.schema} file would add the same market again",
            path=str(src.path),
            expected="one kind of futures source per date: MBO, or MBP-10 with trades "
            "(ingest the other kind into its own lake)",
        )


def _route_mbo(src: SourceFile, piece: MboPiece, to: _Routing) -> None:
    """An MBO chunk's rebuilt rows go where an MBP-10 file's and a trades file's would; what the
    book builder counted goes on the depth partition of each record's date. Every depth partition
    and trades partition this file writes carries every MBO counter, zeros included: that is how
    a session (and the next ingest) knows its depth was rebuilt from MBO."""
    for schema, part in (("mbp-10", piece.depth), ("trades", piece.trades)):
        if len(part):
            days = trade_day_numbers(part.columns["ts_recv"])
            _route_market(dataclasses.replace(src, schema=schema), part, days, to)
    tallies, rep = to.tallies, to.rep
    ts = piece.ts_recv
    dated = ts > 0  # a record without a time has no date to count on (it is in the report)
    days = trade_day_numbers(ts)
    for i, name in enumerate(MBO_COUNTERS):
        hit = ((piece.counted & np.uint16(1 << i)) != 0) & dated
        if hit.any():
            rep.mbo[name] = rep.mbo.get(name, 0) + _tally(tallies, "futures_mbp10", name, days[hit])
    for table, part in (("futures_mbp10", piece.depth), ("futures_trades", piece.trades)):
        for day in np.unique(trade_day_numbers(part.columns["ts_recv"])).tolist():
            per = tallies.setdefault((table, int(day)), {})
            for name in MBO_COUNTERS:
                per.setdefault(name, 0)
    for name in piece.started_empty:
        if name not in rep.mbo_started_empty:
            rep.mbo_started_empty.append(name)


def _exclude_bad_values(
    schema: str,
    cols: dict[str, np.ndarray],
    cat: np.ndarray,
    days: np.ndarray,
    tallies: Tallies,
    rep: FileReport,
) -> np.ndarray:
    """Mark records we would keep (futures, options) that hold undefined or impossible values
    excluded, counted per problem on the partition they would have gone to (a bad timestamp has
    no date: the file's report and the ingest log only)."""
    if schema == "mbp-10":
        homes = (("futures_mbp10", ins.FUTURE),)
    else:
        homes = (("futures_trades", ins.FUTURE), ("option_trades", ins.OPTION))
    kept = np.isin(cat, [want for _, want in homes])  # spreads may trade below zero: not ours
    found = [  # no timestamp: no symbol mapping either, so whatever its category
        (c, m if c == record_checks.BAD_TIMESTAMP else m & kept)
        for c, m in record_checks.problems(schema, cols)
    ]
    if not any(bool(m.any()) for _, m in found):
        return cat
    cat = cat.copy()
    for counter, mask in found:
        n = int(np.count_nonzero(mask))
        if not n:
            continue
        setattr(rep, counter, getattr(rep, counter) + n)
        if counter != record_checks.BAD_TIMESTAMP:
            for table, want in homes:
                _tally(tallies, table, counter, days[mask & (cat == want)])
        cat[mask] = EXCLUDED
    return cat


def _split_by_day(days: np.ndarray, sel: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Row indices per trade date, ascending; one date per chunk is the common case."""
    d = days[sel]
    if d.shape[0] and d[0] == d[-1] and bool(np.all(d == d[0])):
        return [(int(d[0]), sel)]
    return [(int(day), sel[d == day]) for day in np.unique(d).tolist()]


def _accumulate_volume(
    chunk: Chunk, sel: np.ndarray, volume: dict[tuple[int, str], int], schema: str
) -> None:
    """Traded volume per outright, for the report's primary future (largest volume)."""
    cols = chunk.columns
    if schema == "mbp-10":
        sel = sel[cols["action"][sel] == ord("T")]
    ids = cols["instrument_id"][sel].astype(np.int64)
    sizes = cols["size"][sel].astype(np.int64)
    if ids.shape[0] == 0:
        return
    uniq = [int(ids[0])] if bool(np.all(ids == ids[0])) else np.unique(ids).tolist()
    for iid in uniq:
        m = ids == iid
        code = int(chunk.symbol_codes[sel][m][0])
        sym = chunk.symbols[code] if code >= 0 else str(iid)
        k = (iid, sym)
        volume[k] = volume.get(k, 0) + int(sizes[m].sum())


def _decode_fixed(a: np.ndarray) -> pa.Array:
    """Fixed-width NUL-padded byte strings (DBN c_char arrays) -> Arrow strings."""
    return pa.array([s.decode("ascii", "replace") for s in a.tolist()], type=pa.string())


def definition_table(chunk: Chunk, idx: np.ndarray, src_key: int) -> pa.Table:
    schema = SCHEMAS["definitions"]
    cols = chunk.columns
    arrays = []
    for f in schema:
        name = f.name
        if name == "src_key":
            arrays.append(pa.array(np.full(idx.shape[0], src_key, dtype=np.int64)))
        elif name == "src_row":
            arrays.append(pa.array(chunk.first_row + idx.astype(np.int64)))
        elif name in DEF_CHAR_FIELDS:
            arrays.append(char_array(np.where(cols[name][idx] == 0, ord(" "), cols[name][idx])))
        elif name in DEF_STRING_FIELDS:
            arrays.append(_decode_fixed(cols[name][idx]))
        else:
            arrays.append(pa.array(cols[name][idx].astype(f.type.to_pandas_dtype(), copy=False)))
    return pa.Table.from_arrays(arrays, schema=schema)


def _route_definitions(chunk: Chunk, days: np.ndarray, to: _Routing) -> None:
    cols = chunk.columns
    n = len(chunk)
    tallies, rep = to.tallies, to.rep
    table = definition_table(chunk, np.arange(n), to.src_key)
    d = table.to_pydict()
    cats = np.empty(n, dtype=np.uint8)
    for i in range(n):  # definitions are few (one per instrument per day), not market events
        info = ins.DefinitionInfo(
            d["instrument_class"][i], d["raw_symbol"][i], d["underlying"][i], d["asset"][i]
        )
        cats[i] = ins.definition_category(info)
    t = "definitions"
    rep.excluded_spread += _tally(tallies, t, "excluded_spread", days[cats == ins.SPREAD])
    rep.excluded_other_instrument += _tally(
        tallies, t, "excluded_other_instrument", days[cats == ins.OTHER]
    )
    keep = np.flatnonzero((cats == ins.FUTURE) | (cats == ins.OPTION))
    for i in keep.tolist():
        to.registry.add(
            int(cols["instrument_id"][i]),
            ins.DefinitionInfo(
                d["instrument_class"][i], d["raw_symbol"][i], d["underlying"][i], d["asset"][i]
            ),
        )
    for day in np.unique(days[keep]).tolist():
        idx = keep[days[keep] == day]
        to.runset("definitions", day).add(table.take(pa.array(idx)))
        rep.rows["definitions"] += int(idx.size)


def _append_log(lake: Path, rep: FileReport) -> None:
    row = {
        "sha256": rep.sha256,
        "file_name": Path(rep.path).name,
        "path": str(Path(rep.path).resolve()),
        "size_bytes": rep.size_bytes,
        "format": rep.format,
        "dbn_version": rep.dbn_version,
        "dataset": rep.dataset,
        "schema": rep.schema,
        "records_in": rep.records_in,
        "rows_futures_mbp10": rep.rows["futures_mbp10"],
        "rows_futures_trades": rep.rows["futures_trades"],
        "rows_option_trades": rep.rows["option_trades"],
        "rows_definitions": rep.rows["definitions"],
        "excluded_spread": rep.excluded_spread,
        "excluded_other_instrument": rep.excluded_other_instrument,
        "excluded_orphan_option": rep.excluded_orphan_option,
        "excluded_bad_timestamp": rep.excluded_bad_timestamp,
        "excluded_bad_price": rep.excluded_bad_price,
        "excluded_bad_side": rep.excluded_bad_side,
        "out_of_order_resorted": rep.out_of_order_resorted,
        "duplicate_records": rep.duplicate_records,
        "overlap_records": rep.overlap_records,
        "ts_recv_min": rep.ts_recv_min,
        "ts_recv_max": rep.ts_recv_max,
        "dates": rep.dates,
        "primary_future": rep.primary_future,
    }
    new = pa.Table.from_pylist([row], schema=INGEST_LOG)
    table = pa.concat_tables([read_ingest_log(lake), new])
    final = ingest_log_path(lake)
    final.parent.mkdir(parents=True, exist_ok=True)  # a file that only had exclusions
    tmp = temp_path_for(final, rep.sha256[:16])
    pq.write_table(table, tmp, compression="zstd")
    commit(tmp, final)


def report_dict(rep: FileReport) -> dict[str, object]:
    return dataclasses.asdict(rep)
