"""The ``levels.signals`` JSON payload (SPEC §5.9) built from one snap's rows.

Prices leave int64 units only here, converted to index points and multiplied by the
``PriceConverter`` ratio (``display_ratio``, default 1.0, SPEC §5.0). Floats are finite in the JSON:
NaN and ±inf become null. Live mode publishes exactly these bytes; Gold stores the same values
flattened.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from engines.config import PRICE_SCALE
from engines.signal_service import LevelRow, SnapResult


@dataclass(frozen=True)
class PriceConverter:
    """Index points of ES -> display points (e.g. another index) at the payload boundary only."""

    ratio: float = 1.0

    def px(self, units: int | None) -> float | None:
        if units is None:
            return None
        return units / PRICE_SCALE * self.ratio


def _f(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def level_payload(r: LevelRow, conv: PriceConverter) -> dict[str, Any]:
    return {
        "id": r.level_id,
        "price": conv.px(r.level_px),
        "kind": r.level_kind,
        "direction": r.direction,
        "distance": _f(r.distance_pts * conv.ratio),
        "break_score_raw": _f(r.break_score_raw),
        "break_score_smooth": _f(r.break_score_smooth),
        "signal": r.signal,
        "confidence": r.confidence,
        "approach_velocity": _f(r.approach_velocity * conv.ratio),
        "approach_bars": r.approach_bars,
        "prior_touches": r.prior_touches,
        "barrier": {
            "state": r.barrier_state,
            "delta_liq": r.delta_liq,
            "delta_liq_smooth": _f(r.delta_liq_smooth),
            "replenishment_ratio": _f(r.replenishment_ratio),
            "replenishment_ratio_smooth": _f(r.replenishment_ratio_smooth),
            "added": r.added,
            "canceled": r.canceled,
            "filled": r.filled,
            "defending_quote": {"price": conv.px(r.defending_px), "size": r.defending_sz},
            "churn": r.churn,
            "depth_in_zone": r.depth_in_zone,
            "confidence": _f(r.barrier_confidence),
        },
        "tape": {
            "imbalance": _f(r.tape_imbalance),
            "buy_vol": r.buy_vol,
            "sell_vol": r.sell_vol,
            "velocity": _f(r.velocity * conv.ratio),
            "velocity_smooth": _f(
                None if r.velocity_smooth is None else r.velocity_smooth * conv.ratio
            ),
            "sweep": {
                "detected": r.sweep_detected,
                "direction": r.sweep_direction,
                "notional": _f(r.sweep_notional),
                "num_prints": r.sweep_prints,
                "window_ms": _f(r.sweep_window_ms),
            },
            "confidence": _f(r.tape_confidence),
        },
        "fuel": {
            "effect": r.fuel_effect,
            "net_dealer_gamma": _f(r.net_dealer_gamma),
            "net_dealer_gamma_smooth": _f(r.net_dealer_gamma_smooth),
            "call_wall": conv.px(r.call_wall_px),
            "put_wall": conv.px(r.put_wall_px),
            "gamma_flip": conv.px(r.gamma_flip_px),
            "confidence": _f(r.fuel_confidence),
        },
        "runway": {
            "direction": r.runway_direction,
            "next_obstacle": None
            if r.next_obstacle_id is None
            else {"id": r.next_obstacle_id, "price": conv.px(r.next_obstacle_px)},
            "distance": _f(None if r.runway_pts is None else r.runway_pts * conv.ratio),
            "quality": r.runway_quality,
        },
        "note": r.note,
    }


def snap_payload(snap: SnapResult, conv: PriceConverter | None = None) -> dict[str, Any]:
    """The payload object of one snap (levels in the service's order: distance, then id)."""
    c = conv or PriceConverter()
    levels = sorted(
        snap.rows,
        key=lambda r: (abs(r.distance_pts), r.level_id),
    )
    return {
        "ts": snap.ts_ns // 1_000_000,
        "es": {"spot": c.px(snap.spot_px), "bid": c.px(snap.bid_px), "ask": c.px(snap.ask_px)},
        "levels": [level_payload(r, c) for r in levels],
    }


def encode_payload(snap: SnapResult, conv: PriceConverter | None = None) -> bytes:
    """Canonical JSON bytes (sorted keys, no NaN) for NATS and tests."""
    return json.dumps(
        snap_payload(snap, conv), sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode()
