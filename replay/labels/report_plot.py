"""One PNG per horizon of the signal-quality table (SPEC §10.2), read at a glance.

One row per signal × level kind with entries: a bar at the hit rate (red BREAK, green REJECT, as
in ``replay.gold.plot``) with its Wilson 95 % interval as an error bar, and the distance-weighted
NEUTRAL base rate as a black vertical tick (absent when the base rate is blank). ``n`` in a label
is the decided entries (the interval's denominator), followed by all entries when they differ.
The PNG is for eyes, not for determinism checks; it is written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from replay.common.atomic import write_bytes_atomic
from replay.labels.report import SIGNALS

_COLOURS = {"BREAK": "#d62728", "REJECT": "#2ca02c"}


def _label(row: dict) -> str:
    n = f"n={row['decided']}"
    if row["entries"] != row["decided"]:
        n += f" of {row['entries']}"
    return f"{row['signal']} · {row['level_kind']} ({n})"


def _pct(x: float | None) -> float | None:
    return None if x is None else 100.0 * x


def plot_quality(table: pl.DataFrame, horizon_s: int, out: Path) -> Path:
    """Draw the rows of ``table`` (``quality_table``'s output) at ``horizon_s`` into ``out``."""
    rows = table.filter((pl.col("horizon_s") == horizon_s) & (pl.col("entries") > 0))
    order = {s: i for i, s in enumerate(SIGNALS)}
    recs = sorted(rows.iter_rows(named=True), key=lambda r: (order[r["signal"]], r["level_kind"]))
    height = max(2.8, 1.8 + 0.38 * len(recs))
    fig, ax = plt.subplots(figsize=(9, height))
    try:
        ys = list(range(len(recs)))
        for y, r in zip(ys, recs, strict=True):
            colour = _COLOURS[r["signal"]]
            hit = _pct(r["hit_rate"])
            if hit is not None:
                lo, hi = _pct(r["wilson_lo"]), _pct(r["wilson_hi"])
                ax.barh(y, hit, height=0.6, color=colour, alpha=0.55, edgecolor=colour)
                ax.errorbar(
                    hit,
                    y,
                    xerr=[[hit - lo], [hi - hit]],
                    fmt="none",
                    ecolor="black",
                    elinewidth=1.0,
                    capsize=3,
                )
                ax.text(1, y, f"{hit:.1f} %", va="center", fontsize=7)
            else:
                ax.text(1, y, "no decided entry", va="center", fontsize=8, color="grey")
            base = _pct(r["base_rate"])
            if base is not None:
                ax.scatter([base], [y], marker="|", s=380, linewidths=2.5, color="black", zorder=5)
        ax.set_yticks(ys, [_label(r) for r in recs], fontsize=8)
        if recs:
            ax.set_ylim(len(recs) - 0.5, -0.5)  # first row on top
        else:
            ax.set_ylim(0, 1)
            ax.text(50, 0.5, f"no entries at {horizon_s} s", ha="center", va="center")
            ax.set_yticks([])
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of decided entries (CENSORED and FAR excluded)")
        ax.grid(axis="x", alpha=0.3)
        ax.set_title(f"Signal quality at {horizon_s} s: hit rate (Wilson 95 %) vs base rate")
        handles = [
            Patch(facecolor=_COLOURS[s], alpha=0.55, edgecolor=_COLOURS[s], label=f"{s} hit rate")
            for s in SIGNALS
        ]
        handles += [
            Line2D([], [], color="black", lw=1.0, label="Wilson 95 % interval"),
            Line2D(
                [], [], color="black", marker="|", markersize=14, mew=2.5, ls="none",
                label="base rate (NEUTRAL, same distances)",
            ),
        ]  # fmt: skip
        fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False)
        fig.tight_layout(rect=(0.0, 0.3 / height, 1.0, 1.0))  # 0.3 in under the axes: legend
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
    finally:
        plt.close(fig)
    write_bytes_atomic(out, buf.getvalue(), tag="plot")
    return out
