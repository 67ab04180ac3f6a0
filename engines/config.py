"""The one engine configuration: every constant of SPEC §5, frozen, validated, TOML in and out.

Prices are written in index points in TOML (what a user reads on a chart) and exposed to the
engines as int64 fixed-point units (1e-9) through the ``*_units`` properties, converted exactly
with ``Decimal`` so that 0.25 is always 250_000_000 and never 249_999_999.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

PRICE_SCALE = 1_000_000_000
"""Databento's FIXED_PRICE_SCALE: one index point is 1e9 units."""

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000


class ConfigError(ValueError):
    """A configuration key is unknown, mistyped or out of range (user error, exit code 2)."""


def points_to_units(points: float) -> int:
    """Exact conversion of a price in index points to int64 fixed-point units."""
    return int(Decimal(repr(points)) * PRICE_SCALE)


@dataclass(frozen=True)
class EngineConfig:
    """Every constant the engines use (SPEC §5.10). Defaults are the SPEC's."""

    # --- clock and windows (SPEC §2.4, §5) ---
    snap_interval_ms: int = 250
    barrier_window_s: int = 240  # W_b
    tape_window_s: int = 60  # W_t
    velocity_window_s: int = 3  # W_v
    tick_size_pts: float = 0.25  # ES minimum increment
    contract_multiplier: int = 50  # USD per index point for ES futures and options

    # --- barrier (SPEC §5.2) ---
    barrier_zone_ticks: int = 2
    flow_threshold: int = 100  # F_thresh, contracts
    r_vac: float = 0.3
    r_wall: float = 1.5
    weak_depth: int = 50
    barrier_confidence_churn: int = 500

    # --- tape (SPEC §5.3) ---
    tape_band_pts: float = 0.5
    sweep_max_gap_ms: int = 100
    sweep_min_size: int = 100
    tape_confidence_volume: int = 500

    # --- fuel (SPEC §5.4) ---
    fuel_expiry: str = "0dte"  # "0dte" | "all"
    rate: float = 0.0
    iv_low: float = 0.01
    iv_high: float = 5.0
    iv_iterations: int = 64
    default_iv: float = 0.20
    fuel_strike_range_pts: float = 15.0
    gamma_threshold: float = 25.0
    wall_threshold: float = 100.0
    fuel_confidence_volume: int = 1000

    # --- score and trigger (SPEC §5.5) ---
    w_liquidity: float = 0.45
    w_hedge: float = 0.35
    w_tape: float = 0.20
    velocity_full_scale: float = 0.5  # points/s at which v saturates to 1
    break_enter: float = 80.0
    break_exit: float = 60.0
    reject_enter: float = 20.0
    reject_exit: float = 40.0
    hold_s: float = 3.0
    touch_band_pts: float = 1.0
    contested_low: float = 30.0
    contested_high: float = 70.0
    contested_volume: int = 500
    confidence_high: float = 0.7
    confidence_medium: float = 0.4

    # --- smoothing (SPEC §5.6) ---
    tau_score_s: float = 2.0
    tau_velocity_s: float = 1.5
    tau_delta_liq_s: float = 3.0
    tau_replenishment_s: float = 3.0
    tau_dealer_gamma_s: float = 5.0
    ewma_dt_cap_s: float = 600.0

    # --- level universe (SPEC §5.7) ---
    round_spacing_pts: float = 10.0
    universe_range_pts: float = 50.0
    monitor_band_pts: float = 2.5
    user_levels: tuple[float, ...] = field(default_factory=tuple)
    sma_bar_s: int = 120
    sma_periods: tuple[int, ...] = (200, 400)
    approach_window_s: int = 600

    # --- room to run (SPEC §5.8) ---
    obstacle_depth: int = 500

    # --- payload boundary (SPEC §5.0) ---
    display_ratio: float = 1.0

    def __post_init__(self) -> None:
        _validate(self)

    # ----- derived integer quantities the engines use -----
    @property
    def snap_ns(self) -> int:
        return self.snap_interval_ms * NS_PER_MS

    def window_buckets(self, window_s: float) -> int:
        """Number of snap buckets in a window (every window is a multiple of the snap)."""
        return int(round(window_s * 1000)) // self.snap_interval_ms

    @property
    def ring_buckets(self) -> int:
        """Ring-buffer length: the longest window in buckets (W_b = 240 s -> 960)."""
        return max(
            self.window_buckets(self.barrier_window_s),
            self.window_buckets(self.tape_window_s),
            self.window_buckets(self.velocity_window_s),
        )

    @property
    def tick_units(self) -> int:
        return points_to_units(self.tick_size_pts)

    @property
    def zone_units(self) -> int:
        return self.barrier_zone_ticks * self.tick_units

    @property
    def tape_band_units(self) -> int:
        return points_to_units(self.tape_band_pts)

    @property
    def fuel_strike_range_units(self) -> int:
        return points_to_units(self.fuel_strike_range_pts)

    @property
    def touch_band_units(self) -> int:
        return points_to_units(self.touch_band_pts)

    @property
    def round_spacing_units(self) -> int:
        return points_to_units(self.round_spacing_pts)

    @property
    def universe_range_units(self) -> int:
        return points_to_units(self.universe_range_pts)

    @property
    def monitor_band_units(self) -> int:
        return points_to_units(self.monitor_band_pts)

    @property
    def hold_ns(self) -> int:
        return int(Decimal(repr(self.hold_s)) * NS_PER_S)

    @property
    def sweep_max_gap_ns(self) -> int:
        return self.sweep_max_gap_ms * NS_PER_MS

    # ----- serialisation -----
    def to_dict(self) -> dict[str, Any]:
        """Plain dict in field order (tuples as lists), for TOML and the manifest."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    def to_toml(self) -> str:
        """Resolved config as TOML, one key per line in field order (stable text)."""
        lines = ["[engine]"]
        for k, v in self.to_dict().items():
            lines.append(f"{k} = {_toml_value(v)}")
        return "\n".join(lines) + "\n"

    def sha256(self) -> str:
        return hashlib.sha256(self.to_toml().encode()).hexdigest()

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, source: str = "config") -> EngineConfig:
        """Build from a mapping; unknown keys and wrong types are ``ConfigError``."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(
                f"{source}: unknown key(s) {', '.join(unknown)}; "
                f"expected only keys of the [engine] table (see `levelreplay config show`)"
            )
        kwargs: dict[str, Any] = {}
        defaults = cls()
        for name in sorted(data):
            kwargs[name] = _coerce(name, data[name], getattr(defaults, name), source)
        return dataclasses.replace(defaults, **kwargs)

    @classmethod
    def from_toml_text(cls, text: str, *, source: str = "config") -> EngineConfig:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{source}: not valid TOML ({exc}); expected an [engine] table"
            ) from exc
        extra = sorted(k for k in doc if k != "engine")
        if extra:
            raise ConfigError(
                f"{source}: unknown table or key(s) {', '.join(extra)}; expected only [engine]"
            )
        engine = doc.get("engine", {})
        if not isinstance(engine, dict):
            raise ConfigError(f"{source}: 'engine' must be a table")
        return cls.from_mapping(engine, source=source)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _coerce(name: str, value: Any, default: Any, source: str) -> Any:
    """Accept ints for float fields; reject everything else that does not match the default."""
    where = f"{source}: key '{name}'"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} = {value!r}: expected true or false")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} = {value!r}: expected a number")
        return float(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} = {value!r}: expected an integer")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where} = {value!r}: expected a string")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where} = {value!r}: expected a list")
        elem = int if name == "sma_periods" else float
        out = []
        for x in value:
            if isinstance(x, bool) or not isinstance(x, int | float):
                raise ConfigError(f"{where}: element {x!r} is not a number")
            if elem is int and not isinstance(x, int):
                raise ConfigError(f"{where}: element {x!r} is not an integer")
            out.append(elem(x))
        return tuple(out)
    raise ConfigError(f"{where}: unsupported type")


def _validate(c: EngineConfig) -> None:
    """Range checks; the message names the key, the value and the allowed range."""

    def need(ok: bool, name: str, expected: str) -> None:
        if not ok:
            raise ConfigError(f"key '{name}' = {getattr(c, name)!r} is out of range: {expected}")

    need(c.snap_interval_ms > 0, "snap_interval_ms", "expected > 0")
    for w in ("barrier_window_s", "tape_window_s", "velocity_window_s"):
        need(getattr(c, w) > 0, w, "expected > 0")
        need(
            (getattr(c, w) * 1000) % c.snap_interval_ms == 0,
            w,
            "expected a whole multiple of snap_interval_ms",
        )
    need(c.tick_size_pts > 0, "tick_size_pts", "expected > 0")
    need(c.contract_multiplier > 0, "contract_multiplier", "expected > 0")
    need(0 <= c.barrier_zone_ticks <= 100, "barrier_zone_ticks", "expected 0..100")
    need(c.flow_threshold >= 0, "flow_threshold", "expected >= 0")
    need(c.r_vac >= 0, "r_vac", "expected >= 0")
    need(c.r_wall >= 0, "r_wall", "expected >= 0")
    need(c.weak_depth >= 0, "weak_depth", "expected >= 0")
    need(c.barrier_confidence_churn > 0, "barrier_confidence_churn", "expected > 0")
    need(c.tape_band_pts >= 0, "tape_band_pts", "expected >= 0")
    need(c.sweep_max_gap_ms >= 0, "sweep_max_gap_ms", "expected >= 0")
    need(c.sweep_min_size > 0, "sweep_min_size", "expected > 0")
    need(c.tape_confidence_volume > 0, "tape_confidence_volume", "expected > 0")
    need(c.fuel_expiry in ("0dte", "all"), "fuel_expiry", "expected '0dte' or 'all'")
    need(0 < c.iv_low < c.iv_high, "iv_low", "expected 0 < iv_low < iv_high")
    need(c.iv_high <= 20.0, "iv_high", "expected <= 20")
    need(1 <= c.iv_iterations <= 200, "iv_iterations", "expected 1..200")
    need(c.iv_low <= c.default_iv <= c.iv_high, "default_iv", "expected within [iv_low, iv_high]")
    need(c.fuel_strike_range_pts >= 0, "fuel_strike_range_pts", "expected >= 0")
    need(c.gamma_threshold >= 0, "gamma_threshold", "expected >= 0")
    need(c.wall_threshold >= 0, "wall_threshold", "expected >= 0")
    need(c.fuel_confidence_volume > 0, "fuel_confidence_volume", "expected > 0")
    for w in ("w_liquidity", "w_hedge", "w_tape"):
        need(0 <= getattr(c, w) <= 1, w, "expected 0..1")
    need(c.velocity_full_scale > 0, "velocity_full_scale", "expected > 0")
    for s in ("break_enter", "break_exit", "reject_enter", "reject_exit"):
        need(0 <= getattr(c, s) <= 100, s, "expected 0..100")
    need(c.break_exit <= c.break_enter, "break_exit", "expected <= break_enter")
    need(c.reject_exit >= c.reject_enter, "reject_exit", "expected >= reject_enter")
    need(c.hold_s >= 0, "hold_s", "expected >= 0")
    need(c.touch_band_pts >= 0, "touch_band_pts", "expected >= 0")
    need(0 <= c.contested_low <= c.contested_high <= 100, "contested_low", "expected 0..high")
    need(c.contested_volume >= 0, "contested_volume", "expected >= 0")
    need(0 <= c.confidence_medium <= c.confidence_high <= 1, "confidence_high", "expected 0..1")
    for t in (
        "tau_score_s",
        "tau_velocity_s",
        "tau_delta_liq_s",
        "tau_replenishment_s",
        "tau_dealer_gamma_s",
    ):
        need(getattr(c, t) > 0, t, "expected > 0")
    need(c.ewma_dt_cap_s > 0, "ewma_dt_cap_s", "expected > 0")
    need(c.round_spacing_pts > 0, "round_spacing_pts", "expected > 0")
    need(c.universe_range_pts >= 0, "universe_range_pts", "expected >= 0")
    need(c.monitor_band_pts >= 0, "monitor_band_pts", "expected >= 0")
    need(all(x > 0 for x in c.user_levels), "user_levels", "expected positive prices")
    need(c.sma_bar_s > 0, "sma_bar_s", "expected > 0")
    need(all(p > 0 for p in c.sma_periods), "sma_periods", "expected positive counts")
    need(c.approach_window_s > 0, "approach_window_s", "expected > 0")
    need(c.obstacle_depth > 0, "obstacle_depth", "expected > 0")
    need(c.display_ratio > 0, "display_ratio", "expected > 0")
