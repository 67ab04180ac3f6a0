"""LevelSignalService (SPEC §5.9): one snap = universe → active levels → every engine → rows.

Pure: ``score_snap(cfg, inputs, state) -> (SnapResult, state')``. The driver (replay or live) owns
the state between snaps and folds events into MarketState, Fuel and the session context before
calling it; this function reads them and never mutates them. Per-level state (trigger, EWMAs,
touches) is keyed by level id — one state machine per level, never shared.

Approach context (SPEC §5.9, details decided here, see docs/decisions.md): spot is sampled at
every snap into a ring covering ``approach_window_s`` (600 s); ``approach_velocity`` is how fast the
distance to the level shrank over that window, in points per minute (positive = approaching);
``approach_bars`` counts consecutive 1-minute steps, newest first, in which the distance shrank;
``prior_touches`` counts earlier entries of spot into ``[L − touch_band, L + touch_band]``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engines.columns.gold_columns import LEVEL_COLUMNS, PY_TYPES
from engines.contract.config import PRICE_SCALE, EngineConfig
from engines.contract.events import OptionDefinitions
from engines.physics.barrier import compute_barrier
from engines.physics.fuel import FuelState, GammaView, compute_fuel, fuel_walls, snap_gamma
from engines.physics.level_universe import Universe, active_mask, build_universe
from engines.physics.room_to_run import runway
from engines.physics.score import break_direction, break_score, confidence_label
from engines.physics.smoothing import LevelSmoothers, ewma_value, update_smoothers
from engines.physics.tape import compute_tape
from engines.physics.trigger import TriggerState, step_trigger
from engines.state.market_state import MarketState
from engines.state.session_context import SessionContext

NO_SPOT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class LevelState:
    """Everything one level id carries from snap to snap."""

    trigger: TriggerState | None = None
    smoothers: LevelSmoothers | None = None
    last_scored_ts: int | None = None
    touches: int = 0
    in_touch: bool = False


@dataclass(frozen=True)
class ServiceState:
    """Session-long state of the service: per-level states and the spot ring."""

    levels: dict[str, LevelState] = field(default_factory=dict)
    spot_ring: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    snaps_seen: int = 0
    stale_book_snaps: int = 0
    unscored_snaps: int = 0

    @staticmethod
    def create(cfg: EngineConfig) -> ServiceState:
        n = cfg.window_buckets(cfg.approach_window_s) + 1
        return ServiceState(spot_ring=np.full(n, NO_SPOT, dtype=np.int64))


LevelRow = dataclasses.make_dataclass(
    "LevelRow",
    [
        (c.name, f"{PY_TYPES[c.type]} | None" if c.nullable else PY_TYPES[c.type])
        for c in LEVEL_COLUMNS
    ],
    frozen=True,
)
LevelRow.__module__ = __name__  # picklable by name, like a class statement
LevelRow.__doc__ = """One level of one payload, flattened: the Gold row minus the per-snap columns.

Its fields are the ``level`` columns of the Gold column table
(``engines/columns/gold_columns.py``)."""


@dataclass(frozen=True)
class SnapResult:
    """One snap's output; ``rows`` empty when no valid book exists yet."""

    ts_ns: int
    snap_index: int
    spot_px: int | None
    bid_px: int | None
    ask_px: int | None
    rows: tuple[Any, ...]  # LevelRow


@dataclass(frozen=True)
class SnapInputs:
    """What the driver has folded up to this snap (read only)."""

    ts_ns: int
    snap_index: int
    market: MarketState
    fuel: FuelState
    options: OptionDefinitions
    scope: np.ndarray
    context: SessionContext


def _push_spot(ring: np.ndarray, spot: int | None) -> np.ndarray:
    out = np.empty_like(ring)
    out[:-1] = ring[1:]
    out[-1] = NO_SPOT if spot is None else spot
    return out


def _approach(cfg: EngineConfig, ring: np.ndarray, level_px: int) -> tuple[float, int]:
    """(points/min shrink of |spot − L| over the window, consecutive shrinking minutes)."""
    per_min = cfg.window_buckets(60)
    now = int(ring[-1])
    d_now = abs(now - level_px)
    valid = np.flatnonzero(ring != NO_SPOT)
    first = int(valid[0])
    steps = ring.shape[0] - 1 - first
    vel = 0.0
    if steps > 0:
        minutes = steps / per_min
        vel = (abs(int(ring[first]) - level_px) - d_now) / PRICE_SCALE / minutes
    bars = 0
    i = ring.shape[0] - 1
    while i - per_min >= 0 and ring[i - per_min] != NO_SPOT:
        if abs(int(ring[i]) - level_px) < abs(int(ring[i - per_min]) - level_px):
            bars += 1
            i -= per_min
        else:
            break
    return vel, bars


def _note(barrier_state: str, fuel_effect: str, sweep_dir: str | None, signal: str) -> str:
    parts = [f"barrier {barrier_state}", f"fuel {fuel_effect}"]
    if sweep_dir is not None:
        parts.append(f"sweep {sweep_dir}")
    if signal != "NEUTRAL":
        parts.append(signal)
    return ", ".join(parts)


def score_snap(
    cfg: EngineConfig, inp: SnapInputs, state: ServiceState
) -> tuple[SnapResult, ServiceState]:
    """Score every active level at one snap (SPEC §5.9)."""
    ms = inp.market
    book = ms.book()
    spot = ms.spot() if book is not None else None
    ring = _push_spot(state.spot_ring, spot)
    if book is None or spot is None:
        st = dataclasses.replace(
            state,
            spot_ring=ring,
            snaps_seen=state.snaps_seen + 1,
            unscored_snaps=state.unscored_snaps + 1,
        )
        return SnapResult(inp.ts_ns, inp.snap_index, None, None, None, ()), st
    stale = 0 if ms.book_is_current else 1
    view = snap_gamma(cfg, inp.fuel, inp.options, inp.scope, spot, inp.ts_ns)
    walls = fuel_walls(cfg, view)
    strikes = view.strike[view.strike_volume >= 1]
    universe = build_universe(cfg, inp.context, inp.ts_ns, spot, strikes, walls)
    active = np.flatnonzero(active_mask(cfg, universe, spot))
    # processing order: by distance, then id (SPEC §5.9)
    order = sorted(
        active.tolist(), key=lambda i: (abs(int(universe.price[i]) - spot), universe.id[i])
    )
    levels = dict(state.levels)
    rows: list[Any] = []
    for i in order:
        row, levels[universe.id[i]] = _score_level(
            cfg, inp, view, universe, i, spot, book, ring, levels.get(universe.id[i])
        )
        rows.append(row)
    rows.sort(key=lambda r: (r.level_px, r.level_id))
    st = ServiceState(
        levels=levels,
        spot_ring=ring,
        snaps_seen=state.snaps_seen + 1,
        stale_book_snaps=state.stale_book_snaps + stale,
        unscored_snaps=state.unscored_snaps,
    )
    bid = int(book.bid_px[0])
    ask = int(book.ask_px[0])
    return SnapResult(inp.ts_ns, inp.snap_index, spot, bid, ask, tuple(rows)), st


def _score_level(
    cfg: EngineConfig,
    inp: SnapInputs,
    view: GammaView,
    universe: Universe,
    i: int,
    spot: int,
    book: object,
    ring: np.ndarray,
    prev: LevelState | None,
) -> tuple[Any, LevelState]:
    ms = inp.market
    level_px = int(universe.price[i])
    level_id = universe.id[i]
    prev = prev or LevelState()
    bar = compute_barrier(cfg, ms, level_px, spot)
    brk = break_direction(bar.direction)
    tape = compute_tape(cfg, ms, level_px, brk)
    fuel = compute_fuel(cfg, view, level_px)
    sc = break_score(
        cfg,
        bar.state,
        fuel.effect,
        tape.velocity,
        tape.imbalance,
        tape.sweep_direction,
        brk,
    )
    sm = update_smoothers(
        cfg,
        prev.smoothers,
        inp.ts_ns,
        sc.break_score_raw,
        tape.velocity,
        float(bar.delta_liq),
        bar.replenishment_ratio,
        fuel.net_dealer_gamma,
    )
    smooth = ewma_value(sm.score)
    smooth_score = sc.break_score_raw if smooth is None else smooth
    distance_units = abs(spot - level_px)
    trig, signal = step_trigger(
        cfg,
        prev.trigger,
        inp.ts_ns,
        smooth_score,
        distance_units,
        bar.state,
        tape.buy_vol + tape.sell_vol,
        prev.last_scored_ts,
        cfg.snap_ns,
    )
    rw = runway(
        cfg,
        level_px,
        level_id,
        bar.direction,
        signal,
        universe.price,
        universe.id,
        book.bid_px,  # type: ignore[attr-defined]
        book.bid_sz,  # type: ignore[attr-defined]
        book.ask_px,  # type: ignore[attr-defined]
        book.ask_sz,  # type: ignore[attr-defined]
    )
    in_touch = distance_units <= cfg.touch_band_units
    # A level not scored at the previous snap was outside the monitor band, so outside the touch
    # band too (touch_band <= monitor_band): its next entry is a new touch.
    was_in = prev.in_touch and prev.last_scored_ts == inp.ts_ns - cfg.snap_ns
    touches = prev.touches
    appr_vel, appr_bars = _approach(cfg, ring, level_px)
    row = LevelRow(
        level_id=level_id,
        level_kind=universe.kind[i],
        level_px=level_px,
        direction=bar.direction,
        distance_pts=distance_units / PRICE_SCALE,  # |spot − L|: the side is in direction
        barrier_state=bar.state,
        delta_liq=bar.delta_liq,
        delta_liq_smooth=ewma_value(sm.delta_liq),
        replenishment_ratio=bar.replenishment_ratio,
        replenishment_ratio_smooth=ewma_value(sm.replenishment),
        added=bar.added,
        canceled=bar.canceled,
        filled=bar.filled,
        defending_px=bar.defending_px,
        defending_sz=bar.defending_sz,
        churn=bar.churn,
        depth_in_zone=bar.depth_in_zone,
        barrier_confidence=bar.confidence,
        tape_imbalance=tape.imbalance,
        buy_vol=tape.buy_vol,
        sell_vol=tape.sell_vol,
        velocity=tape.velocity,
        velocity_smooth=ewma_value(sm.velocity),
        sweep_detected=tape.sweep_detected,
        sweep_direction=tape.sweep_direction,
        sweep_notional=tape.sweep_notional,
        sweep_prints=tape.sweep_prints,
        sweep_window_ms=tape.sweep_window_ms,
        tape_confidence=tape.confidence,
        fuel_effect=fuel.effect,
        net_dealer_gamma=fuel.net_dealer_gamma,
        net_dealer_gamma_smooth=ewma_value(sm.dealer_gamma),
        call_wall_px=fuel.call_wall_px,
        put_wall_px=fuel.put_wall_px,
        gamma_flip_px=fuel.gamma_flip_px,
        fuel_confidence=fuel.confidence,
        liquidity_score=sc.liquidity_score,
        hedge_score=sc.hedge_score,
        tape_score=sc.tape_score,
        break_score_raw=sc.break_score_raw,
        break_score_smooth=smooth_score,
        signal=signal,
        confidence=confidence_label(cfg, bar.confidence, tape.confidence, fuel.confidence),
        approach_velocity=appr_vel,
        approach_bars=appr_bars,
        prior_touches=touches,
        runway_direction=rw.runway_direction,
        next_obstacle_id=rw.next_obstacle_id,
        next_obstacle_px=rw.next_obstacle_px,
        runway_pts=rw.runway_pts,
        runway_quality=rw.runway_quality,
        note=_note(bar.state, fuel.effect, tape.sweep_direction, signal),
    )
    new = LevelState(
        trigger=trig,
        smoothers=sm,
        last_scored_ts=inp.ts_ns,
        touches=touches + (1 if in_touch and not was_in else 0),
        in_touch=in_touch,
    )
    return row, new
