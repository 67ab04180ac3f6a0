"""Barrier (liquidity) engine, SPEC §5.2: is displayed depth at a level pulled, eaten or refilled?

Reads MarketState's running window sums over the zone ``[L - z, L + z]`` (a closed price
interval, so off-tick levels such as VWAP work unchanged) on the defending side, and the quoted
book for the depth still resting there. Integer flow in, one float ratio out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.contract.config import EngineConfig
from engines.contract.events import UNDEF_PRICE
from engines.state.market_state import MarketState

SUPPORT = "SUPPORT"
RESISTANCE = "RESISTANCE"

CONSUMED = "CONSUMED"
VACUUM = "VACUUM"
WALL = "WALL"
ABSORPTION = "ABSORPTION"
WEAK = "WEAK"
NEUTRAL = "NEUTRAL"
BARRIER_STATES = (CONSUMED, VACUUM, WALL, ABSORPTION, WEAK, NEUTRAL)
DIRECTIONS = (SUPPORT, RESISTANCE)  # the level's side of spot


@dataclass(frozen=True)
class BarrierMetrics:
    """Barrier output for one level at one snap (int64 units and contracts; floats are ratios)."""

    direction: str  # SUPPORT (defending bid, break DOWN) | RESISTANCE (defending ask, break UP)
    defending_side: str  # "bid" | "ask"
    break_direction: str  # "DOWN" | "UP"
    zone_lo: int
    zone_hi: int
    added: int
    canceled: int
    filled: int
    delta_liq: int
    replenishment_ratio: float
    churn: int
    depth_in_zone: int
    defending_px: int | None  # best price on the defending side of the quoted book
    defending_sz: int | None
    state: str
    confidence: float


def classify_barrier(
    cfg: EngineConfig, delta_liq: int, filled: int, canceled: int, ratio: float, depth: int
) -> str:
    """SPEC §5.2 state rules, first match wins (kept separate so the rules read as written)."""
    f = cfg.flow_threshold
    if delta_liq < -f and filled > canceled:
        return CONSUMED
    if delta_liq < -f and ratio < cfg.r_vac:
        return VACUUM
    if delta_liq > f and ratio > cfg.r_wall:
        return WALL
    if filled >= f and delta_liq >= 0:
        return ABSORPTION
    if depth < cfg.weak_depth:
        return WEAK
    return NEUTRAL


def compute_barrier(
    cfg: EngineConfig, ms: MarketState, level_px: int, spot_px: int
) -> BarrierMetrics:
    """Barrier metrics for level ``level_px`` given ``spot_px`` at the state's current snap."""
    level_px = int(level_px)
    support = int(spot_px) > level_px  # spot == L is RESISTANCE (SPEC §5.11)
    side = "bid" if support else "ask"
    z = cfg.zone_units
    lo, hi = level_px - z, level_px + z
    added, canceled, filled = ms.window_depth(
        side, lo, hi, cfg.window_buckets(cfg.barrier_window_s)
    )
    delta_liq = added - canceled - filled
    ratio = added / (canceled + filled + 1)
    churn = added + canceled + filled
    depth = 0
    d_px: int | None = None
    d_sz: int | None = None
    book = ms.book()
    if book is not None:
        px = book.bid_px if support else book.ask_px
        sz = book.bid_sz if support else book.ask_sz
        live = (px != UNDEF_PRICE) & (sz > 0)
        depth = int(np.sum(sz[live & (px >= lo) & (px <= hi)]))
        d_px, d_sz = int(px[0]), int(sz[0])
    return BarrierMetrics(
        direction=SUPPORT if support else RESISTANCE,
        defending_side=side,
        break_direction="DOWN" if support else "UP",
        zone_lo=lo,
        zone_hi=hi,
        added=added,
        canceled=canceled,
        filled=filled,
        delta_liq=delta_liq,
        replenishment_ratio=ratio,
        churn=churn,
        depth_in_zone=depth,
        defending_px=d_px,
        defending_sz=d_sz,
        state=classify_barrier(cfg, delta_liq, filled, canceled, ratio, depth),
        confidence=min(1.0, churn / cfg.barrier_confidence_churn),
    )
