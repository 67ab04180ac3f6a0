"""Break score: component tables, tape rules (strict direction), weights, clamp, confidence."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.contract.config import EngineConfig
from engines.physics.score import (
    break_direction,
    break_score,
    confidence_label,
    hedge_score,
    liquidity_score,
    tape_score,
)

CFG = EngineConfig()


def test_component_tables() -> None:
    assert [liquidity_score(s) for s in ("VACUUM", "WEAK", "CONSUMED", "NEUTRAL")] == [
        100.0,
        75.0,
        60.0,
        50.0,
    ]
    assert liquidity_score("ABSORPTION") == 0.0 and liquidity_score("WALL") == 0.0
    assert [hedge_score(e) for e in ("AMPLIFY", "NEUTRAL", "DAMPEN")] == [100.0, 50.0, 0.0]
    with pytest.raises(ValueError):
        liquidity_score("PULLED")
    assert break_direction("RESISTANCE") == "UP" and break_direction("SUPPORT") == "DOWN"


def test_tape_score_rules() -> None:
    # sweep in the break direction: 100 whatever else
    assert tape_score(CFG, "UP", -1.0, -1.0, "UP") == 100.0
    # sweep against: falls back to velocity/imbalance; v = min(1, 0.25/0.5) = 0.5 => 25·0.5 = 12.5;
    # imbalance 0.4 => 25·0.4 = 10 => 22.5
    assert tape_score(CFG, "UP", 0.25, 0.4, "DOWN") == 22.5
    # DOWN break: velocity −1.0 => v = 1 => 25; imbalance −1 => 25; sum 50 (cap 50)
    assert tape_score(CFG, "DOWN", -1.0, -1.0, None) == 50.0
    # wrong way contributes nothing: velocity +1 for DOWN, imbalance −0.6 => 25·0.6 = 15
    assert math.isclose(tape_score(CFG, "DOWN", 1.0, -0.6, None), 15.0)
    # strict: exactly 0 points nowhere
    assert tape_score(CFG, "UP", 0.0, 0.0, None) == 0.0
    assert tape_score(CFG, "DOWN", float("nan"), None, None) == 0.0


def test_break_score_by_hand() -> None:
    # VACUUM 100, AMPLIFY 100, tape 22.5: 0.45·100 + 0.35·100 + 0.20·22.5 = 45 + 35 + 4.5 = 84.5
    r = break_score(CFG, "VACUUM", "AMPLIFY", 0.25, 0.4, None, "UP")
    assert (r.liquidity_score, r.hedge_score, r.tape_score) == (100.0, 100.0, 22.5)
    assert math.isclose(r.break_score_raw, 84.5)
    # WALL 0, DAMPEN 0, tape 0 => 0
    assert break_score(CFG, "WALL", "DAMPEN", -1.0, -1.0, "DOWN", "UP").break_score_raw == 0.0
    # Everything maxed: 45 + 35 + 20 = 100 (clamped, never above)
    assert break_score(CFG, "VACUUM", "AMPLIFY", 0, 0, "UP", "UP").break_score_raw == 100.0
    # Weights from config: all-liquidity weight 1 with NEUTRAL barrier => 50
    heavy = EngineConfig(w_liquidity=1.0, w_hedge=1.0, w_tape=1.0)
    # 100 + 100 + 100 = 300, clamped to 100
    assert break_score(heavy, "VACUUM", "AMPLIFY", 0, 0, "UP", "UP").break_score_raw == 100.0


def test_confidence_label() -> None:
    assert confidence_label(CFG, 1.0, 1.0, 0.2) == "HIGH"  # mean 2.2/3 = 0.733
    assert confidence_label(CFG, 0.6, 0.6, 0.0) == "MEDIUM"  # mean 1.2/3 = 0.4 (not 0.3999..)
    assert confidence_label(CFG, 0.7, 0.7, 0.7) == "HIGH"  # mean 2.1/3 = 0.7 (not 0.6999..)
    assert confidence_label(CFG, 0.3, 0.3, 0.3) == "LOW"  # mean 0.3


@settings(max_examples=300, deadline=None)
@given(
    barrier=st.sampled_from(["VACUUM", "WEAK", "CONSUMED", "NEUTRAL", "ABSORPTION", "WALL"]),
    fuel=st.sampled_from(["AMPLIFY", "NEUTRAL", "DAMPEN"]),
    velocity=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    imbalance=st.one_of(st.none(), st.floats(-1.0, 1.0)),
    sweep=st.sampled_from([None, "UP", "DOWN"]),
    brk=st.sampled_from(["UP", "DOWN"]),
    w=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)),
)
def test_score_always_in_range(barrier, fuel, velocity, imbalance, sweep, brk, w) -> None:  # type: ignore[no-untyped-def]
    cfg = EngineConfig(w_liquidity=w[0], w_hedge=w[1], w_tape=w[2])
    r = break_score(cfg, barrier, fuel, velocity, imbalance, sweep, brk)
    assert 0.0 <= r.break_score_raw <= 100.0
    assert 0.0 <= r.tape_score <= 100.0
