"""`levelreplay plot GOLD --out FILE.png`: price, active levels, smoothed break score, signals.

Top panel: spot (line) and every level while it is active (short segments at its price, coloured
by kind family), with ▲/▼ markers where a level's signal turns BREAK (red) or REJECT (green).
Bottom panel: ``break_score_smooth`` per level with the trigger thresholds. Times are America/
Chicago. The PNG is for eyes, not for determinism checks (fonts and matplotlib versions vary).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import polars as pl

from engines.config import PRICE_SCALE, EngineConfig
from replay.errors import UserError
from replay.gold.schema import GOLD

_FAMILY_COLOURS = {
    "ROUND": "#1f77b4",
    "STRIKE": "#9467bd",
    "VWAP": "#ff7f0e",
    "SESSION": "#8c564b",
    "OR": "#e377c2",
    "PM": "#7f7f7f",
    "SMA": "#bcbd22",
    "PD": "#17becf",
    "USER": "#000000",
    "CALL": "#d62728",
    "PUT": "#2ca02c",
    "GAMMA": "#ff9896",
}


def _family(kind: str) -> str:
    for k in _FAMILY_COLOURS:
        if kind.startswith(k):
            return k
    return "USER"


def signal_starts(df: pl.DataFrame) -> pl.DataFrame:
    """Rows where a level's signal becomes BREAK or REJECT (first snap of each latch)."""
    d = df.sort(["level_id", "ts_ns"]).with_columns(
        pl.col("signal").shift(1).over("level_id").alias("prev_signal")
    )
    return d.filter(
        pl.col("signal").is_in(["BREAK", "REJECT"])
        & (pl.col("prev_signal").is_null() | (pl.col("prev_signal") != pl.col("signal")))
    ).sort("ts_ns")


def plot_gold(gold: Path, out: Path, cfg: EngineConfig | None = None) -> Path:
    c = cfg or EngineConfig()
    try:
        df = pl.read_parquet(gold)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise UserError(
            f"cannot be read as Parquet ({type(exc).__name__})",
            path=str(gold),
            expected="a Gold file written by levelreplay replay",
        ) from None
    missing = [c for c in GOLD.names if c not in df.columns]
    if missing:
        raise UserError(
            f"is not a Gold file (no column {missing[0]!r})",
            path=str(gold),
            expected="a Gold file written by levelreplay replay",
        )
    if df.height == 0:
        raise UserError("has no rows to plot", path=str(gold), expected="a session with rows")
    df = df.with_columns(
        pl.from_epoch("ts_ns", time_unit="ns")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone("America/Chicago")
        .alias("t"),
        (pl.col("spot_px") / PRICE_SCALE).alias("spot"),
        (pl.col("level_px") / PRICE_SCALE).alias("level"),
    )
    fig, (ax, ax2) = plt.subplots(
        2, 1, figsize=(14, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]}
    )
    spot = df.group_by("ts_ns").agg(pl.col("t").first(), pl.col("spot").first()).sort("ts_ns")
    ax.plot(spot["t"].to_list(), spot["spot"].to_list(), color="black", lw=0.8, label="spot")
    seen: set[str] = set()
    for (kind,), g in df.group_by(["level_kind"], maintain_order=True):
        fam = _family(str(kind))
        label = fam if fam not in seen else None
        seen.add(fam)
        ax.scatter(
            g["t"].to_list(), g["level"].to_list(), s=3, color=_FAMILY_COLOURS[fam], label=label
        )
    starts = signal_starts(df)
    for sig, marker, colour in (("BREAK", "v", "red"), ("REJECT", "^", "green")):
        s = starts.filter(pl.col("signal") == sig)
        if s.height:
            ax.scatter(
                s["t"].to_list(),
                s["level"].to_list(),
                marker=marker,
                s=70,
                color=colour,
                edgecolor="black",
                zorder=5,
                label=sig,
            )
            labels = (
                s.group_by(["ts_ns", "level_px"], maintain_order=True)
                .agg(pl.col("t").first(), pl.col("level").first(), pl.col("level_id").sort())
                .sort("ts_ns")
            )
            for row in labels.iter_rows(named=True):
                ax.annotate(
                    "+".join(row["level_id"]),
                    (row["t"], row["level"]),
                    fontsize=7,
                    xytext=(4, 6),
                    textcoords="offset points",
                )
    ax.set_ylabel("ES index points")
    inst = df["instrument"][0]
    date = df["session_date"][0]
    ax.set_title(f"{inst} {date}: spot, active levels, BREAK/REJECT")
    ax.legend(loc="upper right", fontsize=7, markerscale=1, ncol=2)
    ax.grid(alpha=0.3)
    # one line per level and contiguous run of snaps (no line across the times it was inactive)
    runs = df.sort(["level_id", "ts_ns"]).with_columns(
        (pl.col("snap_index").diff().over("level_id").fill_null(1) != 1)
        .cum_sum()
        .over("level_id")
        .alias("run")
    )
    for _, g in runs.group_by(["level_id", "run"], maintain_order=True):
        ax2.plot(g["t"].to_list(), g["break_score_smooth"].to_list(), lw=0.6, alpha=0.7)
    for y, name in ((c.break_enter, "break_enter"), (c.reject_enter, "reject_enter")):
        ax2.axhline(y, color="grey", ls="--", lw=0.8)
        ax2.text(spot["t"][0], y + 1, name, fontsize=7, color="grey")
    ax2.set_ylim(0, 100)
    ax2.set_ylabel("break_score_smooth")
    ax2.grid(alpha=0.3)
    ax2.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz="America/Chicago"))
    ax2.set_xlabel("America/Chicago")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
