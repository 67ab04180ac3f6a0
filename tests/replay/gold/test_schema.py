"""The Arrow schema, the enum checks and the payload mapping, all built from the engines' column
table, agree with it and with SPEC §3.1 / §5.9."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest

from engines.columns.gold_columns import ENUMS, GOLD_COLUMNS
from engines.columns.rows import NP_TYPES, Coded, RowBlock
from replay.common.errors import InternalError
from replay.gold.payload import PriceConverter, encode_payload, level_payload, snap_payload
from replay.gold.schema import GOLD, GOLD_ENUMS, record_batch

SPEC_MINIMUM = [
    "ts_ns",
    "snap_index",
    "session_date",
    "instrument",
    "spot_px",
    "bid_px",
    "ask_px",
    "level_id",
    "level_kind",
    "level_px",
    "direction",
    "distance_pts",
    "barrier_state",
    "delta_liq",
    "replenishment_ratio",
    "added",
    "canceled",
    "filled",
    "defending_px",
    "defending_sz",
    "churn",
    "depth_in_zone",
    "barrier_confidence",
    "tape_imbalance",
    "buy_vol",
    "sell_vol",
    "velocity",
    "sweep_detected",
    "sweep_direction",
    "sweep_notional",
    "sweep_prints",
    "fuel_effect",
    "net_dealer_gamma",
    "call_wall_px",
    "put_wall_px",
    "fuel_confidence",
    "liquidity_score",
    "hedge_score",
    "tape_score",
    "break_score_raw",
    "break_score_smooth",
    "signal",
    "confidence",
    "runway_direction",
    "next_obstacle_id",
    "next_obstacle_px",
    "runway_pts",
    "runway_quality",
]

# SPEC §5.9: one level of the payload, as nested keys
LEVEL_KEYS = {
    "id", "price", "kind", "direction", "distance", "break_score_raw", "break_score_smooth",
    "signal", "confidence", "approach_velocity", "approach_bars", "prior_touches", "note",
    "barrier.state", "barrier.delta_liq", "barrier.delta_liq_smooth",
    "barrier.replenishment_ratio", "barrier.replenishment_ratio_smooth", "barrier.added",
    "barrier.canceled", "barrier.filled", "barrier.defending_quote.price",
    "barrier.defending_quote.size", "barrier.churn", "barrier.depth_in_zone",
    "barrier.confidence", "tape.imbalance", "tape.buy_vol", "tape.sell_vol", "tape.velocity",
    "tape.velocity_smooth", "tape.sweep.detected", "tape.sweep.direction", "tape.sweep.notional",
    "tape.sweep.num_prints", "tape.sweep.window_ms", "tape.confidence", "fuel.effect",
    "fuel.net_dealer_gamma", "fuel.net_dealer_gamma_smooth", "fuel.call_wall", "fuel.put_wall",
    "fuel.gamma_flip", "fuel.confidence", "runway.direction", "runway.next_obstacle.id",
    "runway.next_obstacle.price", "runway.distance", "runway.quality",
}  # fmt: skip


def _row(**over: object) -> dict[str, object]:
    """A Gold row: ROUND_6000 resistance 2.5 points above spot 5997.50, a sweep, no obstacle."""
    r: dict[str, object] = {c.name: 0 for c in GOLD_COLUMNS}
    r.update(
        ts_ns=1_763_130_600_250_000_000, snap_index=1, spot_px=5997_500_000_000,
        bid_px=5997_250_000_000, ask_px=5997_500_000_000, level_id="ROUND_6000",
        level_kind="ROUND", level_px=6000_000_000_000, direction="RESISTANCE",
        distance_pts=2.5, barrier_state="WALL", defending_px=6000_000_000_000, defending_sz=40,
        velocity=0.5, velocity_smooth=None, sweep_detected=True, sweep_direction="UP",
        sweep_notional=7500.0, sweep_prints=3, sweep_window_ms=80.0, fuel_effect="NEUTRAL",
        call_wall_px=None, put_wall_px=5990_000_000_000, gamma_flip_px=None, signal="NEUTRAL",
        confidence="LOW", approach_velocity=-0.25, runway_direction="UP",
        next_obstacle_id=None, next_obstacle_px=None, runway_pts=None, runway_quality="CLEAR",
        note="barrier WALL, fuel NEUTRAL, sweep UP", tape_imbalance=math.nan,
    )  # fmt: skip
    r.update(over)
    return r


def _paths(obj: dict, prefix: str = "") -> set[str]:
    out = set()
    for k, v in obj.items():
        p = prefix + k
        out |= _paths(v, p + ".") if isinstance(v, dict) else {p}
    return out


def test_arrow_schema_is_the_column_table() -> None:
    assert GOLD.names == [c.name for c in GOLD_COLUMNS]
    assert set(SPEC_MINIMUM) <= set(GOLD.names)
    for f, c in zip(GOLD, GOLD_COLUMNS, strict=True):
        arrow = {"float64": "double", "date32": "date32[day]"}.get(c.type, c.type)
        assert f.nullable == c.nullable and str(f.type) == arrow, c.name
    assert GOLD_ENUMS == ENUMS


def test_payload_has_every_spec_key_and_hand_computed_values() -> None:
    obstacle = _row(next_obstacle_id="ROUND_6025", next_obstacle_px=6025_000_000_000)
    lv = level_payload(obstacle)
    assert _paths(lv) == LEVEL_KEYS
    lv = level_payload(_row(), PriceConverter(ratio=2.0))
    # prices: units / 1e9 * ratio; points: value * ratio; NaN -> null; no obstacle -> null
    assert lv["price"] == 12000.0 and lv["distance"] == 5.0
    assert lv["tape"]["velocity"] == 1.0 and lv["tape"]["velocity_smooth"] is None
    assert lv["approach_velocity"] == -0.5 and lv["tape"]["imbalance"] is None
    assert lv["barrier"]["defending_quote"] == {"price": 12000.0, "size": 40}
    assert lv["fuel"]["call_wall"] is None and lv["fuel"]["put_wall"] == 11980.0
    assert lv["runway"]["next_obstacle"] is None and lv["runway"]["distance"] is None
    assert lv["tape"]["sweep"] == {
        "detected": True, "direction": "UP", "notional": 7500.0, "num_prints": 3,
        "window_ms": 80.0,
    }  # fmt: skip


def test_snap_payload_orders_levels_by_distance_then_id() -> None:
    far = _row(level_id="VWAP", level_kind="VWAP", level_px=5994_000_000_000, distance_pts=3.5)
    near = _row()
    tie = _row(level_id="PDH", level_kind="PDH", distance_pts=2.5)
    p = snap_payload([far, near, tie])
    # ts: ns // 1e6 = 1 763 130 600 250 ms; spot 5997.50
    assert p["ts"] == 1_763_130_600_250 and p["es"] == {
        "spot": 5997.5, "bid": 5997.25, "ask": 5997.5,
    }  # fmt: skip
    assert [lv["id"] for lv in p["levels"]] == ["PDH", "ROUND_6000", "VWAP"]
    assert json.loads(encode_payload(p)) == p


def test_record_batch_refuses_a_value_outside_its_enum() -> None:
    n = 1
    cols: dict = {}
    for c in GOLD_COLUMNS:
        if c.type == "string":
            name = c.enum[0] if c.enum else "X"
            cols[c.name] = Coded(np.zeros(n, dtype=np.int64), (name,))
        else:
            cols[c.name] = np.zeros(n, dtype=NP_TYPES[c.type])
    ok = record_batch(RowBlock(cols, {}))
    assert ok.schema == GOLD and ok.num_rows == 1
    cols["signal"] = Coded(np.zeros(n, dtype=np.int64), ("MAYBE",))
    with pytest.raises(InternalError, match=r"signal.*MAYBE"):
        record_batch(RowBlock(cols, {}))
    # code -1 is null
    cols["signal"] = Coded(np.full(n, -1, dtype=np.int64), ("BREAK",))
    assert record_batch(RowBlock(cols, {})).column("signal").null_count == 1
    assert isinstance(ok.column("ts_ns"), pa.Array)
