"""Gold record batches from the fast kernel's column arrays (codes → the reference's values).

The kernel writes integer codes and raw numbers; this module turns a block of rows into the exact
values ``GoldWriter.add`` would have built from ``LevelRow`` objects: enum strings through small
lookup tables, level ids formatted once per distinct (type, price) with the reference
``format_points``, nulls from explicit masks, and the few values the kernel leaves to Python
(sweep notionals need exact big-integer division; confidences near a threshold need
``round(mean, 12)``) computed here with the reference functions.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engines.config import PRICE_SCALE, EngineConfig
from engines.level_universe import level_id
from engines.score import confidence_label
from engines.signal_service import _note
from engines.snap_codes import (
    ANCHORED_KINDS,
    BARRIER_NAMES,
    CONF_UNDECIDED,
    CONFIDENCE_NAMES,
    DIRECTION_NAMES,
    FUEL_NAMES,
    I_ABARS,
    I_ADDED,
    I_ASK,
    I_BID,
    I_BSTATE,
    I_BUY,
    I_CHURN,
    I_CONF,
    I_CWALL,
    I_CXL,
    I_DEPTH,
    I_DIR,
    I_DLIQ,
    I_DPX,
    I_DSZ,
    I_EWMASK,
    I_FEFF,
    I_FILL,
    I_FLIP,
    I_LPX,
    I_LTYPE,
    I_OPX,
    I_OTYPE,
    I_PWALL,
    I_QUAL,
    I_RDIR,
    I_SELL,
    I_SIG,
    I_SNAP,
    I_SPOT,
    I_SWDIR,
    I_SWH,
    I_SWL,
    I_SWN,
    I_TOUCH,
    I_TS,
    MOVING_KINDS,
    NONE,
    QUALITY_NAMES,
    SIGNAL_NAMES,
    UPDOWN_NAMES,
    X_AVEL,
    X_BCONF,
    X_DIST,
    X_DLIQ_S,
    X_FCONF,
    X_HS,
    X_IMB,
    X_LS,
    X_NET,
    X_NET_S,
    X_RATIO,
    X_RATIO_S,
    X_RAW,
    X_RPTS,
    X_SMOOTH,
    X_SWMS,
    X_TCONF,
    X_TS,
    X_VEL,
    X_VEL_S,
)
from replay.lake.schemas import GOLD

_EPOCH = dt.date(1970, 1, 1)
_SIDE3 = (None, "UP", "DOWN")  # sweep direction code + 1


def level_types(cfg: EngineConfig) -> tuple[tuple[str, ...], np.ndarray]:
    """Kind name per level type code, and each type's rank in the id order at one price.

    At one price, ids of different types compare like their kind prefixes (``ROUND_`` + price
    vs ``VWAP``), as no moving id starts with an anchored kind's prefix (checked).
    """
    kinds = ANCHORED_KINDS + MOVING_KINDS + tuple(f"SMA_{p}" for p in cfg.sma_periods)
    keys = [k + "_" for k in ANCHORED_KINDS] + list(kinds[len(ANCHORED_KINDS) :])
    for a, b in itertools.permutations(keys, 2):
        if b.startswith(a):
            raise ValueError(f"level ids {a!r} and {b!r} do not order by kind")
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return kinds, rank


def _take(names: tuple[str | None, ...], codes: np.ndarray) -> pa.Array:
    return pc.take(pa.array(names, type=pa.string()), pa.array(codes))


def _ids(kinds: tuple[str, ...], typ: np.ndarray, px: np.ndarray, valid: np.ndarray) -> pa.Array:
    """Level id strings of (type, price) pairs, formatted once per distinct pair; null if not
    ``valid``."""
    n_anchored = len(ANCHORED_KINDS)
    t = np.where(valid, typ, -1)
    p = np.where(valid & (typ < n_anchored), px, 0)
    order = np.lexsort((p, t))  # distinct pairs without np.unique(axis=0)'s slow path
    ts, ps = t[order], p[order]
    new = np.ones(order.shape[0], dtype=bool)
    new[1:] = (ts[1:] != ts[:-1]) | (ps[1:] != ps[:-1])
    group = np.cumsum(new) - 1
    inv = np.empty(order.shape[0], dtype=np.int64)
    inv[order] = group
    names = [
        None if a < 0 else (level_id(kinds[a], b) if a < n_anchored else kinds[a])
        for a, b in zip(ts[new].tolist(), ps[new].tolist(), strict=True)
    ]
    return pc.take(pa.array(names, type=pa.string()), pa.array(inv))


def _nullable_int(v: np.ndarray) -> pa.Array:
    return pa.array(v, type=pa.int64(), mask=v == NONE)


def _sweep_notional(cfg: EngineConfig, h: np.ndarray, lo: np.ndarray, has: np.ndarray) -> pa.Array:
    """tape.compute_tape's notional: exact integer numerator, one correctly rounded division."""
    out = np.zeros(h.shape[0], dtype=np.float64)
    mult = cfg.contract_multiplier
    cache: dict[tuple[int, int], float] = {}
    for i in np.flatnonzero(has).tolist():
        key = (int(h[i]), int(lo[i]))
        v = cache.get(key)
        if v is None:
            v = cache[key] = (key[0] * PRICE_SCALE + key[1]) * mult / PRICE_SCALE
        out[i] = v
    return pa.array(out, mask=~has)


def _confidence(cfg: EngineConfig, code: np.ndarray, ox: np.ndarray) -> pa.Array:
    labels = np.asarray(CONFIDENCE_NAMES, dtype=object)[np.maximum(code, 0)]
    for i in np.flatnonzero(code == CONF_UNDECIDED).tolist():
        labels[i] = confidence_label(cfg, ox[X_BCONF, i], ox[X_TCONF, i], ox[X_FCONF, i])
    return pa.array(labels.tolist(), type=pa.string())


def _notes(bstate: np.ndarray, feff: np.ndarray, swdir: np.ndarray, sig: np.ndarray) -> pa.Array:
    table = [
        _note(b, f, s, g)
        for b in BARRIER_NAMES
        for f in FUEL_NAMES
        for s in _SIDE3
        for g in SIGNAL_NAMES
    ]
    code = ((bstate * len(FUEL_NAMES) + feff) * len(_SIDE3) + swdir + 1) * len(SIGNAL_NAMES) + sig
    return _take(tuple(table), code)


def gold_batch(
    cfg: EngineConfig,
    kinds: tuple[str, ...],
    date: dt.date,
    instrument: str,
    oi: np.ndarray,
    ox: np.ndarray,
) -> pa.RecordBatch:
    """One Gold record batch from ``n`` kernel rows (``oi``: int64 (N_I, n), ``ox``: (N_X, n))."""
    n = oi.shape[1]
    sw = oi[I_SWDIR]
    has_sw = sw >= 0
    has_obs = oi[I_OTYPE] >= 0
    ew = oi[I_EWMASK]
    f64 = pa.float64()

    def smooth(col: int, bit: int) -> pa.Array:
        return pa.array(ox[col], type=f64, mask=(ew >> bit) & 1 == 0)

    cols: dict[str, pa.Array] = {
        "ts_ns": pa.array(oi[I_TS]),
        "snap_index": pa.array(oi[I_SNAP].astype(np.int32)),
        "session_date": pa.array(
            np.full(n, (date - _EPOCH).days, dtype=np.int32), type=pa.date32()
        ),
        "instrument": _take((instrument,), np.zeros(n, dtype=np.int64)),
        "spot_px": pa.array(oi[I_SPOT]),
        "bid_px": pa.array(oi[I_BID]),
        "ask_px": pa.array(oi[I_ASK]),
        "level_id": _ids(kinds, oi[I_LTYPE], oi[I_LPX], np.ones(n, dtype=bool)),
        "level_kind": _take(kinds, oi[I_LTYPE]),
        "level_px": pa.array(oi[I_LPX]),
        "direction": _take(DIRECTION_NAMES, oi[I_DIR]),
        "distance_pts": pa.array(ox[X_DIST]),
        "barrier_state": _take(BARRIER_NAMES, oi[I_BSTATE]),
        "delta_liq": pa.array(oi[I_DLIQ]),
        "delta_liq_smooth": smooth(X_DLIQ_S, 0),
        "replenishment_ratio": pa.array(ox[X_RATIO]),
        "replenishment_ratio_smooth": smooth(X_RATIO_S, 1),
        "added": pa.array(oi[I_ADDED]),
        "canceled": pa.array(oi[I_CXL]),
        "filled": pa.array(oi[I_FILL]),
        "defending_px": pa.array(oi[I_DPX]),
        "defending_sz": pa.array(oi[I_DSZ]),
        "churn": pa.array(oi[I_CHURN]),
        "depth_in_zone": pa.array(oi[I_DEPTH]),
        "barrier_confidence": pa.array(ox[X_BCONF]),
        "tape_imbalance": pa.array(ox[X_IMB]),
        "buy_vol": pa.array(oi[I_BUY]),
        "sell_vol": pa.array(oi[I_SELL]),
        "velocity": pa.array(ox[X_VEL]),
        "velocity_smooth": smooth(X_VEL_S, 2),
        "sweep_detected": pa.array(has_sw),
        "sweep_direction": _take(_SIDE3, sw + 1),
        "sweep_notional": _sweep_notional(cfg, oi[I_SWH], oi[I_SWL], has_sw),
        "sweep_prints": pa.array(oi[I_SWN].astype(np.int32), mask=~has_sw),
        "sweep_window_ms": pa.array(ox[X_SWMS], type=f64, mask=~has_sw),
        "tape_confidence": pa.array(ox[X_TCONF]),
        "fuel_effect": _take(FUEL_NAMES, oi[I_FEFF]),
        "net_dealer_gamma": pa.array(ox[X_NET]),
        "net_dealer_gamma_smooth": smooth(X_NET_S, 3),
        "call_wall_px": _nullable_int(oi[I_CWALL]),
        "put_wall_px": _nullable_int(oi[I_PWALL]),
        "gamma_flip_px": _nullable_int(oi[I_FLIP]),
        "fuel_confidence": pa.array(ox[X_FCONF]),
        "liquidity_score": pa.array(ox[X_LS]),
        "hedge_score": pa.array(ox[X_HS]),
        "tape_score": pa.array(ox[X_TS]),
        "break_score_raw": pa.array(ox[X_RAW]),
        "break_score_smooth": pa.array(ox[X_SMOOTH]),
        "signal": _take(SIGNAL_NAMES, oi[I_SIG]),
        "confidence": _confidence(cfg, oi[I_CONF], ox),
        "approach_velocity": pa.array(ox[X_AVEL]),
        "approach_bars": pa.array(oi[I_ABARS].astype(np.int32)),
        "prior_touches": pa.array(oi[I_TOUCH].astype(np.int32)),
        "runway_direction": _take(UPDOWN_NAMES, oi[I_RDIR]),
        "next_obstacle_id": _ids(kinds, oi[I_OTYPE], oi[I_OPX], has_obs),
        "next_obstacle_px": pa.array(oi[I_OPX], type=pa.int64(), mask=~has_obs),
        "runway_pts": pa.array(ox[X_RPTS], type=f64, mask=~has_obs),
        "runway_quality": _take(QUALITY_NAMES, oi[I_QUAL]),
        "note": _notes(oi[I_BSTATE], oi[I_FEFF], sw, oi[I_SIG]),
    }
    return pa.RecordBatch.from_arrays([cols[f.name] for f in GOLD], schema=GOLD)
