"""Per-level EWMA smoothing with a time constant, SPEC §5.6.

``α = 1 − exp(−dt/τ)`` makes the smoothing depend on elapsed event time, not on how many samples
arrived, so a level that drops out of the active band and comes back decays correctly.

Missing inputs: ``None`` or a non-finite ``x`` (NaN, ±inf) is *no sample*: the previous EWMA is
returned unchanged (value and timestamp), so the next real sample's dt spans the gap. With no
previous sample the result stays ``None``. A sample not later than the previous one (dt <= 0)
gets α = 0: the value is unchanged, the timestamp stays the later of the two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engines.contract.config import NS_PER_S, EngineConfig


@dataclass(frozen=True)
class Ewma:
    """One smoothed metric of one level: current value and the ts of its last sample."""

    value: float
    last_ts_ns: int


def ewma_update(
    prev: Ewma | None, x: float | None, ts_ns: int, tau_s: float, cap_s: float
) -> Ewma | None:
    """Fold sample ``x`` at ``ts_ns``; first sample sets the value; dt capped at ``cap_s``."""
    if x is None or not math.isfinite(x):
        return prev
    x = float(x)
    if prev is None:
        return Ewma(value=x, last_ts_ns=int(ts_ns))
    dt_ns = int(ts_ns) - prev.last_ts_ns
    if dt_ns <= 0:
        return prev
    dt_s = min(dt_ns / NS_PER_S, cap_s)
    alpha = 1.0 - math.exp(-dt_s / tau_s)
    return Ewma(value=alpha * x + (1.0 - alpha) * prev.value, last_ts_ns=int(ts_ns))


def ewma_value(e: Ewma | None) -> float | None:
    """The smoothed value, or None before the first sample."""
    return None if e is None else e.value


@dataclass(frozen=True)
class LevelSmoothers:
    """The five smoothed metrics of one level (state lives per level id for the session)."""

    score: Ewma | None = None
    velocity: Ewma | None = None
    delta_liq: Ewma | None = None
    replenishment: Ewma | None = None
    dealer_gamma: Ewma | None = None


def update_smoothers(
    cfg: EngineConfig,
    prev: LevelSmoothers | None,
    ts_ns: int,
    score: float | None,
    velocity: float | None,
    delta_liq: float | None,
    replenishment: float | None,
    dealer_gamma: float | None,
) -> LevelSmoothers:
    """Update all five EWMAs of one level at one snap, each with its own τ (SPEC §5.6)."""
    p = prev if prev is not None else LevelSmoothers()
    cap = cfg.ewma_dt_cap_s
    return LevelSmoothers(
        score=ewma_update(p.score, score, ts_ns, cfg.tau_score_s, cap),
        velocity=ewma_update(p.velocity, velocity, ts_ns, cfg.tau_velocity_s, cap),
        delta_liq=ewma_update(p.delta_liq, delta_liq, ts_ns, cfg.tau_delta_liq_s, cap),
        replenishment=ewma_update(
            p.replenishment, replenishment, ts_ns, cfg.tau_replenishment_s, cap
        ),
        dealer_gamma=ewma_update(p.dealer_gamma, dealer_gamma, ts_ns, cfg.tau_dealer_gamma_s, cap),
    )
