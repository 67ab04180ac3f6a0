"""Signal-quality report (SPEC §10.2) on tiny hand-built frames; the arithmetic is in comments."""

from __future__ import annotations

import datetime as dt
import math
import random

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from replay.labels.report import (
    TABLE_SCHEMA,
    distance_bucket,
    quality_table,
    report_markdown,
    signal_entries,
    wilson,
    wilson_arrays,
)
from replay.labels.report_plot import plot_quality
from replay.labels.schema import LEVEL_OUTCOMES

D1 = dt.date(2025, 11, 14)
D2 = dt.date(2025, 11, 17)
SNAP_NS = 100_000_000


def ts(day: dt.date, snap: int) -> int:
    base = int(dt.datetime(day.year, day.month, day.day, 14, 30, tzinfo=dt.UTC).timestamp())
    return base * 1_000_000_000 + snap * SNAP_NS


def gold_frame(rows: list[tuple]) -> pl.DataFrame:
    """rows: (session_date, snap_index, level_id, level_kind, distance_pts, signal)."""
    return pl.DataFrame(
        {
            "session_date": [r[0] for r in rows],
            "snap_index": [r[1] for r in rows],
            "ts_ns": [ts(r[0], r[1]) for r in rows],
            "level_id": [r[2] for r in rows],
            "level_kind": [r[3] for r in rows],
            "distance_pts": [float(r[4]) for r in rows],
            "signal": [r[5] for r in rows],
        },
        schema={
            "session_date": pl.Date,
            "snap_index": pl.Int32,
            "ts_ns": pl.Int64,
            "level_id": pl.String,
            "level_kind": pl.String,
            "distance_pts": pl.Float64,
            "signal": pl.String,
        },
    )


def outcomes_frame(gold: pl.DataFrame, by_row: dict[tuple, dict[int, str]]) -> pl.DataFrame:
    """One LEVEL_OUTCOMES row per Gold row × horizon; ``by_row[(date, snap, level_id)]``."""
    recs = []
    for g in gold.iter_rows(named=True):
        labels = by_row[(g["session_date"], g["snap_index"], g["level_id"])]
        for h, outcome in sorted(labels.items()):
            recs.append(
                {
                    "ts_ns": g["ts_ns"],
                    "session_date": g["session_date"],
                    "level_id": g["level_id"],
                    "level_kind": g["level_kind"],
                    "level_px": 6_800_000_000_000,
                    "direction": "UP",
                    "distance_pts": g["distance_pts"],
                    "signal": g["signal"],
                    "horizon_s": h,
                    "outcome": outcome,
                    "t_hit_ms": None,
                    "mfe_pts": None,
                    "mae_pts": None,
                    "fwd_ret_pts": None,
                    "label_end_ns": g["ts_ns"] + h * 1_000_000_000,
                }
            )
    return pl.from_arrow(pa.Table.from_pylist(recs, schema=LEVEL_OUTCOMES))


def run(level: str, kind: str, d: float, signals: list[str]) -> list[tuple]:
    """One level's rows at snaps 1, 2, ... of session D1."""
    return [(D1, i + 1, level, kind, d, sig) for i, sig in enumerate(signals)]


def keys(df: pl.DataFrame) -> list[tuple]:
    return sorted(df.select("session_date", "snap_index", "level_id", "signal").rows())


# --------------------------------------------------------------------------------------- entries


def test_entries_first_snap_of_each_latch() -> None:
    rows = [
        # A: NEUTRAL, BREAK, BREAK, NEUTRAL, BREAK at snaps 1..5 -> entries at 2 and 5
        *run("A", "ROUND", 0.25, ["NEUTRAL", "BREAK", "BREAK", "NEUTRAL", "BREAK"]),
        # B: BREAK at 2, absent at 3, BREAK at 4 -> two entries (2 and 4)
        (D1, 2, "B", "VWAP", 0.5, "BREAK"),
        (D1, 4, "B", "VWAP", 0.5, "BREAK"),
        # C: BREAK, REJECT, REJECT, CONTESTED, BREAK -> entries at 1 (BREAK), 2 (REJECT), 5 (BREAK)
        *run("C", "STRIKE", 1.0, ["BREAK", "REJECT", "REJECT", "CONTESTED", "BREAK"]),
        # E: BREAK at snap 1 of one session, BREAK at snap 2 of the next: never chained -> 2
        (D1, 1, "E", "PDH", 2.0, "BREAK"),
        (D2, 2, "E", "PDH", 2.0, "BREAK"),
    ]  # fmt: skip
    gold = gold_frame(rows)
    want = [
        (D1, 1, "C", "BREAK"),
        (D1, 1, "E", "BREAK"),
        (D1, 2, "A", "BREAK"),
        (D1, 2, "B", "BREAK"),
        (D1, 2, "C", "REJECT"),
        (D1, 4, "B", "BREAK"),
        (D1, 5, "A", "BREAK"),
        (D1, 5, "C", "BREAK"),
        (D2, 2, "E", "BREAK"),
    ]
    got = signal_entries(gold)
    assert keys(got) == want
    assert got.columns == gold.columns and got.schema == gold.schema
    # input order kept (rows are a subset of gold in gold's order)
    pos = {r: i for i, r in enumerate(gold.select("session_date", "snap_index", "level_id").rows())}
    order = [pos[r] for r in got.select("session_date", "snap_index", "level_id").rows()]
    assert order == sorted(order)
    # a self-join, not a shift: any row order gives the same entries
    shuffled = gold.sample(fraction=1.0, shuffle=True, seed=7)
    assert keys(signal_entries(shuffled)) == want
    idx = list(range(gold.height))
    random.Random(3).shuffle(idx)
    assert keys(signal_entries(gold[idx])) == want


def test_entries_empty() -> None:
    gold = gold_frame([(D1, 1, "A", "ROUND", 0.0, "NEUTRAL")])
    assert signal_entries(gold).height == 0
    assert signal_entries(gold.clear()).columns == gold.columns


# ---------------------------------------------------------------------------------------- wilson


def test_wilson_known_value() -> None:
    # hits=8, n=10, z=1.959964: p=0.8, z²=3.841459, z²/n=0.384146, denom=1.384146
    # centre = (0.8 + 3.841459/20) / 1.384146 = 0.992073 / 1.384146 = 0.716740
    # half = 1.959964 · sqrt(0.8·0.2/10 + 3.841459/400) / 1.384146
    #      = 1.959964 · sqrt(0.016 + 0.0096036) / 1.384146 = 1.959964 · 0.160011 / 1.384146
    #      = 0.226578 -> (0.490162, 0.943318)
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.490162, abs=1e-6)
    assert hi == pytest.approx(0.943318, abs=1e-6)
    assert all(math.isnan(x) for x in wilson(0, 0))
    assert wilson(0, 3)[0] == 0.0 and wilson(3, 3)[1] == 1.0  # exact ends, no rounding residue
    vlo, vhi = wilson_arrays(np.array([8, 0, 3, 0, 2]), np.array([10, 3, 3, 0, 3]))
    for i, (h, n) in enumerate([(8, 10), (0, 3), (3, 3), (0, 0), (2, 3)]):
        s = wilson(h, n)
        if n == 0:
            assert math.isnan(vlo[i]) and math.isnan(vhi[i])
        else:
            assert (vlo[i], vhi[i]) == pytest.approx(s, abs=1e-15)


def test_distance_buckets() -> None:
    d = pl.DataFrame({"distance_pts": [0.0, 0.49, 0.5, 0.99, 1.0, 1.49, 1.5, 2.5, 3.0]})
    assert d.select(distance_bucket())["bucket"].to_list() == [0, 0, 1, 1, 2, 2, 3, 3, 3]


# ----------------------------------------------------------------------------------------- table


def scenario() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Horizon 60 carries the case; at 30 every outcome is TIMEOUT."""
    rows_60 = [
        # ROUND BREAK entries: R1 (0.25, BREAK) latched at snap 2 (not an entry), R2 (0.25,
        # BREAK), R3 (0.75, TIMEOUT), R4 (0.25, CENSORED)
        ((D1, 1, "R1", "ROUND", 0.25, "BREAK"), "BREAK"),
        ((D1, 2, "R1", "ROUND", 0.25, "BREAK"), "TIMEOUT"),
        ((D1, 3, "R2", "ROUND", 0.25, "BREAK"), "BREAK"),
        ((D1, 4, "R3", "ROUND", 0.75, "BREAK"), "TIMEOUT"),
        ((D1, 5, "R4", "ROUND", 0.25, "BREAK"), "CENSORED"),
        # ROUND REJECT entries: R5 (0.25, REJECT), R6 (0.75, FAR: no weight in bucket 1)
        ((D1, 1, "R5", "ROUND", 0.25, "REJECT"), "REJECT"),
        ((D1, 2, "R6", "ROUND", 0.75, "REJECT"), "FAR"),
        # ROUND NEUTRAL bucket 0: BREAK, BREAK, REJECT, TIMEOUT (+ FAR, CENSORED dropped)
        ((D1, 1, "N01", "ROUND", 0.0, "NEUTRAL"), "BREAK"),
        ((D1, 1, "N02", "ROUND", 0.25, "NEUTRAL"), "BREAK"),
        ((D1, 1, "N03", "ROUND", 0.25, "NEUTRAL"), "REJECT"),
        ((D1, 1, "N04", "ROUND", 0.49, "NEUTRAL"), "TIMEOUT"),
        ((D1, 1, "N05", "ROUND", 0.25, "NEUTRAL"), "FAR"),
        ((D1, 1, "N06", "ROUND", 0.25, "NEUTRAL"), "CENSORED"),
        # ROUND NEUTRAL bucket 1: BREAK, TIMEOUT, TIMEOUT, REJECT, TIMEOUT
        ((D1, 1, "N11", "ROUND", 0.5, "NEUTRAL"), "BREAK"),
        ((D1, 1, "N12", "ROUND", 0.75, "NEUTRAL"), "TIMEOUT"),
        ((D1, 1, "N13", "ROUND", 0.75, "NEUTRAL"), "TIMEOUT"),
        ((D1, 1, "N14", "ROUND", 0.99, "NEUTRAL"), "REJECT"),
        ((D1, 1, "N15", "ROUND", 0.5, "NEUTRAL"), "TIMEOUT"),
        # ROUND NEUTRAL bucket 3 (2.5 inclusive): no entry there, so no weight
        ((D1, 1, "N31", "ROUND", 2.5, "NEUTRAL"), "BREAK"),
        # STRIKE: one BREAK entry in bucket 2, NEUTRAL only in bucket 0 -> base rate null
        ((D1, 2, "S1", "STRIKE", 1.25, "BREAK"), "BREAK"),
        ((D1, 2, "SN", "STRIKE", 0.25, "NEUTRAL"), "BREAK"),
        # a CONTESTED row is neither an entry nor a NEUTRAL row
        ((D1, 3, "C1", "ROUND", 0.25, "CONTESTED"), "BREAK"),
    ]
    gold = gold_frame([r for r, _ in rows_60])
    by_row = {(r[0], r[1], r[2]): {30: "TIMEOUT", 60: o} for r, o in rows_60}
    return gold, outcomes_frame(gold, by_row)


def test_quality_table_counts_and_base_rate() -> None:
    gold, outcomes = scenario()
    t = quality_table(gold, outcomes)
    assert t.schema == pl.Schema(TABLE_SCHEMA)
    assert t.select("signal", "level_kind", "horizon_s").rows() == [
        ("BREAK", "ROUND", 30),
        ("BREAK", "ROUND", 60),
        ("BREAK", "STRIKE", 30),
        ("BREAK", "STRIKE", 60),
        ("REJECT", "ROUND", 30),
        ("REJECT", "ROUND", 60),
    ]
    row = {(r["signal"], r["level_kind"], r["horizon_s"]): r for r in t.iter_rows(named=True)}

    b = row[("BREAK", "ROUND", 60)]
    # 4 entries (R1..R4; R1's latched snap 2 is not one): BREAK, BREAK, TIMEOUT, CENSORED
    assert (b["entries"], b["decided"], b["n_censored"], b["n_far"]) == (4, 3, 1, 0)
    assert (b["n_break"], b["n_reject"], b["n_timeout"]) == (2, 0, 1)
    assert b["hit_rate"] == pytest.approx(2 / 3)
    assert (b["share_break"], b["share_reject"], b["share_timeout"]) == pytest.approx(
        (2 / 3, 0.0, 1 / 3)
    )
    assert (b["wilson_lo"], b["wilson_hi"]) == pytest.approx(wilson(2, 3))
    # decided entries: R1, R2 in bucket 0, R3 in bucket 1 -> weights 2/3, 1/3 (R4 censored)
    # NEUTRAL ROUND BREAK share: bucket 0 = 2/4 = 0.5 (FAR, CENSORED dropped; with them 2/6),
    # bucket 1 = 1/5 = 0.2; base = 2/3·0.5 + 1/3·0.2 = 0.4; rows used 4 + 5 = 9 (bucket 3 unused)
    assert b["base_rate"] == pytest.approx(0.4)
    assert b["base_rows"] == 9
    assert b["lift"] == pytest.approx(2 / 3 - 0.4)
    assert b["base_missing"] is None

    r = row[("REJECT", "ROUND", 60)]
    # R5 REJECT, R6 FAR -> entries 2, decided 1, hit 1/1; only R5 (bucket 0) weighs:
    # base = NEUTRAL REJECT share in bucket 0 = 1/4 = 0.25; lift 0.75
    assert (r["entries"], r["decided"], r["n_reject"], r["n_far"]) == (2, 1, 1, 1)
    assert r["hit_rate"] == 1.0 and r["wilson_hi"] == 1.0
    assert r["base_rate"] == pytest.approx(0.25) and r["base_rows"] == 4
    assert r["lift"] == pytest.approx(0.75)

    s = row[("BREAK", "STRIKE", 60)]
    # entry in bucket 2 ([1, 1.5)), STRIKE NEUTRAL only in bucket 0: no silent renormalisation
    assert (s["entries"], s["decided"], s["hit_rate"]) == (1, 1, 1.0)
    assert s["base_rate"] is None and s["lift"] is None
    assert s["base_rows"] == 0 and s["base_missing"] == "[1, 1.5)"

    b30 = row[("BREAK", "ROUND", 30)]
    # all TIMEOUT at 30 s: 4 decided, hit 0, interval starts at exactly 0, base 0
    # (weights 3/4 bucket 0, 1/4 bucket 1; NEUTRAL rows 6 + 5 = 11, nothing excluded at 30 s)
    assert (b30["entries"], b30["decided"], b30["hit_rate"], b30["wilson_lo"]) == (4, 4, 0.0, 0.0)
    assert b30["base_rate"] == 0.0 and b30["base_rows"] == 11


def test_quality_table_all_excluded_and_empty() -> None:
    gold = gold_frame([(D1, 1, "A", "ROUND", 0.25, "BREAK")])
    out = outcomes_frame(gold, {(D1, 1, "A"): {60: "CENSORED"}})
    t = quality_table(gold, out)
    # one entry, censored: decided 0 -> shares, hit rate, interval, base rate all null
    assert t.height == 1
    r = t.row(0, named=True)
    assert (r["entries"], r["decided"], r["n_censored"]) == (1, 0, 1)
    assert r["hit_rate"] is None and r["wilson_lo"] is None and r["share_break"] is None
    assert r["base_rate"] is None and r["base_rows"] == 0 and r["base_missing"] is None
    empty = quality_table(gold.clear(), out.clear())
    assert empty.height == 0 and empty.schema == pl.Schema(TABLE_SCHEMA)
    assert "No BREAK or REJECT entry" in report_markdown(empty, title="t", sessions=[], notes=[])


def test_quality_table_deterministic_under_row_order() -> None:
    gold, outcomes = scenario()
    t = quality_table(gold, outcomes)
    t2 = quality_table(
        gold.sample(fraction=1.0, shuffle=True, seed=1),
        outcomes.sample(fraction=1.0, shuffle=True, seed=2),
    )
    assert t.equals(t2)


# -------------------------------------------------------------------------------------- markdown


def test_markdown() -> None:
    gold, outcomes = scenario()
    md = report_markdown(
        quality_table(gold, outcomes),
        title="Signal quality",
        sessions=["2025-11-14"],
        notes=["barrier 2.0 pts"],
    )
    assert md.startswith("# Signal quality\n")
    assert "Sessions (1): 2025-11-14" in md
    assert "## How to read" in md
    assert md.index("## Horizon 30 s") < md.index("## Horizon 60 s")
    assert md.count("| Signal | Level kind | Entries | Decided |") == 2
    # wilson(2, 3) = (0.2077, 0.9385); base 40.0; lift 66.7 − 40.0 = +26.7 pp
    # wilson(1, 1) = (0.2065, 1.0); STRIKE's base rate blank (bucket [1, 1.5) has no NEUTRAL)
    sixty = md[md.index("## Horizon 60 s") :]
    for line in [
        "| BREAK | ROUND | 4 | 3 | 66.7 | 0.0 | 33.3 | 66.7 [20.8, 93.9] | 40.0 | +26.7 | 1 | 0 |",
        "| BREAK | STRIKE | 1 | 1 | 100.0 | 0.0 | 0.0 | 100.0 [20.7, 100.0] | — | — | 0 | 0 |",
        "| REJECT | ROUND | 2 | 1 | 0.0 | 100.0 | 0.0 | 100.0 [20.7, 100.0] | 25.0 | +75.0 "
        "| 0 | 1 |",
    ]:
        assert line + "\n" in sixty
    # totals at 60 s from counts: BREAK 5 entries, 4 decided, 3 hits -> 75.0 % with wilson(3, 4);
    # base blank since STRIKE's is; REJECT 2 entries, 1 decided, 1 hit, base 25.0
    lo, hi = wilson(3, 4)
    assert (
        f"BREAK: 5 entries, 4 decided, hit 75.0 [{100 * lo:.1f}, {100 * hi:.1f}] %, base — %, "
        "lift — pp, censored 1, far 0" in sixty
    )
    assert (
        "REJECT: 2 entries, 1 decided, hit 100.0 [20.7, 100.0] %, base 25.0 %, lift +75.0 pp, "
        "censored 0, far 1" in sixty
    )
    # totals at 30 s: 5 entries, all TIMEOUT -> 5 decided, 0 hits
    thirty = md[md.index("## Horizon 30 s") : md.index("## Horizon 60 s")]
    assert "BREAK: 5 entries, 5 decided, hit 0.0 [0.0, " in thirty
    notes = md[md.index("## Notes") :]
    assert "- barrier 2.0 pts" in notes
    assert "BREAK · STRIKE at 60 s" in notes and "[1, 1.5)" in notes and "left blank" in notes
    assert "BREAK · STRIKE at 30 s" in notes  # same empty bucket at every horizon
    assert "ROUND at" not in notes


# ------------------------------------------------------------------------------------------ plot


def test_plot_quality_writes_png_atomically(tmp_path) -> None:
    gold, outcomes = scenario()
    t = quality_table(gold, outcomes)
    out = tmp_path / "quality_60s.png"
    assert plot_quality(t, 60, out) == out
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    empty = tmp_path / "quality_999s.png"
    plot_quality(t, 999, empty)  # no rows at that horizon: still a PNG saying so
    assert empty.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quality_60s.png", "quality_999s.png"]
