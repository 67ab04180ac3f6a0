"""Level universe, SPEC §5.7 and §5.11: which price levels exist at a snap, and which are active.

Every level has a stable string id: ``KIND_<price>`` for price-anchored kinds (``ROUND_6870``,
``STRIKE_6872.5``, ``USER_6900``) and the bare kind for moving ones (``VWAP``, ``SMA_200``,
``CALL_WALL``). Prices in ids are index points with no trailing zeros, formatted from the int64
units with integer arithmetic (never float formatting), so 6872.25 is always ``6872.25``.

Range policy (a decision; SPEC §5.7 says "every level is an obstacle for runway"):

* ROUND and STRIKE are *grids* and are limited to the closed range ``|spot − L| <= universe_range``
  (otherwise they would be unbounded).
* Moving levels (VWAP, session / PM / OR extremes, SMAs, PDH/PDL/PDC), USER levels and the Fuel
  levels (CALL_WALL / PUT_WALL / GAMMA_FLIP, already limited by Fuel's own whole-range view) are
  kept wherever they are, so runway sees them as obstacles even when they are far away.

Levels at one price with different ids are different levels (VWAP and ROUND_6870 at 6870 both
exist). The universe is sorted by (price, id); ids are unique.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.contract.config import PRICE_SCALE, EngineConfig, points_to_units
from engines.physics.fuel import FuelWalls
from engines.state.session_context import CONTEXT_KINDS, SessionContext

ROUND = "ROUND"
STRIKE = "STRIKE"
USER = "USER"
CALL_WALL = "CALL_WALL"
PUT_WALL = "PUT_WALL"
GAMMA_FLIP = "GAMMA_FLIP"
ANCHORED_KINDS = (ROUND, STRIKE, USER)  # id = kind + "_" + price
MOVING_KINDS = CONTEXT_KINDS + (CALL_WALL, PUT_WALL, GAMMA_FLIP)  # id = kind; SMA_<period> follow

WallsLike = tuple[int | None, int | None, int | None] | FuelWalls


@dataclass(frozen=True, eq=False)
class Universe:
    """Levels at one snap as aligned columns, sorted by (price, id)."""

    price: np.ndarray  # int64 (n,) units
    id: tuple[str, ...]
    kind: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.price.shape[0])

    def select(self, mask: np.ndarray) -> Universe:
        """Sub-universe of the rows where ``mask`` is true (order kept)."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        return Universe(
            price=self.price[idx],
            id=tuple(self.id[i] for i in idx),
            kind=tuple(self.kind[i] for i in idx),
        )


def format_points(units: int) -> str:
    """Index points of an int64 unit price, shortest exact decimal: 6872500000000 -> '6872.5'."""
    u = int(units)
    sign = "-" if u < 0 else ""
    whole, frac = divmod(abs(u), PRICE_SCALE)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:09d}".rstrip("0")


def level_id(kind: str, units: int) -> str:
    """Id of a price-anchored level: ``ROUND_6870``, ``STRIKE_6872.5``."""
    return f"{kind}_{format_points(units)}"


def round_levels(cfg: EngineConfig, spot_px: int) -> np.ndarray:
    """Multiples of ``round_spacing`` with ``|spot − L| <= universe_range`` (int64 units)."""
    step = cfg.round_spacing_units
    rng = cfg.universe_range_units
    lo = int(spot_px) - rng
    hi = int(spot_px) + rng
    first = -((-lo) // step) * step  # ceil to a multiple
    last = (hi // step) * step  # floor to a multiple
    if first > last:
        return np.zeros(0, dtype=np.int64)
    return np.arange(first, last + 1, step, dtype=np.int64)


def _walls(fuel_walls: WallsLike) -> tuple[int | None, int | None, int | None]:
    if isinstance(fuel_walls, FuelWalls):
        return fuel_walls.call_wall_px, fuel_walls.put_wall_px, fuel_walls.gamma_flip_px
    call, put, flip = fuel_walls
    return call, put, flip


def build_universe(
    cfg: EngineConfig,
    ctx: SessionContext,
    t_ns: int,
    spot_px: int,
    strikes_with_volume: np.ndarray,
    fuel_walls: WallsLike,
) -> Universe:
    """All levels at snap T around ``spot_px``; see the module docstring for the range policy.

    ``strikes_with_volume``: int64 units, strikes of in-scope options with session volume >= 1
    (duplicates allowed). ``fuel_walls``: ``(call_wall_px, put_wall_px, gamma_flip_px)`` or a
    ``FuelWalls``; None entries are absent levels.
    """
    spot = int(spot_px)
    rng = cfg.universe_range_units
    rows: list[tuple[int, str, str]] = []

    for px in round_levels(cfg, spot).tolist():
        rows.append((px, level_id(ROUND, px), ROUND))

    ks = np.unique(np.asarray(strikes_with_volume, dtype=np.int64))
    ks = ks[np.abs(ks - spot) <= rng]
    for px in ks.tolist():
        rows.append((px, level_id(STRIKE, px), STRIKE))

    for name, px in ctx.levels(t_ns):
        rows.append((px, name, name))

    for px in sorted({points_to_units(p) for p in cfg.user_levels}):
        rows.append((px, level_id(USER, px), USER))

    call, put, flip = _walls(fuel_walls)
    for name, wpx in ((CALL_WALL, call), (PUT_WALL, put), (GAMMA_FLIP, flip)):
        if wpx is not None:
            rows.append((int(wpx), name, name))

    rows.sort(key=lambda r: (r[0], r[1]))
    return Universe(
        price=np.array([r[0] for r in rows], dtype=np.int64),
        id=tuple(r[1] for r in rows),
        kind=tuple(r[2] for r in rows),
    )


def active_mask(cfg: EngineConfig, universe: Universe, spot_px: int) -> np.ndarray:
    """Levels within the monitor band of spot: ``|spot − L| <= monitor_band`` (closed)."""
    return np.abs(universe.price - np.int64(spot_px)) <= cfg.monitor_band_units
