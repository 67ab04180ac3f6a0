"""Composite break score, SPEC §5.5: three component scores (0–100) and their weighted sum.

Inputs are plain values (state strings, floats), so this module does not depend on the barrier,
tape or fuel dataclasses. Non-finite or ``None`` velocity / imbalance count as 0 (they cannot
"point the break way"). Unknown state strings are a programming error and raise ``ValueError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engines.contract.config import EngineConfig

UP = "UP"
DOWN = "DOWN"
HIGH = "HIGH"
MEDIUM = "MEDIUM"
LOW = "LOW"
CONFIDENCES = (HIGH, MEDIUM, LOW)

LIQUIDITY_SCORES: dict[str, float] = {
    "VACUUM": 100.0,
    "WEAK": 75.0,
    "CONSUMED": 60.0,
    "NEUTRAL": 50.0,
    "ABSORPTION": 0.0,
    "WALL": 0.0,
}
HEDGE_SCORES: dict[str, float] = {"AMPLIFY": 100.0, "NEUTRAL": 50.0, "DAMPEN": 0.0}


@dataclass(frozen=True)
class ScoreResult:
    """Component scores and the clamped raw break score of one level at one snap."""

    liquidity_score: float
    hedge_score: float
    tape_score: float
    break_score_raw: float


def break_direction(direction: str) -> str:
    """RESISTANCE breaks UP, SUPPORT breaks DOWN (SPEC §5.2)."""
    if direction == "RESISTANCE":
        return UP
    if direction == "SUPPORT":
        return DOWN
    raise ValueError(f"unknown level direction {direction!r}")


def _points_break_way(x: float | None, brk: str) -> bool:
    """Strict: > 0 for UP, < 0 for DOWN; None / NaN never points anywhere."""
    if x is None or not math.isfinite(x):
        return False
    return x > 0.0 if brk == UP else x < 0.0


def liquidity_score(barrier_state: str) -> float:
    try:
        return LIQUIDITY_SCORES[barrier_state]
    except KeyError:
        raise ValueError(f"unknown barrier state {barrier_state!r}") from None


def hedge_score(fuel_effect: str) -> float:
    try:
        return HEDGE_SCORES[fuel_effect]
    except KeyError:
        raise ValueError(f"unknown fuel effect {fuel_effect!r}") from None


def tape_score(
    cfg: EngineConfig,
    brk: str,
    velocity: float | None,
    imbalance: float | None,
    sweep_direction: str | None,
) -> float:
    """100 if the selected sweep points the break way; else velocity + imbalance, capped at 50."""
    if brk not in (UP, DOWN):
        raise ValueError(f"unknown break direction {brk!r}")
    if sweep_direction is not None and sweep_direction == brk:
        return 100.0
    s = 0.0
    if _points_break_way(velocity, brk):
        v = min(1.0, abs(float(velocity)) / cfg.velocity_full_scale)  # type: ignore[arg-type]
        s += 25.0 * v
    if _points_break_way(imbalance, brk):
        s += 25.0 * abs(float(imbalance))  # type: ignore[arg-type]
    return min(50.0, s)


def break_score(
    cfg: EngineConfig,
    barrier_state: str,
    fuel_effect: str,
    velocity: float | None,
    imbalance: float | None,
    sweep_direction: str | None,
    brk: str,
) -> ScoreResult:
    """``clamp(w_L·S_L + w_H·S_H + w_T·S_T, 0, 100)``, summed in that order."""
    s_l = liquidity_score(barrier_state)
    s_h = hedge_score(fuel_effect)
    s_t = tape_score(cfg, brk, velocity, imbalance, sweep_direction)
    raw = cfg.w_liquidity * s_l + cfg.w_hedge * s_h + cfg.w_tape * s_t
    raw = min(100.0, max(0.0, raw))
    return ScoreResult(liquidity_score=s_l, hedge_score=s_h, tape_score=s_t, break_score_raw=raw)


def confidence_label(
    cfg: EngineConfig, barrier_conf: float, tape_conf: float, fuel_conf: float
) -> str:
    """HIGH / MEDIUM / LOW from the mean of the three engine confidences (fixed order).

    The mean is rounded to 12 decimals so decimal boundaries land where a reader expects:
    (0.6 + 0.6 + 0.0) / 3 is 0.39999999999999997 in binary, yet it is MEDIUM (>= 0.4).
    """
    mean = round((barrier_conf + tape_conf + fuel_conf) / 3.0, 12)
    if mean >= cfg.confidence_high:
        return HIGH
    if mean >= cfg.confidence_medium:
        return MEDIUM
    return LOW
