"""Tape (momentum) engine, SPEC §5.3/§5.11: does aggressive flow near a level push through it?

Band volumes come from MarketState's running W_t sums over the closed band ``[L - b, L + b]``;
velocity and sweeps are level-independent state (recent prints, incrementally tracked sweep
clusters) that MarketState keeps, so a level costs O(prices in band + sweeps in window).
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.contract.config import PRICE_SCALE, EngineConfig
from engines.contract.events import SIDE_BID
from engines.physics.score import DOWN, UP
from engines.state.market_state import MarketState

SWEEP_DIRECTIONS = (UP, DOWN)  # UP: buy aggressors (B), DOWN: sell aggressors (A)


@dataclass(frozen=True)
class TapeMetrics:
    """Tape output for one level at one snap; sweep fields are None when no sweep is selected."""

    band_lo: int
    band_hi: int
    buy_vol: int
    sell_vol: int
    imbalance: float
    velocity: float  # points per second
    sweep_detected: bool
    sweep_direction: str | None  # "UP" (B aggressor) | "DOWN" (A aggressor)
    sweep_notional: float | None  # USD: Σ px·size·multiplier
    sweep_prints: int | None
    sweep_size: int | None
    sweep_window_ms: float | None  # first to last print
    sweep_with_break: bool  # the selected sweep points the break direction (strict)
    confidence: float


def compute_tape(
    cfg: EngineConfig, ms: MarketState, level_px: int, break_direction: str
) -> TapeMetrics:
    """Tape metrics for ``level_px``; ``break_direction`` (UP/DOWN) only sets sweep_with_break."""
    if break_direction not in SWEEP_DIRECTIONS:
        raise ValueError(f"break_direction must be 'UP' or 'DOWN', not {break_direction!r}")
    level_px = int(level_px)
    b = cfg.tape_band_units
    lo, hi = level_px - b, level_px + b
    buy, sell = ms.window_trades(lo, hi, cfg.window_buckets(cfg.tape_window_s))
    tot = buy + sell
    imbalance = 0.0 if tot == 0 else (buy - sell) / tot
    sweep = ms.best_sweep(lo, hi)
    if sweep is None:
        s_dir = None
        s_notional = None
        s_prints = None
        s_size = None
        s_window = None
        with_break = False
    else:
        s_dir = UP if sweep.side == SIDE_BID else DOWN
        # exact integer numerator, one correctly rounded division
        s_notional = sweep.notional_units * cfg.contract_multiplier / PRICE_SCALE
        s_prints = sweep.num_prints
        s_size = sweep.size
        s_window = (sweep.end_ns - sweep.start_ns) / 1e6
        with_break = s_dir == break_direction
    return TapeMetrics(
        band_lo=lo,
        band_hi=hi,
        buy_vol=buy,
        sell_vol=sell,
        imbalance=imbalance,
        velocity=ms.velocity(),
        sweep_detected=sweep is not None,
        sweep_direction=s_dir,
        sweep_notional=s_notional,
        sweep_prints=s_prints,
        sweep_size=s_size,
        sweep_window_ms=s_window,
        sweep_with_break=with_break,
        confidence=min(1.0, tot / cfg.tape_confidence_volume),
    )
