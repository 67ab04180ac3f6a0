"""Fuel (dealer gamma) engine, SPEC §5.4: signed option flow -> dealer inventory -> gamma exposure.

Three steps with different cadences, so that the expensive work is done once:

* ``fold_option_trades`` (per event batch): dealer position, session volume and the last good
  implied vol per option instrument. Customer B (bought) => dealer −size, A => +size, N => 0.
* ``snap_gamma`` (once per snap): Black-76 gamma of every in-scope instrument at the current spot,
  ``GEX_i = position_i × gamma_i`` (ES-contract equivalents per point), sorted by
  (strike, right, instrument_id) with calls before puts, plus per-strike aggregates.
* ``compute_fuel`` (per level) and ``fuel_walls`` (per snap, for the level universe): slices of
  that view.

Float sums are sequential loops in (strike, right, instrument_id) order (numba kernels), never
numpy's pairwise reductions, so the bits do not depend on array length or alignment.

Gamma flip: returned as int64 fixed-point units, *floored* to a unit (like VWAP in §5.11). Strikes
whose per-strike GEX is exactly 0.0 (no inventory) carry no sign and are skipped; the flip is
interpolated between the two non-zero neighbouring strikes whose signs differ.
Walls: strictly above L (call wall) / strictly below L (put wall); ties go to the strike nearest L.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import numpy as np
from numba import njit

from engines.contract.config import PRICE_SCALE, EngineConfig
from engines.contract.events import SIDE_ASK, SIDE_BID, OptionDefinitions, OptionTradeBatch
from engines.physics import black76

CHICAGO = ZoneInfo("America/Chicago")

AMPLIFY = "AMPLIFY"
DAMPEN = "DAMPEN"
NEUTRAL = "NEUTRAL"
FUEL_EFFECTS = (AMPLIFY, DAMPEN, NEUTRAL)


@dataclass(frozen=True, eq=False)
class FuelState:
    """Per option instrument session state, aligned with ``OptionDefinitions`` (sorted by id).

    Arrays are never mutated in place: ``fold_option_trades`` returns new arrays.
    """

    position: np.ndarray  # int64 (m,) cumulative dealer position, contracts
    last_iv: np.ndarray  # float64 (m,) last good implied vol (init default_iv)
    volume: np.ndarray  # int64 (m,) session traded volume, contracts
    bad_iv: np.ndarray  # int64 (m,) trades whose price gave no IV (out of band / no mid / expired)
    unknown_trades: int  # trades whose instrument_id is not in the definitions (excluded)


@dataclass(frozen=True, eq=False)
class GammaView:
    """Gamma exposure of the in-scope options at one snap, computed once and sliced per level.

    ``inst_*`` arrays are sorted by (strike, right [call first], instrument_id); ``strike*``
    arrays hold one entry per distinct strike, ascending, each a sequential sum of its instruments.
    """

    spot_units: int
    ts_ns: int
    inst_id: np.ndarray  # int64 (n,)
    inst_strike: np.ndarray  # int64 (n,)
    inst_is_call: np.ndarray  # bool (n,)
    inst_gamma: np.ndarray  # float64 (n,) Black-76 gamma per point per contract
    inst_gex: np.ndarray  # float64 (n,) position × gamma
    inst_volume: np.ndarray  # int64 (n,)
    strike: np.ndarray  # int64 (s,) distinct strikes ascending
    strike_gex: np.ndarray  # float64 (s,) all rights
    strike_call_gex: np.ndarray  # float64 (s,)
    strike_put_gex: np.ndarray  # float64 (s,)
    strike_volume: np.ndarray  # int64 (s,)


@dataclass(frozen=True)
class FuelMetrics:
    """Fuel outputs for one level at one snap (SPEC §5.4)."""

    effect: str  # AMPLIFY | DAMPEN | NEUTRAL
    net_dealer_gamma: float  # contracts per point over |K − L| <= fuel_strike_range
    call_wall_px: int | None  # int64 units
    put_wall_px: int | None  # int64 units
    gamma_flip_px: int | None  # int64 units, floored
    confidence: float
    volume_in_range: int


@dataclass(frozen=True)
class FuelWalls:
    """Whole-range view around spot (``universe_range``) for CALL_WALL / PUT_WALL / GAMMA_FLIP."""

    call_wall_px: int | None
    put_wall_px: int | None
    gamma_flip_px: int | None


# ---------------------------------------------------------------------------------------------
# numba kernels: sequential sums in array order


@njit(cache=True)
def _segment_sums(values, starts, out):  # type: ignore[no-untyped-def]
    n = values.shape[0]
    s = starts.shape[0]
    for j in range(s):
        a = starts[j]
        b = starts[j + 1] if j + 1 < s else n
        acc = 0.0
        for i in range(a, b):
            acc += values[i]
        out[j] = acc


@njit(cache=True)
def _seq_sum(values, a, b):  # type: ignore[no-untyped-def]
    acc = 0.0
    for i in range(a, b):
        acc += values[i]
    return acc


def _segment_sum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    out = np.zeros(starts.shape[0], dtype=np.float64)
    if starts.shape[0]:
        _segment_sums(np.ascontiguousarray(values, dtype=np.float64), starts, out)
    return out


# ---------------------------------------------------------------------------------------------
# state folding


def empty_fuel_state(cfg: EngineConfig, defs: OptionDefinitions) -> FuelState:
    """Session start: flat inventory, every IV at ``default_iv``."""
    m = len(defs)
    return FuelState(
        position=np.zeros(m, dtype=np.int64),
        last_iv=np.full(m, cfg.default_iv, dtype=np.float64),
        volume=np.zeros(m, dtype=np.int64),
        bad_iv=np.zeros(m, dtype=np.int64),
        unknown_trades=0,
    )


def grow_fuel_state(
    cfg: EngineConfig, state: FuelState, old: OptionDefinitions, new: OptionDefinitions
) -> FuelState:
    """The state of a grown universe ``new`` (a superset of ``old``, both sorted by id): every
    known option keeps its inventory and IV, a new one starts flat at ``default_iv``."""
    grown = empty_fuel_state(cfg, new)
    at = np.searchsorted(new.instrument_id, old.instrument_id)
    for name in ("position", "last_iv", "volume", "bad_iv"):
        getattr(grown, name)[at] = getattr(state, name)
    return dataclasses.replace(grown, unknown_trades=state.unknown_trades)


def dealer_sign(side: np.ndarray) -> np.ndarray:
    """Dealer takes the other side of the customer aggressor: B => −1, A => +1, N => 0."""
    side = np.asarray(side)
    return np.where(side == SIDE_BID, -1, np.where(side == SIDE_ASK, 1, 0)).astype(np.int64)


def _last_index_per_key(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys and the position of each key's *last* occurrence (event order)."""
    rev = keys[::-1]
    uniq, first_in_rev = np.unique(rev, return_index=True)
    return uniq, keys.shape[0] - 1 - first_in_rev


def instrument_index(defs: OptionDefinitions, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each instrument_id in ``defs`` (sorted by id) and whether it is there."""
    ids = np.asarray(ids, dtype=np.int64)
    m = len(defs)
    idx = np.searchsorted(defs.instrument_id, ids)
    known = idx < m
    known[known] = defs.instrument_id[idx[known]] == ids[known]
    return idx, known


def trade_ivs(
    cfg: EngineConfig,
    defs: OptionDefinitions,
    k_idx: np.ndarray,
    ts: np.ndarray,
    prem: np.ndarray,
    mid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Black-76 IV of option trades (``k_idx`` into ``defs``); ok is False without a mid."""
    has_mid = mid > 0
    f_pts = mid.astype(np.float64) / PRICE_SCALE
    k_pts = defs.strike[k_idx].astype(np.float64) / PRICE_SCALE
    p_pts = prem.astype(np.float64) / PRICE_SCALE
    t_yr = (defs.expiration[k_idx] - ts).astype(np.float64) / black76.NS_PER_YEAR
    iv, ok = black76.implied_vol(
        p_pts,
        np.where(has_mid, f_pts, 0.0),  # F = 0 makes the solver report not-ok
        k_pts,
        t_yr,
        r=cfg.rate,
        is_call=defs.is_call[k_idx],
        lo=cfg.iv_low,
        hi=cfg.iv_high,
        iterations=cfg.iv_iterations,
    )
    ok = ok & has_mid
    return iv, ok


def fold_option_trades(
    cfg: EngineConfig,
    state: FuelState,
    defs: OptionDefinitions,
    trades: OptionTradeBatch,
    fut_mid: np.ndarray,
) -> FuelState:
    """Fold a batch of option trades (merged order) into the per-instrument state.

    ``fut_mid`` is the primary future's mid (int64 units) at each trade, −1 when the book was not
    two-sided yet. The IV solve is vectorised; the last ok IV of each instrument (in trade order)
    wins. Trades without a definition are only counted.
    """
    n = len(trades)
    if n == 0:
        return state
    fut_mid = np.asarray(fut_mid, dtype=np.int64)
    if fut_mid.shape[0] != n:
        raise ValueError(f"fut_mid has {fut_mid.shape[0]} entries for {n} option trades")
    idx, known = instrument_index(defs, trades.instrument_id)
    unknown = int(n - np.count_nonzero(known))
    if not known.any():
        return replace(state, unknown_trades=state.unknown_trades + unknown)

    k_idx = idx[known]
    size = np.asarray(trades.size, dtype=np.int64)[known]
    side = np.asarray(trades.side)[known]
    ts = np.asarray(trades.ts_recv, dtype=np.int64)[known]
    prem = np.asarray(trades.price, dtype=np.int64)[known]
    mid = fut_mid[known]

    position = state.position.copy()
    volume = state.volume.copy()
    bad_iv = state.bad_iv.copy()
    last_iv = state.last_iv.copy()
    # Integer scatter-adds are exact whatever order numpy applies them in.
    np.add.at(position, k_idx, dealer_sign(side) * size)
    np.add.at(volume, k_idx, size)

    iv, ok = trade_ivs(cfg, defs, k_idx, ts, prem, mid)
    np.add.at(bad_iv, k_idx[~ok], 1)
    if ok.any():
        inst, last_pos = _last_index_per_key(k_idx[ok])
        last_iv[inst] = iv[ok][last_pos]
    return FuelState(
        position=position,
        last_iv=last_iv,
        volume=volume,
        bad_iv=bad_iv,
        unknown_trades=state.unknown_trades + unknown,
    )


# ---------------------------------------------------------------------------------------------
# scope


def _chicago_midnight_ns(day: dt.date) -> int:
    """UTC ns of 00:00 America/Chicago on ``day`` (midnight is never inside a US DST jump)."""
    local = dt.datetime(day.year, day.month, day.day, tzinfo=CHICAGO)
    return calendar.timegm(local.utctimetuple()) * 1_000_000_000


def in_scope(cfg: EngineConfig, defs: OptionDefinitions, trade_date: dt.date) -> np.ndarray:
    """Options Fuel uses: ``0dte`` => expiring on ``trade_date`` (Chicago); ``all`` => every one."""
    if cfg.fuel_expiry == "all":
        return np.ones(len(defs), dtype=np.bool_)
    start = _chicago_midnight_ns(trade_date)
    end = _chicago_midnight_ns(trade_date + dt.timedelta(days=1))
    exp = np.asarray(defs.expiration, dtype=np.int64)
    return (exp >= start) & (exp < end)


# ---------------------------------------------------------------------------------------------
# per snap


def snap_gamma(
    cfg: EngineConfig,
    state: FuelState,
    defs: OptionDefinitions,
    scope_mask: np.ndarray,
    spot_units: int,
    ts_ns: int,
) -> GammaView:
    """Gamma and GEX of every in-scope instrument at spot, sorted for slicing by strike."""
    sel = np.flatnonzero(scope_mask)
    strike = defs.strike[sel].astype(np.int64)
    is_call = defs.is_call[sel].astype(np.bool_)
    inst_id = defs.instrument_id[sel].astype(np.int64)
    right = np.where(is_call, 0, 1)  # calls before puts
    order = np.lexsort((inst_id, right, strike))
    sel, strike, is_call, inst_id = sel[order], strike[order], is_call[order], inst_id[order]

    t_yr = (defs.expiration[sel] - np.int64(ts_ns)).astype(np.float64) / black76.NS_PER_YEAR
    if sel.shape[0]:
        gam = black76.gamma(
            float(spot_units) / PRICE_SCALE,
            strike.astype(np.float64) / PRICE_SCALE,
            t_yr,
            state.last_iv[sel],
            cfg.rate,
        )
    else:
        gam = np.zeros(0, dtype=np.float64)
    gex = state.position[sel].astype(np.float64) * gam
    volume = state.volume[sel].astype(np.int64)

    uniq, starts = np.unique(strike, return_index=True)
    starts = starts.astype(np.int64)
    if starts.shape[0]:
        strike_volume = np.add.reduceat(volume, starts).astype(np.int64)  # exact integer sums
    else:
        strike_volume = np.zeros(0, dtype=np.int64)
    return GammaView(
        spot_units=int(spot_units),
        ts_ns=int(ts_ns),
        inst_id=inst_id,
        inst_strike=strike,
        inst_is_call=is_call,
        inst_gamma=gam,
        inst_gex=gex,
        inst_volume=volume,
        strike=uniq.astype(np.int64),
        strike_gex=_segment_sum(gex, starts),
        strike_call_gex=_segment_sum(np.where(is_call, gex, 0.0), starts),
        strike_put_gex=_segment_sum(np.where(is_call, 0.0, gex), starts),
        strike_volume=strike_volume,
    )


def _wall(
    strikes: np.ndarray, gex: np.ndarray, threshold: float, nearest_first: bool
) -> int | None:
    """Strike with the largest positive GEX if >= threshold; ties to the strike nearest L."""
    if strikes.shape[0] == 0:
        return None
    if not nearest_first:
        strikes, gex = strikes[::-1], gex[::-1]
    j = int(np.argmax(gex))  # first maximum = nearest to L
    g = float(gex[j])
    if g > 0.0 and g >= threshold:
        return int(strikes[j])
    return None


def _flip(strikes: np.ndarray, gex: np.ndarray) -> int | None:
    """First sign change by ascending strike among non-zero GEX, linearly interpolated, floored."""
    nz = gex != 0.0
    ks, gs = strikes[nz], gex[nz]
    if ks.shape[0] < 2:
        return None
    pos = gs > 0.0
    change = np.flatnonzero(pos[1:] != pos[:-1])
    if change.shape[0] == 0:
        return None
    j = int(change[0])
    k1, k2 = int(ks[j]), int(ks[j + 1])
    g1, g2 = float(gs[j]), float(gs[j + 1])
    frac = g1 / (g1 - g2)  # in (0, 1): the signs differ
    return k1 + math.floor((k2 - k1) * frac)


def _strike_slice(view: GammaView, lo_units: int, hi_units: int) -> tuple[int, int]:
    a = int(np.searchsorted(view.strike, lo_units, side="left"))
    b = int(np.searchsorted(view.strike, hi_units, side="right"))
    return a, b


def compute_fuel(cfg: EngineConfig, view: GammaView, level_units: int) -> FuelMetrics:
    """Fuel for level L: net dealer gamma over |K − L| <= range, effect, walls, flip, confidence."""
    rng = cfg.fuel_strike_range_units
    lo, hi = level_units - rng, level_units + rng
    ia = int(np.searchsorted(view.inst_strike, lo, side="left"))
    ib = int(np.searchsorted(view.inst_strike, hi, side="right"))
    net = float(_seq_sum(view.inst_gex, ia, ib)) if ib > ia else 0.0
    if net < -cfg.gamma_threshold:
        effect = AMPLIFY
    elif net > cfg.gamma_threshold:
        effect = DAMPEN
    else:
        effect = NEUTRAL

    a, b = _strike_slice(view, lo, hi)
    ks = view.strike[a:b]
    above = ks > level_units
    below = ks < level_units
    call_wall = _wall(ks[above], view.strike_call_gex[a:b][above], cfg.wall_threshold, True)
    put_wall = _wall(ks[below], view.strike_put_gex[a:b][below], cfg.wall_threshold, False)
    flip = _flip(ks, view.strike_gex[a:b])
    vol = int(view.strike_volume[a:b].sum())
    conf = min(1.0, vol / cfg.fuel_confidence_volume)
    return FuelMetrics(
        effect=effect,
        net_dealer_gamma=net,
        call_wall_px=call_wall,
        put_wall_px=put_wall,
        gamma_flip_px=flip,
        confidence=conf,
        volume_in_range=vol,
    )


def fuel_walls(cfg: EngineConfig, view: GammaView) -> FuelWalls:
    """Call wall above / put wall below spot and the gamma flip, over spot ± universe_range."""
    spot = view.spot_units
    rng = cfg.universe_range_units
    a, b = _strike_slice(view, spot - rng, spot + rng)
    ks = view.strike[a:b]
    above = ks > spot
    below = ks < spot
    return FuelWalls(
        call_wall_px=_wall(ks[above], view.strike_call_gex[a:b][above], cfg.wall_threshold, True),
        put_wall_px=_wall(ks[below], view.strike_put_gex[a:b][below], cfg.wall_threshold, False),
        gamma_flip_px=_flip(ks, view.strike_gex[a:b]),
    )
