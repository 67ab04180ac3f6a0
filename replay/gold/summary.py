"""Per-level summary of a Gold timeline: snaps active, BREAK/REJECT latches, first signal time."""

from __future__ import annotations

import polars as pl

from engines.config import PRICE_SCALE
from replay.gold.plot import signal_starts


def level_summary(df: pl.DataFrame) -> pl.DataFrame:
    """One row per level id, sorted by price then id."""
    starts = signal_starts(df)
    counts = starts.group_by("level_id").agg(
        (pl.col("signal") == "BREAK").sum().alias("breaks"),
        (pl.col("signal") == "REJECT").sum().alias("rejects"),
        pl.col("ts_ns").min().alias("first_signal_ns"),
        pl.col("signal").sort_by("ts_ns").first().alias("first_signal"),
    )
    base = df.group_by("level_id").agg(
        pl.col("level_kind").first(),
        (pl.col("level_px").mean() / PRICE_SCALE).alias("mean_px"),
        pl.len().alias("snaps_active"),
    )
    out = base.join(counts, on="level_id", how="left").with_columns(
        pl.col("breaks").fill_null(0),
        pl.col("rejects").fill_null(0),
    )
    return out.sort(["mean_px", "level_id"])


def format_summary(df: pl.DataFrame) -> str:
    s = level_summary(df)
    lines = [
        f"{'level':<16} {'kind':<13} {'price':>9} {'snaps':>6} {'BREAK':>5} {'REJECT':>6}"
        "  first signal (CT)"
    ]
    for r in s.iter_rows(named=True):
        first = "-"
        if r["first_signal_ns"] is not None:
            t = (
                pl.Series([r["first_signal_ns"]])
                .cast(pl.Datetime("ns"))
                .dt.replace_time_zone("UTC")
                .dt.convert_time_zone("America/Chicago")
                .dt.strftime("%H:%M:%S%.3f")[0]
            )
            first = f"{t} {r['first_signal']}"
        lines.append(
            f"{r['level_id']:<16} {r['level_kind']:<13} {r['mean_px']:>9.2f} "
            f"{r['snaps_active']:>6} {r['breaks']:>5} {r['rejects']:>6}  {first}"
        )
    return "\n".join(lines)
