"""Room to run, SPEC §5.8 and §5.11: how far price can travel past L before the next level.

Direction: UP for RESISTANCE, DOWN for SUPPORT, reversed when the signal is REJECT. The next
obstacle is the nearest level (any kind) strictly beyond L in that direction; ties in price go to
the smallest id. Quality is OBSTRUCTED when the opposing side of the visible book (asks for UP,
bids for DOWN) shows at least ``obstacle_depth`` contracts at any one price in the closed interval
``[L, obstacle]``, else CLEAR.

No obstacle (nothing beyond L in the universe): ``runway_pts`` is None and the quality reads the
whole visible book beyond L on the opposing side (``[L, +inf)`` for UP, ``(-inf, L]`` for DOWN),
so a big resting order still marks the path as obstructed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engines.contract.config import PRICE_SCALE, EngineConfig
from engines.contract.events import UNDEF_PRICE

UP = "UP"
DOWN = "DOWN"
CLEAR = "CLEAR"
OBSTRUCTED = "OBSTRUCTED"
RUNWAY_DIRECTIONS = (UP, DOWN)
RUNWAY_QUALITIES = (CLEAR, OBSTRUCTED)


@dataclass(frozen=True)
class Runway:
    """Runway of one level at one snap."""

    runway_direction: str  # UP | DOWN
    next_obstacle_id: str | None
    next_obstacle_px: int | None  # int64 units
    runway_pts: float | None  # |obstacle − L| in points
    runway_quality: str  # CLEAR | OBSTRUCTED


def runway_direction(direction: str, signal: str) -> str:
    """UP for RESISTANCE, DOWN for SUPPORT; reversed under REJECT."""
    if direction == "RESISTANCE":
        d = UP
    elif direction == "SUPPORT":
        d = DOWN
    else:
        raise ValueError(f"unknown level direction {direction!r}")
    if signal == "REJECT":
        d = DOWN if d == UP else UP
    return d


def _max_size_in(px: np.ndarray, sz: np.ndarray, lo: int | None, hi: int | None) -> int:
    """Largest visible size at one price in [lo, hi] (None = unbounded); empty levels ignored."""
    px = np.asarray(px, dtype=np.int64)
    sz = np.asarray(sz, dtype=np.int64)
    m = (px != UNDEF_PRICE) & (sz > 0)
    if lo is not None:
        m &= px >= lo
    if hi is not None:
        m &= px <= hi
    return int(sz[m].max()) if m.any() else 0


def runway(
    cfg: EngineConfig,
    level_px: int,
    level_id: str,
    direction: str,
    signal: str,
    levels_px: np.ndarray,
    levels_id: Sequence[str],
    bid_px: np.ndarray,
    bid_sz: np.ndarray,
    ask_px: np.ndarray,
    ask_sz: np.ndarray,
) -> Runway:
    """Next obstacle beyond L and whether the book between them is obstructed.

    ``levels_px`` (int64 units) must be sorted ascending with ``levels_id`` aligned (the universe
    order (price, id) satisfies this); L's own entry is never beyond itself.
    """
    d = runway_direction(direction, signal)
    lp = np.asarray(levels_px, dtype=np.int64)
    obs_px: int | None = None
    obs_id: str | None = None
    if d == UP:
        i = int(np.searchsorted(lp, level_px, side="right"))
        if i < lp.shape[0]:
            obs_px = int(lp[i])
    else:
        i = int(np.searchsorted(lp, level_px, side="left")) - 1
        if i >= 0:
            obs_px = int(lp[i])
    if obs_px is not None:
        a = int(np.searchsorted(lp, obs_px, side="left"))
        b = int(np.searchsorted(lp, obs_px, side="right"))
        obs_id = min(levels_id[a:b])

    if d == UP:
        depth = _max_size_in(ask_px, ask_sz, level_px, obs_px)
    else:
        depth = _max_size_in(bid_px, bid_sz, obs_px, level_px)
    quality = OBSTRUCTED if depth >= cfg.obstacle_depth else CLEAR
    pts = None if obs_px is None else abs(obs_px - level_px) / PRICE_SCALE
    return Runway(
        runway_direction=d,
        next_obstacle_id=obs_id,
        next_obstacle_px=obs_px,
        runway_pts=pts,
        runway_quality=quality,
    )
