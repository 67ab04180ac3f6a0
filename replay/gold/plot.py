"""`levelreplay plot GOLD --out FILE.png`: price, active levels, smoothed break score, signals.

Top panel: spot (line) and every level while it is active (short segments at its price, coloured
by kind family), with ▲/▼ markers where a level's signal turns BREAK (red) or REJECT (green).
Bottom panel: ``break_score_smooth`` per level with the trigger thresholds. Times are America/
Chicago. The PNG is for eyes, not for determinism checks (fonts and matplotlib versions vary).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from engines.contract.config import PRICE_SCALE, EngineConfig
from replay.common.errors import UserError
from replay.gold.schema import GOLD
from replay.gold.signals import signal_entries

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


def _label_levels(ax: plt.Axes, df: pl.DataFrame, entries: pl.DataFrame) -> None:
    """One label per level with an entry: its id and entry counts, inside the right edge just
    above the level's last price, nudged apart so that labels of nearby levels never pile up."""
    if entries.height == 0:
        return
    counts = entries.group_by("level_id").agg(
        (pl.col("signal") == "BREAK").sum().alias("b"),
        (pl.col("signal") == "REJECT").sum().alias("r"),
    )
    last = df.sort("ts_ns").group_by("level_id").agg(pl.col("level").last())
    rows = last.join(counts, on="level_id").sort(["level", "level_id"])
    lo, hi = ax.get_ylim()
    gap = (hi - lo) / 40  # at most ~40 labels fit the panel's height
    y_prev = -math.inf
    x_end = df["t"].max()
    for r in rows.iter_rows(named=True):
        y = max(r["level"], y_prev + gap)
        y_prev = y
        what = ", ".join(f"{n} {name}" for n, name in ((r["b"], "BREAK"), (r["r"], "REJECT")) if n)
        ax.annotate(
            f"{r['level_id']}: {what}",
            xy=(x_end, y),
            fontsize=6.5,
            ha="right",
            va="bottom",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            zorder=6,
        )


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
    fig = timeline_figure(df, c)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def timeline_figure(df: pl.DataFrame, c: EngineConfig) -> Figure:
    """The timeline of one session's Gold rows: price panel and smoothed-score panel."""
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
    entries = signal_entries(df)
    for sig, marker, colour in (("BREAK", "v", "red"), ("REJECT", "^", "green")):
        e = entries.filter(pl.col("signal") == sig)
        if e.height:  # hollow, beside the level: the level's own dots stay visible
            ax.scatter(
                e["t"].to_list(),
                e["level"].to_list(),
                marker=marker,
                s=36,
                facecolors="none",
                edgecolors=colour,
                linewidths=1.2,
                zorder=5,
                label=f"{sig} entry ({e.height})",
            )
    _label_levels(ax, df, entries)
    ax.set_ylabel("ES index points")
    inst = df["instrument"][0]
    date = df["session_date"][0]
    ax.set_title(f"{inst} {date}: spot, active levels, BREAK/REJECT")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, markerscale=2)
    ax.grid(alpha=0.3)
    # one line per level and contiguous run of snaps (no line across the times it was inactive)
    runs = df.sort(["level_id", "ts_ns"]).with_columns(
        (pl.col("snap_index").diff().over("level_id").fill_null(1) != 1)
        .cum_sum()
        .over("level_id")
        .alias("run")
    )
    for (_, _, kind), g in runs.group_by(["level_id", "run", "level_kind"], maintain_order=True):
        colour = _FAMILY_COLOURS[_family(str(kind))]
        ax2.plot(g["t"].to_list(), g["break_score_smooth"].to_list(), lw=0.6, alpha=0.6, c=colour)
    for y, name, ls in (
        (c.break_enter, "break_enter", "--"),
        (c.reject_enter, "reject_enter", ":"),
    ):
        ax2.axhline(y, color="grey", ls=ls, lw=0.9, label=f"{name} ({y:g})")
    handles = [
        Line2D([], [], color=_FAMILY_COLOURS[f], lw=1.2, label=f"{f} levels")
        for f in _FAMILY_COLOURS
        if f in seen
    ]
    ax2.legend(
        handles=handles + ax2.get_legend_handles_labels()[0],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=7,
        title="smoothed break score",
        title_fontsize=7,
    )
    ax2.set_ylim(0, 100)
    ax2.set_ylabel("break_score_smooth")
    ax2.grid(alpha=0.3)
    ax2.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz="America/Chicago"))
    ax2.set_xlabel("America/Chicago")
    fig.tight_layout(rect=(0, 0, 0.86, 1))
    return fig
