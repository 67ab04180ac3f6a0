"""Ingest's data-quality counts, kept in each Bronze partition's own Parquet footer (SPEC §3.2).

A session's manifest reports what ingest repaired or excluded on its way into the partitions the
session reads. Taking those counts from the ingest log made them depend on which other files were
ingested and in which order (a log row covers a whole file, every date it touched). Instead each
partition carries, under one key-value metadata key, the counts of every source file that wrote
rows into it, keyed by that file's ``src_key``: the partition's sha256 covers them, re-ingesting a
file replaces only its own entry, and the sum is the same whatever the ingest order.

Counts are attributed to the partition the record would have gone to: the MBP-10 file's exclusions
to ``futures_mbp10``, a trades file's spreads and other instruments to ``futures_trades`` and its
option trades without a definition to ``option_trades``, definitions to ``definitions``. When the
file wrote no row there (e.g. option trades ingested before their definitions: all excluded), there
is no partition to carry them: they go, in the same per-source form, to a small JSON beside where
the partition would be (``bronze/_quality/<table>/date=D.json``), which the session sums too.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq

from replay.common.atomic import write_bytes_atomic

QUALITY_KEY = b"levelreplay.ingest_quality"
COUNTERS = (
    "duplicate_records",
    "excluded_bad_price",
    "excluded_bad_side",
    "excluded_orphan_option",
    "excluded_other_instrument",
    "excluded_spread",
    "out_of_order_resorted",
    "overlap_records",
)
"""What ingest counts per partition; the manifest reports each as ``ingest_<name>``."""
MBO_COUNTERS = (
    "mbo_book_started_empty",
    "mbo_unknown_order_cancel",
    "mbo_unknown_order_modify",
    "mbo_unknown_order_fill",
    "mbo_cancel_exceeds_order",
    "mbo_fill_exceeds_order",
    "mbo_add_of_live_order",
    "mbo_bad_action_or_side",
    "mbo_crossed_at_event_end",
    "mbo_event_unterminated",
)
"""What rebuilding a book from MBO counts (``mbo_kernel``: bit ``i`` of a record's mask)."""
OPTIONAL = MBO_COUNTERS
"""Counted only for depth rebuilt from MBO: present in an entry (zeros too) only then, and in a
manifest only when one of its partitions has them, so an MBP-10 session's manifest is as before."""

Entries = dict[str, dict[str, int]]  # source key (hex) -> counter -> count


def source_tag(src_key: int) -> str:
    """A source file's entry name: its ``src_key`` as 16 hex digits (sorts like the key bytes)."""
    return f"{src_key & 0xFFFFFFFFFFFFFFFF:016x}"


def read_entries(path: Path) -> Entries:
    """The per-source counts in a partition's footer (none for a partition without them)."""
    md = pq.ParquetFile(path).metadata.metadata or {}
    raw = md.get(QUALITY_KEY)
    if raw is None:
        return {}
    return _entries(json.loads(raw))


def _entries(doc: dict) -> Entries:
    return {str(k): _counts(v) for k, v in doc.items()}


def _counts(v: dict) -> dict[str, int]:
    """An entry's counters: every one of COUNTERS, and those of OPTIONAL it holds."""
    return {c: int(v.get(c, 0)) for c in COUNTERS} | {c: int(v[c]) for c in OPTIONAL if c in v}


def merged_entries(existing: Path | None, src_key: int, counts: dict[str, int]) -> Entries:
    """The partition's entries after this source file's commit: its own entry replaced."""
    out = read_entries(existing) if existing is not None and existing.is_file() else {}
    out[source_tag(src_key)] = _counts(counts)
    return out


def with_drops(entries: Entries, drops: dict[int, dict[str, int]]) -> Entries:
    """``entries`` plus the rows a merge dropped, each on the entry of the file whose row it was
    (an entry is made for a file that has none: a partition from before footers)."""
    out = {k: dict(v) for k, v in entries.items()}
    for src_key, counts in drops.items():
        per = out.setdefault(source_tag(src_key), dict.fromkeys(COUNTERS, 0))
        for c, n in counts.items():
            per[c] = per.get(c, 0) + n
    return out


def footer_metadata(entries: Entries) -> dict[bytes, bytes]:
    """The key-value metadata to write: canonical JSON, so equal counts give equal bytes."""
    text = json.dumps(entries, sort_keys=True, separators=(",", ":"))
    return {QUALITY_KEY: text.encode()}


def orphan_file(lake: Path, table: str, date: dt.date) -> Path:
    """Counts of source files that excluded records of (table, date) but wrote no row there."""
    return lake / "bronze" / "_quality" / table / f"date={date.isoformat()}.json"


def read_orphan_entries(path: Path) -> Entries:
    if not path.is_file():
        return {}
    return _entries(json.loads(path.read_text(encoding="utf-8")))


def record_orphan_counts(path: Path, src_key: int, counts: dict[str, int]) -> None:
    """Add (or replace) one source file's entry, atomically (callers hold the ingest lock)."""
    entries = read_orphan_entries(path)
    entries[source_tag(src_key)] = _counts(counts)
    text = json.dumps(entries, sort_keys=True, indent=1) + "\n"
    write_bytes_atomic(path, text.encode(), tag="quality")


def partition_counts(paths: Iterable[Path], orphans: Iterable[Path] = ()) -> dict[str, int]:
    """Counts summed over the given partitions' footers and orphan-count files, every source
    file in each."""
    total = dict.fromkeys(COUNTERS, 0)
    found = [read_entries(p) for p in paths] + [read_orphan_entries(p) for p in orphans]
    for entries in found:
        for counts in entries.values():
            for c, n in counts.items():
                total[c] = total.get(c, 0) + n
    ordered = list(COUNTERS) + [c for c in OPTIONAL if c in total]
    return {f"ingest_{c}": total[c] for c in ordered}


def from_mbo(entries: Entries) -> list[str]:
    """The sources (entry tags) of a partition whose rows were rebuilt from MBO: their entries
    carry the MBO counters."""
    return sorted(tag for tag, counts in entries.items() if any(c in counts for c in OPTIONAL))


def rebuilt_from_mbo(path: Path) -> bool:
    """Whether a futures depth or trades partition's rows were rebuilt from MBO (SPEC §2.1)."""
    return bool(from_mbo(read_entries(path)))
