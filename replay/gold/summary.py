"""`levelreplay summary`: what a Gold run says, for a person (SPEC §4).

Per session: the levels that were active (last price — a moving level's price at its last row,
never a mean that was never traded —, rows, signal *entries* per signal, the first entry), then
what the manifest's counters say: problems with their counts and meaning, informational figures,
and plain-language notes on what the data could not show (no option trades, a book never valid).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from engines.contract.config import PRICE_SCALE
from engines.physics.trigger import BREAK, REJECT
from replay.common.errors import UserError
from replay.gold.quality import meaning, split_counters
from replay.gold.signals import signal_entries
from replay.gold.verify import SessionOutput, load_run

CT = "America/Chicago"


def level_table(df: pl.DataFrame) -> pl.DataFrame:
    """One row per level id of a session's Gold rows, sorted by last price then id: kind, last
    price (points), rows, BREAK and REJECT entries, and the first entry (time, signal)."""
    entries = signal_entries(df)
    counts = entries.group_by("level_id").agg(
        (pl.col("signal") == BREAK).sum().alias("break_entries"),
        (pl.col("signal") == REJECT).sum().alias("reject_entries"),
        pl.col("ts_ns").min().alias("first_entry_ns"),
        pl.col("signal").sort_by("ts_ns").first().alias("first_entry"),
    )
    base = (
        df.sort("ts_ns")
        .group_by("level_id")
        .agg(
            pl.col("level_kind").first(),
            (pl.col("level_px").last() / PRICE_SCALE).alias("last_px"),
            pl.len().alias("rows"),
        )
    )
    out = base.join(counts, on="level_id", how="left").with_columns(
        pl.col("break_entries").fill_null(0),
        pl.col("reject_entries").fill_null(0),
    )
    return out.sort(["last_px", "level_id"])


def _ct(ns: int) -> str:
    t = dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC).astimezone(_zone())
    return f"{t:%H:%M:%S}.{ns % 1_000_000_000 // 1_000_000:03d}"


def _zone() -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(CT)


def format_levels(table: pl.DataFrame) -> list[str]:
    lines = [
        f"{'level':<16} {'kind':<13} {'last px':>9} {'rows':>6} {'BREAK':>5} {'REJECT':>6}"
        "  first entry (CT)"
    ]
    for r in table.iter_rows(named=True):
        first = "-"
        if r["first_entry_ns"] is not None:
            first = f"{_ct(r['first_entry_ns'])} {r['first_entry']}"
        lines.append(
            f"{r['level_id']:<16} {r['level_kind']:<13} {r['last_px']:>9.2f} {r['rows']:>6} "
            f"{r['break_entries']:>5} {r['reject_entries']:>6}  {first}"
        )
    return lines


def quality_lines(det: dict) -> list[str]:
    """The manifest's counters in words: non-zero problems, informational figures, notes."""
    counts = det.get("data_quality", {}) | det.get("data_notes", {})  # older manifests: one
    problems, notes = (
        {k: v for k, v in sorted(part.items()) if v} for part in split_counters(counts)
    )
    lines = [
        "data quality: "
        + (f"{len(problems)} kind(s) of problem counted" if problems else "no problem counted")
    ]
    for k, v in problems.items():
        lines.append(f"  problem  {v:>9,}  {meaning(k)} [{k}]")
    for k, v in notes.items():
        lines.append(f"  info     {v:>9,}  {meaning(k)} [{k}]")
    ev = det.get("events", {})
    if ev.get("option_trades", 0) == 0:
        lines.append(
            "  note: no option trades in this session, so Fuel has no dealer gamma: the hedge "
            "score stays NEUTRAL (50) and a BREAK needs a VACUUM barrier plus a sweep the break "
            "way (REJECTs still fire); ingest the option trades and definitions to score hedging"
        )
    if ev.get("futures_trades", 0) == 0:
        lines.append(
            "  note: no trades stream: MBP-10 trade records stood in for the trades (SPEC §5.11)"
        )
    if det.get("snaps_with_rows", 1) == 0:
        lines.append("  note: no snap had an active level: the book never came within the band")
    return lines


def session_summary(s: SessionOutput) -> list[str]:
    det = s.det
    df = pl.read_parquet(s.gold)
    ev = det.get("events", {})
    head = (
        f"session {s.date} {det.get('instrument', '?')}: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(ev.items()))
        + f"; {det.get('snaps', 0):,} snaps, {det.get('rows', 0):,} rows"
    )
    body = format_levels(level_table(df)) if df.height else ["no Gold rows"]
    latched = df.filter(pl.col("signal").is_in([BREAK, REJECT])).height if df.height else 0
    tail = (
        f"signal is latched: {latched:,} rows hold BREAK or REJECT; entries count each latch once"
    )
    return [head, *body, tail, *quality_lines(det)]


def run_summary(out: Path, date: str | None = None) -> list[str]:
    """The summary of every session of a Gold run (or the one ``date``)."""
    run = load_run(out)
    dates = sorted(run) if date is None else [date]
    lines: list[str] = []
    for d in dates:
        if d not in run:
            raise UserError(
                f"no session {d} in this run",
                path=str(out),
                expected="one of " + ", ".join(sorted(run)),
            )
        if lines:
            lines.append("")
        lines += session_summary(run[d])
    return lines
