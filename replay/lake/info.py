"""`levelreplay info`: what a lake holds — per date its tables, rows and time spans (from Parquet
footers) and whether it can be replayed, or why not (fast on big lakes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq

from replay.errors import UserError
from replay.lake.layout import bronze_root, list_dates, open_partition, partition_file
from replay.lake.replayable import replayability
from replay.lake.schemas import TABLES


def _span(path: Path) -> tuple[int | None, int | None]:
    md = pq.ParquetFile(path).metadata
    idx = md.schema.to_arrow_schema().get_field_index("ts_recv")
    lo = hi = None
    for g in range(md.num_row_groups):
        st = md.row_group(g).column(idx).statistics
        if st is not None and st.has_min_max:
            lo = st.min if lo is None else min(lo, st.min)
            hi = st.max if hi is None else max(hi, st.max)
    return lo, hi


def _fmt(ns: int | None) -> str:
    if ns is None:
        return "-"
    return dt.datetime.fromtimestamp(ns // 1_000_000_000, tz=dt.UTC).strftime("%H:%M:%S")


def lake_info(lake: Path) -> list[str]:
    if not bronze_root(lake).is_dir():
        raise UserError("no Bronze lake here", path=str(lake), expected="a lake written by ingest")
    dates = sorted({d for t in TABLES for d in list_dates(lake, t)})
    lines = [f"{lake}: {len(dates)} session(s)"]
    for d in dates:
        parts = []
        for t in TABLES:
            p = partition_file(lake, t, d)
            if p.is_file():
                n = open_partition(p, t).metadata.num_rows
                lo, hi = _span(p)
                parts.append(f"{t} {n:,} ({_fmt(lo)}–{_fmt(hi)} UTC)")
        r = replayability(lake, d)
        verdict = "replayable" if r.replayable else f"not replayable: {r.reason}"
        lines.append(f"  {d.isoformat()} ({verdict}): " + "; ".join(parts))
    return lines
