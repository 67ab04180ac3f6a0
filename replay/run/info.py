"""`levelreplay info`: what a lake holds — per date its tables, rows and time spans (from Parquet
footers) and whether it can be replayed, or why not (fast on big lakes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq

from replay.common.errors import LevelReplayError, UserError
from replay.lake.layout import bronze_root, list_dates, open_partition, partition_entry
from replay.lake.partition_quality import rebuilt_from_mbo
from replay.lake.replayable import replayability
from replay.lake.schemas import TABLES
from replay.run.session import resolve_session


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


def _when(ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ns // 1_000_000_000, tz=dt.UTC)


def span_text(lo: int | None, hi: int | None) -> str:
    """A UTC time span with its dates: ``2023-12-25 23:00:00 → 2023-12-26 22:00:00 UTC``, the
    end's date left out when it is the start's (a Globex session crosses midnight UTC)."""
    if lo is None or hi is None:
        return "no timestamps"
    a, b = _when(lo), _when(hi)
    end = f"{b:%H:%M:%S}" if a.date() == b.date() else f"{b:%Y-%m-%d %H:%M:%S}"
    return f"{a:%Y-%m-%d %H:%M:%S} → {end} UTC"


def _primary(lake: Path, d: dt.date) -> str:
    """The session's primary future, as a replay would choose it."""
    try:
        return resolve_session(lake, d).primary_symbol
    except LevelReplayError as exc:
        return f"? ({exc})"


def lake_info(lake: Path) -> list[str]:
    """Replayable sessions first (with their primary future), then the other dates with the
    reason; per table its rows and time span, from the Parquet footers."""
    if not bronze_root(lake).is_dir():
        raise UserError("no Bronze lake here", path=str(lake), expected="a lake written by ingest")
    dates = sorted({d for t in TABLES for d in list_dates(lake, t)})
    verdicts = {d: replayability(lake, d) for d in dates}
    good = [d for d in dates if verdicts[d].replayable]
    lines = [f"{lake}: {len(dates)} date(s), {len(good)} replayable"]
    for d in good:
        lines.append(f"  {d.isoformat()}  replayable, primary future {_primary(lake, d)}")
        lines += _tables(lake, d)
    others = [d for d in dates if not verdicts[d].replayable]
    if others:
        lines.append(f"not replayable ({len(others)}):")
    for d in others:
        lines.append(f"  {d.isoformat()}  {verdicts[d].reason}")
        lines += _tables(lake, d)
    return lines


def _tables(lake: Path, d: dt.date) -> list[str]:
    out = []
    for t in TABLES:
        p = partition_entry(lake, t, d)
        if p is not None:
            n = open_partition(p, t).metadata.num_rows
            mbo = "  (rebuilt from MBO)" if t == "futures_mbp10" and rebuilt_from_mbo(p) else ""
            out.append(f"      {t:<15} {n:>12,} rows  {span_text(*_span(p))}{mbo}")
    return out
