"""Bronze lake layout (SPEC §2.3) and the fixed Parquet writer options.

Writer options are fixed so the same rows always give the same bytes. Row groups of 512 Ki rows
(~170 MB of MBP-10 in memory) bound both the writer's and a streaming reader's memory while
amortising per-group overhead (measured: 1 Mi-row groups were slower to ingest and doubled peak
RSS). LZ4: Bronze is written once and read by every replay, and both sides are CPU-bound on 2
cores. Measured on 512 Ki MBP-10 rows of the generated day: encode 0.137 s (lz4) vs 0.221 s
(zstd-1) vs 0.149 s (snappy); read 0.105 s vs 0.16 s per Mi rows; size 23 MB vs 12 MB. Disk is
cheap next to a nightly CPU budget, so lz4 wins; zstd-1 halves the size if disk ever matters.
Dictionary encoding only where values repeat (codes, ids and symbols): it costs nothing there and
nothing is gained on high-cardinality price columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from replay.common.dates import iso_date
from replay.common.errors import UserError
from replay.lake.schemas import INGEST_LOG, SCHEMAS, TABLES

ROW_GROUP_ROWS = 1 << 19
DICTIONARY_COLUMNS = [
    "action",
    "side",
    "symbol",
    "instrument_class",
    "security_update_action",
    "underlying",
    "asset",
    "security_type",
    "cfi",
    "exchange",
    "currency",
    "strike_price_currency",
    "rtype",
    "publisher_id",
    "instrument_id",
    "depth",
    "flags",
]
# ts_recv: a session's time span from the footer; instrument_id + symbol: a partition's
# instruments without reading its rows (a row group of one instrument has min == max)
STAT_COLUMNS = ["ts_recv", "instrument_id", "symbol"]
PART_NAME = "part-00000.parquet"


def bronze_root(lake: Path) -> Path:
    return lake / "bronze"


def partition_dir(lake: Path, table: str, date: dt.date) -> Path:
    assert table in TABLES
    return bronze_root(lake) / table / f"date={date.isoformat()}"


def partition_file(lake: Path, table: str, date: dt.date) -> Path:
    return partition_dir(lake, table, date) / PART_NAME


def ingest_log_path(lake: Path) -> Path:
    return bronze_root(lake) / "_ingest_log.parquet"


def read_ingest_log(lake: Path) -> pa.Table:
    """The lake's ingest log (one row per ingested file); empty before the first ingest.

    Here rather than in ``ingest.py`` so a replay does not import the DBN decoders (databento,
    pandas: ≈ 40 MB of a light session's peak RSS).
    """
    p = ingest_log_path(lake)
    if not p.is_file():
        return INGEST_LOG.empty_table()
    with read_errors_named(p, "the log ingest writes; restore it, or ingest into a fresh lake"):
        t = pq.read_table(p)
    try:
        for f in INGEST_LOG:  # a log from before a counter existed: that counter was 0
            if f.name not in t.column_names and f.type == pa.int64():
                t = t.append_column(f.name, pa.array([0] * t.num_rows, f.type))
        return t.select(INGEST_LOG.names).cast(INGEST_LOG)
    except (KeyError, ValueError, pa.ArrowException) as exc:
        raise UserError(
            f"the ingest log has other columns than expected ({exc})",
            path=str(p),
            expected="the log ingest writes; restore it, or ingest into a fresh lake",
        ) from None


def staging_dir(lake: Path, tag: str) -> Path:
    return bronze_root(lake) / "_staging" / tag


def ingest_lock(lake: Path) -> Path:
    """Held (exclusive) by an ingest for its whole call: the log and the registry of
    instruments are read and written by one ingest at a time."""
    return bronze_root(lake) / "_staging" / "locks" / "ingest.lock"


def date_lock(lake: Path, date: dt.date) -> Path:
    """Held exclusive while ingest replaces a date's partitions, shared while a replay reads
    them: another date's ingest and replay never wait on each other."""
    return bronze_root(lake) / "_staging" / "locks" / f"date={date.isoformat()}.lock"


def list_dates(lake: Path, table: str) -> list[dt.date]:
    """Dates with a partition entry of ``table``, ascending: every ``date=`` entry but an empty
    directory or one holding only a killed writer's temp files (what a write that failed before
    its rename leaves), damaged ones included, so
    that reading one (``partition_entry``) fails that session by name instead of a replay
    quietly taking the date as absent (a previous session's PDH/PDL/PDC from an older day)."""
    root = bronze_root(lake) / table
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        if d.name.startswith("date=") and not (d.is_dir() and _holds_nothing_committed(d)):
            out.append(iso_date(d.name[5:], "partition directory", str(d)))
    return out


class DamagedPartition(UserError):
    """A ``date=`` entry of the lake is not what ingest writes (SPEC §8)."""


PARTITION_FILES = (PART_NAME, f"_{Path(PART_NAME).stem}.sha256.json")
"""Everything ingest writes into a partition directory: the Parquet file and its digest record
(``partition_digest.sidecar``)."""


def stale_temps(d: Path, of: str | None = None) -> list[Path]:
    """Temp files a killed writer left in ``d`` for the partition directory named ``of`` (``d``
    itself by default): an ingest or Silver build of an earlier version wrote them beside the
    partition, today's write them in staging. Never a committed file, so readers pass over them
    and the next writer of the date removes them under its lock."""
    if not d.is_dir():
        return []
    names = tuple(f".{of or d.name}.{f}.tmp-" for f in PARTITION_FILES)
    return sorted(p for p in d.iterdir() if p.name.startswith(names) and p.is_file())


def _holds_nothing_committed(d: Path) -> bool:
    """An empty partition directory, or one holding only a killed writer's temp files."""
    debris = stale_temps(d)
    return not any(p not in debris for p in d.iterdir())


def remove_stale_temps(d: Path, of: str | None = None) -> None:
    """Delete ``stale_temps(d, of)``; only while holding the date's lock (no writer is
    mid-rename)."""
    for p in stale_temps(d, of):
        p.unlink(missing_ok=True)


def partition_entry(lake: Path, table: str, date: dt.date) -> Path | None:
    """The committed partition file of (``table``, ``date``); None when the lake has none (no
    entry, or an empty directory). An entry ingest did not write — a file where the directory
    belongs, a directory holding other files or no Parquet file, a part that is not a regular
    file — is refused by name: a reader must not read an extra part, nor take a damaged date
    for a missing one."""
    d = partition_dir(lake, table, date)
    expected = (
        f"a directory holding only {' and '.join(PARTITION_FILES)}, as ingest writes "
        f"{table} partitions: re-ingest the date's source files, or restore the directory"
    )
    if not d.exists() and not d.is_symlink():
        return None
    if not d.is_dir():
        raise DamagedPartition("is not a directory", path=str(d), expected=expected)
    debris = {p.name for p in stale_temps(d)}
    names = sorted(p.name for p in d.iterdir() if p.name not in debris)
    extra = [n for n in names if n not in PARTITION_FILES]
    if extra:
        listed = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        what = f"holds files ingest did not write: {listed}"
        raise DamagedPartition(what, path=str(d), expected=expected)
    if not names:
        return None
    f = d / PART_NAME
    if not f.is_file():
        what = "has no " + PART_NAME if PART_NAME not in names else PART_NAME + " is not a file"
        raise DamagedPartition(what, path=str(d), expected=expected)
    return f


def open_partition(path: Path, table: str) -> pq.ParquetFile:
    """A Bronze partition's footer, checked: readable Parquet with every column of its table's
    schema and the right types; anything else is a user error naming the partition."""
    try:
        pf = pq.ParquetFile(path)
        have = pf.schema_arrow
    except (OSError, pa.ArrowException) as exc:
        raise UserError(
            f"cannot be read as Parquet ({exc})",
            path=str(path),
            expected=f"a {table} partition as ingest wrote it: re-ingest, or restore the file",
        ) from None
    for f in SCHEMAS[table]:
        i = have.get_field_index(f.name)
        if i < 0 or have.field(i).type != f.type:
            got = "missing" if i < 0 else f"of type {have.field(i).type}"
            raise UserError(
                f"column '{f.name}' is {got}",
                path=str(path),
                expected=f"{f.name}: {f.type}, as ingest writes {table} partitions",
            )
    return pf


@contextmanager
def read_errors_named(
    path: Path, expected: str = "a partition as ingest wrote it: re-ingest, or restore the file"
) -> Iterator[None]:
    """A read error inside a lake file (a corrupt page) is a user error naming the file."""
    try:
        yield
    except (OSError, pa.ArrowException) as exc:
        raise UserError(
            f"cannot be read ({type(exc).__name__}: {exc})", path=str(path), expected=expected
        ) from None


def lake_dates(lake: Path) -> list[str]:
    """Every date with a futures partition (ISO strings, ascending)."""
    dates = set(list_dates(lake, "futures_mbp10")) | set(list_dates(lake, "futures_trades"))
    return [d.isoformat() for d in sorted(dates)]


def parquet_writer(path: Path, table: str, schema: pa.Schema | None = None) -> pq.ParquetWriter:
    """The fixed writer of ``table``'s partitions (``schema``: its staging form, if other)."""
    schema = SCHEMAS[table] if schema is None else schema
    return pq.ParquetWriter(
        path,
        schema,
        compression="lz4",
        use_dictionary=[c for c in DICTIONARY_COLUMNS if c in schema.names],
        write_statistics=[c for c in STAT_COLUMNS if c in schema.names],
        data_page_size=1 << 20,
        write_page_index=False,
        store_schema=True,
    )


def empty_table(table: str) -> pa.Table:
    return SCHEMAS[table].empty_table()
