"""Signal-quality report (SPEC §10.2): how often a BREAK/REJECT entry was followed by the outcome
it announced, against what doing nothing at the same distance would have shown.

Pure computation on polars frames (the CLI reads the files): ``signal_entries`` finds the entries,
``quality_table`` counts their outcomes per signal × level kind × horizon with a Wilson 95 %
interval and a distance-weighted NEUTRAL base rate, ``report_markdown`` renders the tables.

Rules:

- An **entry** is a BREAK or REJECT row whose level, at the previous snap of the same session
  (``snap_index - 1``), was absent or had another signal. Latched rows after it are not entries.
- CENSORED and FAR are excluded from every denominator and counted apart; ``decided`` is what is
  left and divides every share, the hit rate and the bucket weights.
- The **base rate** of a (signal, level kind, horizon) is the share of NEUTRAL rows of that kind
  (CENSORED/FAR dropped) whose outcome equals the signal, per distance bucket, weighted by the
  decided entries' bucket counts. A bucket holding entries but no NEUTRAL row leaves the base rate
  null (``base_missing`` names the buckets): renormalising over the other buckets would compare
  the signal with a different distance profile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import polars as pl

from replay.gold.signals import SIGNALS, signal_entries

"""The signals reported, in report order."""
NEUTRAL = "NEUTRAL"
EXCLUDED = ("CENSORED", "FAR")
"""Outcomes left out of every denominator (counted apart)."""
JOIN_KEYS = ("session_date", "ts_ns", "level_id")
"""Gold ↔ outcomes join key."""
Z95 = 1.959963984540054
"""Two-sided 95 % normal quantile."""

BUCKET_EDGES = (0.5, 1.0, 1.5)
"""Distance buckets ``[0, 0.5)``, ``[0.5, 1)``, ``[1, 1.5)``, ``[1.5, 2.5]`` (points)."""
BUCKET_LABELS = ("[0, 0.5)", "[0.5, 1)", "[1, 1.5)", "[1.5, 2.5]")

TABLE_SCHEMA: dict[str, pl.DataType] = {
    "signal": pl.String(),
    "level_kind": pl.String(),
    "horizon_s": pl.Int32(),
    "entries": pl.Int64(),
    "decided": pl.Int64(),
    "n_break": pl.Int64(),
    "n_reject": pl.Int64(),
    "n_timeout": pl.Int64(),
    "n_censored": pl.Int64(),
    "n_far": pl.Int64(),
    "share_break": pl.Float64(),
    "share_reject": pl.Float64(),
    "share_timeout": pl.Float64(),
    "hit_rate": pl.Float64(),
    "wilson_lo": pl.Float64(),
    "wilson_hi": pl.Float64(),
    "base_rate": pl.Float64(),
    "base_rows": pl.Int64(),
    "lift": pl.Float64(),
    "base_missing": pl.String(),
}
"""Columns of ``quality_table``, in order. ``base_missing``: the distance buckets holding decided
entries but no decided NEUTRAL row (comma-separated labels), null when there is none."""


# --------------------------------------------------------------------------------------- entries


# ---------------------------------------------------------------------------------------- wilson


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of ``hits`` successes in ``n`` trials; ``(nan, nan)`` when n == 0.

    centre = (p + z²/2n) / (1 + z²/n); half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n);
    the interval is centre ± half, exactly 0 at hits == 0 and exactly 1 at hits == n.
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = hits / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    lo = 0.0 if hits <= 0 else max(0.0, centre - half)  # exact ends: no 5e-17 from rounding
    hi = 1.0 if hits >= n else min(1.0, centre + half)
    return (lo, hi)


def wilson_arrays(hits: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """``wilson`` element-wise over arrays (nan where n == 0); same formula, same exact ends."""
    h = np.asarray(hits, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    ok = m > 0
    safe = np.where(ok, m, 1.0)
    p = h / safe
    z2 = z * z
    denom = 1.0 + z2 / safe
    centre = (p + z2 / (2 * safe)) / denom
    half = z * np.sqrt(np.maximum(p * (1.0 - p), 0.0) / safe + z2 / (4.0 * safe * safe)) / denom
    lo = np.where(h <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    hi = np.where(h >= m, 1.0, np.clip(centre + half, 0.0, 1.0))
    lo = np.where(ok, lo, np.nan)
    hi = np.where(ok, hi, np.nan)
    return lo, hi


# --------------------------------------------------------------------------------------- buckets


def distance_bucket(col: str = "distance_pts") -> pl.Expr:
    """0 if d < 0.5, 1 if d < 1, 2 if d < 1.5, else 3 (2.5 inclusive; anything above clipped)."""
    d = pl.col(col)
    lo, mid, hi = BUCKET_EDGES
    return (
        pl.when(d < lo)
        .then(0)
        .when(d < mid)
        .then(1)
        .when(d < hi)
        .then(2)
        .otherwise(3)
        .cast(pl.Int8)
        .alias("bucket")
    )


def _outcome_counts() -> list[pl.Expr]:
    o = pl.col("outcome")
    return [
        pl.len().cast(pl.Int64).alias("entries"),
        (o == "BREAK").sum().cast(pl.Int64).alias("n_break"),
        (o == "REJECT").sum().cast(pl.Int64).alias("n_reject"),
        (o == "TIMEOUT").sum().cast(pl.Int64).alias("n_timeout"),
        (o == "CENSORED").sum().cast(pl.Int64).alias("n_censored"),
        (o == "FAR").sum().cast(pl.Int64).alias("n_far"),
    ]


def _labelled(rows: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """Gold rows × horizons: the rows' signal, kind and bucket with the outcome at each horizon."""
    return rows.select(*JOIN_KEYS, "signal", "level_kind", distance_bucket()).join(
        outcomes.select(*JOIN_KEYS, pl.col("horizon_s").cast(pl.Int32), "outcome"),
        on=list(JOIN_KEYS),
        how="inner",
    )


# --------------------------------------------------------------------------------------- table


def quality_table(gold: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """One row per (signal, level_kind, horizon_s) with at least one entry labelled at that
    horizon, sorted BREAK then REJECT, level_kind, horizon_s; columns ``TABLE_SCHEMA``."""
    group = ["signal", "level_kind", "horizon_s"]
    entries = _labelled(signal_entries(gold), outcomes)
    counts = entries.group_by(group).agg(_outcome_counts())

    decided_entries = entries.filter(~pl.col("outcome").is_in(EXCLUDED))
    weights = decided_entries.group_by([*group, "bucket"]).agg(pl.len().alias("n_b"))
    neutral = (
        _labelled(gold.filter(pl.col("signal") == NEUTRAL), outcomes)
        .filter(~pl.col("outcome").is_in(EXCLUDED))
        .group_by(["level_kind", "horizon_s", "bucket"])
        .agg(
            pl.len().alias("rows"),
            (pl.col("outcome") == "BREAK").sum().alias("rows_break"),
            (pl.col("outcome") == "REJECT").sum().alias("rows_reject"),
        )
    )
    labels = pl.Series("bucket", range(len(BUCKET_LABELS)), dtype=pl.Int8)
    label_of = pl.col("bucket").replace_strict(labels, list(BUCKET_LABELS), return_dtype=pl.String)
    base = (
        weights.join(neutral, on=["level_kind", "horizon_s", "bucket"], how="left")
        .with_columns(pl.col("rows").fill_null(0))
        .with_columns(
            pl.when(pl.col("rows") > 0)
            .then(
                pl.when(pl.col("signal") == "BREAK")
                .then(pl.col("rows_break"))
                .otherwise(pl.col("rows_reject"))
                / pl.col("rows")
            )
            .alias("share_b")
        )
        .sort([*group, "bucket"])
        .group_by(group, maintain_order=True)
        .agg(
            (pl.col("n_b") * pl.col("share_b")).sum().alias("_num"),
            pl.col("n_b").sum().alias("_den"),
            pl.col("rows").sum().cast(pl.Int64).alias("base_rows"),
            label_of.filter(pl.col("rows") == 0).alias("_missing"),
        )
        .with_columns(
            pl.when(pl.col("_missing").list.len() == 0)
            .then(pl.col("_num") / pl.col("_den"))
            .alias("base_rate"),
            pl.when(pl.col("_missing").list.len() > 0)
            .then(pl.col("_missing").list.join(", "))
            .alias("base_missing"),
        )
        .select(*group, "base_rate", "base_rows", "base_missing")
    )

    decided = pl.col("entries") - pl.col("n_censored") - pl.col("n_far")
    hits = (
        pl.when(pl.col("signal") == "BREAK").then(pl.col("n_break")).otherwise(pl.col("n_reject"))
    )

    def share(col: str | pl.Expr) -> pl.Expr:
        c = pl.col(col) if isinstance(col, str) else col
        return pl.when(pl.col("decided") > 0).then(c / pl.col("decided"))

    t = (
        counts.with_columns(decided.alias("decided"), hits.alias("_hits"))
        .join(base, on=group, how="left")
        .with_columns(
            share("n_break").alias("share_break"),
            share("n_reject").alias("share_reject"),
            share("n_timeout").alias("share_timeout"),
            share("_hits").alias("hit_rate"),
            pl.col("base_rows").fill_null(0),
        )
        .with_columns((pl.col("hit_rate") - pl.col("base_rate")).alias("lift"))
        .with_columns(pl.col("signal").replace_strict(SIGNALS, [0, 1]).alias("_order"))
        .sort(["_order", "level_kind", "horizon_s"])
    )
    lo, hi = wilson_arrays(t["_hits"].to_numpy(), t["decided"].to_numpy())
    t = t.with_columns(
        pl.Series("wilson_lo", lo, dtype=pl.Float64).fill_nan(None),
        pl.Series("wilson_hi", hi, dtype=pl.Float64).fill_nan(None),
    )
    return t.select([pl.col(c).cast(dt) for c, dt in TABLE_SCHEMA.items()])


# ------------------------------------------------------------------------------------- markdown


def _pct(x: float | None) -> str:
    return "—" if x is None or math.isnan(x) else f"{100.0 * x:.1f}"


def _pp(x: float | None) -> str:
    return "—" if x is None or math.isnan(x) else f"{100.0 * x:+.1f}"


def _hit_cell(rate: float | None, lo: float | None, hi: float | None) -> str:
    if rate is None or math.isnan(rate):
        return "—"
    return f"{_pct(rate)} [{_pct(lo)}, {_pct(hi)}]"


def _cell(s: str) -> str:
    return s.replace("|", "\\|")


HOW_TO_READ = (
    "An **entry** is the first snap at which a level's signal turns BREAK or REJECT (the level "
    "was absent, or had another signal, at the previous snap); the rows that stay latched on the "
    "same signal afterwards are not counted again. The **hit rate** is the share of entries whose "
    "outcome at the horizon equals the signal, with a Wilson 95 % interval in brackets. CENSORED "
    "and FAR outcomes are excluded from every denominator and counted apart: shares and the hit "
    "rate divide by *decided* = entries − censored − far. The "
    "**base rate** is the share of NEUTRAL rows of the same level kind with that same outcome, "
    "weighted to the entries' distance profile (buckets [0, 0.5), [0.5, 1), [1, 1.5), [1.5, 2.5] "
    "points): what doing nothing at the same distance would have shown. **Lift** = hit rate − "
    "base rate, in percentage points; a base rate is left blank (—) when a distance bucket that "
    "holds entries has no NEUTRAL row."
)

_HEADER = (
    "| Signal | Level kind | Entries | Decided | BREAK % | REJECT % | TIMEOUT % "
    "| Hit % [95 % CI] | Base % | Lift (pp) | Censored | Far |"
)
_RULE = "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"


def _totals_line(rows: pl.DataFrame, horizon: int) -> str:
    """Per signal, over level kinds: counts summed, hit rate and interval from the summed counts;
    the base rate as expected hits Σ decided_k·base_k / Σ decided_k (blank if any kind's is)."""
    parts = []
    for sig in SIGNALS:
        r = rows.filter(pl.col("signal") == sig)
        if r.height == 0:
            continue
        entries = int(r["entries"].sum())
        dec = int(r["decided"].sum())
        hits = int(r["n_break" if sig == "BREAK" else "n_reject"].sum())
        cens, far = int(r["n_censored"].sum()), int(r["n_far"].sum())
        rate = hits / dec if dec else None
        lo, hi = wilson(hits, dec)
        with_dec = r.filter(pl.col("decided") > 0)
        base = None
        if dec and with_dec["base_rate"].null_count() == 0:
            base = float((with_dec["base_rate"] * with_dec["decided"]).sum()) / dec
        lift = None if rate is None or base is None else rate - base
        parts.append(
            f"{sig}: {entries} entries, {dec} decided, hit {_hit_cell(rate, lo, hi)} %, "
            f"base {_pct(base)} %, lift {_pp(lift)} pp, censored {cens}, far {far}"
        )
    return f"**All level kinds at {horizon} s** — " + "; ".join(parts) + "."


def report_markdown(
    table: pl.DataFrame, *, title: str, sessions: Sequence[str], notes: Sequence[str]
) -> str:
    """The report as Markdown: title, sessions, how to read it, one table per horizon (with a
    totals line per signal), then the notes (plus one per blank base rate)."""
    out = [f"# {title}", ""]
    out.append(f"Sessions ({len(sessions)}): " + (", ".join(sessions) if sessions else "none"))
    out += ["", "## How to read", "", HOW_TO_READ, ""]
    if table.height == 0:
        out += ["No BREAK or REJECT entry has an outcome in these sessions.", ""]
    horizons = sorted(set(table["horizon_s"].to_list())) if table.height else []
    for h in horizons:
        rows = table.filter(pl.col("horizon_s") == h)
        out += [f"## Horizon {h} s", "", _HEADER, _RULE]
        for r in rows.iter_rows(named=True):
            out.append(
                "| "
                + " | ".join(
                    [
                        r["signal"],
                        _cell(r["level_kind"]),
                        str(r["entries"]),
                        str(r["decided"]),
                        _pct(r["share_break"]),
                        _pct(r["share_reject"]),
                        _pct(r["share_timeout"]),
                        _hit_cell(r["hit_rate"], r["wilson_lo"], r["wilson_hi"]),
                        _pct(r["base_rate"]),
                        _pp(r["lift"]),
                        str(r["n_censored"]),
                        str(r["n_far"]),
                    ]
                )
                + " |"
            )
        out += ["", _totals_line(rows, h), ""]
    auto = []
    if table.height:
        blank = table.filter((pl.col("decided") > 0) & pl.col("base_rate").is_null())
        for r in blank.iter_rows(named=True):
            where = r.get("base_missing") or "a bucket holding entries"
            auto.append(
                f"{r['signal']} · {r['level_kind']} at {r['horizon_s']} s: no NEUTRAL "
                f"{r['level_kind']} row in distance bucket {where} pts where entries were, so the "
                "base rate is left blank rather than renormalised over the other buckets."
            )
    all_notes = [*notes, *auto]
    if all_notes:
        out += ["## Notes", ""]
        out += [f"- {n}" for n in all_notes]
        out.append("")
    return "\n".join(out)
