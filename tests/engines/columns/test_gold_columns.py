"""The Gold column table agrees with everything derived from it on the engines' side.

``engines/columns/gold_columns.py`` is the one definition of the Gold columns; LevelRow, the fast
kernel's
slots, its decoders and the enum code tables are derived from it or from the engine modules that
own the names. These tests fail as soon as any of them disagree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np

from engines.columns.gold_columns import (
    DECODES,
    GOLD_COLUMNS,
    LEVEL_COLUMNS,
    SCOPES,
    TYPES,
    UNITS,
    fast_slots,
)
from engines.columns.rows import Coded, LevelRowBlocks
from engines.contract.config import EngineConfig
from engines.fast import fast_rows as F
from engines.fast import snap_codes
from engines.physics import barrier, fuel, level_universe, room_to_run, score, tape, trigger
from engines.reference.signal_service import LevelRow

BY_NAME = {c.name: c for c in GOLD_COLUMNS}


def test_columns_are_well_formed() -> None:
    names = [c.name for c in GOLD_COLUMNS]
    assert len(names) == len(set(names))
    for c in GOLD_COLUMNS:
        assert c.type in TYPES and c.scope in SCOPES and c.unit in UNITS and c.decode in DECODES
        assert (c.enum is not None) == (c.decode == "enum" or c.name == "confidence"), c.name
        assert c.enum is None or c.type == "string", c.name
        assert (c.bit >= 0) == (c.decode == "ewma"), c.name
        assert c.decode == "session" or c.fast, f"{c.name}: no fast slot"
        assert all(s[:2] in ("I_", "X_") for s in c.fast), c.name


def test_level_row_fields_are_the_level_columns() -> None:
    fields = [(f.name, f.type) for f in dataclasses.fields(LevelRow)]
    assert [n for n, _ in fields] == [c.name for c in LEVEL_COLUMNS]
    # nullable columns are Optional in the row, the others are not
    for (name, typ), col in zip(fields, LEVEL_COLUMNS, strict=True):
        assert typ.endswith("| None") == col.nullable, name


def test_enums_are_the_owning_modules_tuples() -> None:
    """Each enum column's set is the very tuple its engine module defines, and the fast kernel's
    code table is the same object (code i means enum[i] everywhere)."""
    owners = {
        "direction": (barrier.DIRECTIONS, snap_codes.DIRECTION_NAMES),
        "barrier_state": (barrier.BARRIER_STATES, snap_codes.BARRIER_NAMES),
        "sweep_direction": (tape.SWEEP_DIRECTIONS, None),
        "fuel_effect": (fuel.FUEL_EFFECTS, snap_codes.FUEL_NAMES),
        "signal": (trigger.SIGNALS, snap_codes.SIGNAL_NAMES),
        "confidence": (score.CONFIDENCES, snap_codes.CONFIDENCE_NAMES),
        "runway_direction": (room_to_run.RUNWAY_DIRECTIONS, snap_codes.UPDOWN_NAMES),
        "runway_quality": (room_to_run.RUNWAY_QUALITIES, snap_codes.QUALITY_NAMES),
    }
    assert set(owners) == {c.name for c in GOLD_COLUMNS if c.enum is not None}
    for name, (owned, coded) in owners.items():
        assert BY_NAME[name].enum is owned, name
        assert coded is None or coded is owned, name
    # the sweep's UP/DOWN codes are the runway's (the kernel writes one UP/DOWN code)
    assert tape.SWEEP_DIRECTIONS == room_to_run.RUNWAY_DIRECTIONS
    assert snap_codes.MOVING_KINDS is level_universe.MOVING_KINDS
    assert snap_codes.ANCHORED_KINDS is level_universe.ANCHORED_KINDS


def test_fast_slots_are_derived_and_dense() -> None:
    i_slots, x_slots = fast_slots("I_"), fast_slots("X_")
    assert (len(i_slots), len(x_slots)) == (snap_codes.N_I, snap_codes.N_X)
    assert [getattr(snap_codes, s) for s in i_slots] == list(range(len(i_slots)))
    assert [getattr(snap_codes, s) for s in x_slots] == list(range(len(x_slots)))
    # every slot a column names is one the kernel writes (its module imports it)
    here = Path(snap_codes.__file__).parent
    code = (here / "snap_kernel.py").read_text() + (here / "snap_levels.py").read_text()
    for s in i_slots + x_slots:
        assert f"{s}, row]" in code, f"{s}: no kernel write"


def test_every_decode_rule_exists_and_nothing_else() -> None:
    assert set(F._RULES) == set(DECODES) - {"session"}


def _decoded(block: object, name: str) -> object:
    col = block.columns[name]  # type: ignore[attr-defined]
    ok = bool(block.valid.get(name, np.ones(1, dtype=bool))[0])  # type: ignore[attr-defined]
    v = col.values()[0] if isinstance(col, Coded) else col.tolist()[0]
    return v if ok else None


def test_decoded_block_matches_the_reference_block_for_one_hand_made_row() -> None:
    """One kernel row and the LevelRow it stands for decode to the same column values.

    Level ROUND at 6000.00 (type 0, 6000e9 units), spot 6001.25: distance 1.25 points; a DOWN
    sweep of 3 prints, notional (high, low) = (150, 0) -> 150 * 50 = 7500.0 USD; EWMAs: only
    bit 0 (delta_liq) and bit 3 (gamma) have a sample, so the other two smooths are null.
    """
    cfg = EngineConfig()
    C = snap_codes
    oi = np.zeros((C.N_I, 1), dtype=np.int64)
    ox = np.zeros((C.N_X, 1))
    vals_i = {
        "I_TS": 1_000_000_000, "I_SNAP": 4, "I_SPOT": 6001_250_000_000, "I_BID": 6001_000_000_000,
        "I_ASK": 6001_250_000_000, "I_LTYPE": C.T_ROUND, "I_LPX": 6000_000_000_000,
        "I_DIR": C.SUPPORT, "I_BSTATE": C.WALL, "I_DLIQ": -3, "I_ADDED": 5, "I_CXL": 2,
        "I_FILL": 6, "I_DPX": 6000_000_000_000, "I_DSZ": 40, "I_CHURN": 13, "I_DEPTH": 90,
        "I_BUY": 7, "I_SELL": 9, "I_SWDIR": C.DOWN, "I_SWH": 150, "I_SWL": 0, "I_SWN": 3,
        "I_FEFF": C.F_NEUTRAL, "I_CWALL": C.NONE, "I_PWALL": 5990_000_000_000,
        "I_FLIP": C.NONE, "I_SIG": C.S_REJECT, "I_CONF": C.MEDIUM, "I_ABARS": 2, "I_TOUCH": 1,
        "I_RDIR": C.UP, "I_OTYPE": -1, "I_OPX": C.NONE, "I_QUAL": C.CLEAR, "I_EWMASK": 0b1001,
    }  # fmt: skip
    for k, v in vals_i.items():
        oi[getattr(C, k), 0] = v
    vals_x = {
        "X_DIST": 1.25, "X_DLIQ_S": -2.5, "X_RATIO": 0.5, "X_BCONF": 0.6, "X_IMB": -0.125,
        "X_VEL": 0.25, "X_SWMS": 120.0, "X_TCONF": 0.4, "X_NET": 0.0, "X_NET_S": 1.5,
        "X_FCONF": 0.2, "X_LS": 0.0, "X_HS": 50.0, "X_TS": 25.0, "X_RAW": 22.5, "X_SMOOTH": 20.0,
        "X_AVEL": 0.1,
    }  # fmt: skip
    for k, v in vals_x.items():
        ox[getattr(C, k), 0] = v
    date = dt.date(2025, 11, 14)
    fast = F.FastRowDecoder(cfg, date, "ESZ5").decode(oi, ox)
    hand = dict(
        level_id="ROUND_6000", level_kind="ROUND", level_px=6000_000_000_000,
        direction="SUPPORT", distance_pts=1.25, barrier_state="WALL", delta_liq=-3,
        delta_liq_smooth=-2.5, replenishment_ratio=0.5, replenishment_ratio_smooth=None,
        added=5, canceled=2, filled=6, defending_px=6000_000_000_000, defending_sz=40,
        churn=13, depth_in_zone=90, barrier_confidence=0.6, tape_imbalance=-0.125,
        buy_vol=7, sell_vol=9, velocity=0.25, velocity_smooth=None, sweep_detected=True,
        sweep_direction="DOWN", sweep_notional=7500.0, sweep_prints=3, sweep_window_ms=120.0,
        tape_confidence=0.4, fuel_effect="NEUTRAL", net_dealer_gamma=0.0,
        net_dealer_gamma_smooth=1.5, call_wall_px=None, put_wall_px=5990_000_000_000,
        gamma_flip_px=None, fuel_confidence=0.2, liquidity_score=0.0, hedge_score=50.0,
        tape_score=25.0, break_score_raw=22.5, break_score_smooth=20.0, signal="REJECT",
        confidence="MEDIUM", approach_velocity=0.1, approach_bars=2, prior_touches=1,
        runway_direction="UP", next_obstacle_id=None, next_obstacle_px=None, runway_pts=None,
        runway_quality="CLEAR", note="barrier WALL, fuel NEUTRAL, sweep DOWN, REJECT",
    )  # fmt: skip
    # columns added after this example was written take the decoded value on both sides: the
    # engine-equality tests cover them end to end; this one pins the decode rules by hand
    row = LevelRow(**{c.name: hand.get(c.name, _decoded(fast, c.name)) for c in LEVEL_COLUMNS})
    ref_rows = LevelRowBlocks(date, "ESZ5")
    ref_rows.add(1_000_000_000, 4, 6001_250_000_000, 6001_000_000_000, 6001_250_000_000, [row])
    ref = ref_rows.take()
    assert len(hand) == 52  # every level column when this example was written
    for c in GOLD_COLUMNS:
        a, b = fast.columns[c.name], ref.columns[c.name]
        va = a.values() if isinstance(a, Coded) else a.tolist()
        vb = b.values() if isinstance(b, Coded) else b.tolist()
        ma = fast.valid.get(c.name, np.ones(1, dtype=bool)).tolist()
        mb = ref.valid.get(c.name, np.ones(1, dtype=bool)).tolist()
        assert ma == mb, c.name
        assert [v if m else None for v, m in zip(va, ma, strict=True)] == [
            v if m else None for v, m in zip(vb, mb, strict=True)
        ], c.name
