"""The one engine configuration: every constant of SPEC §5, frozen, validated, TOML in and out.

Prices are written in index points in TOML (what a user reads on a chart) and exposed to the
engines as int64 fixed-point units (1e-9) through the ``*_units`` properties, converted exactly
with ``Decimal`` so that 0.25 is always 250_000_000 and never 249_999_999.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

PRICE_SCALE = 1_000_000_000
"""Databento's FIXED_PRICE_SCALE: one index point is 1e9 units."""

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000


class ConfigError(ValueError):
    """A configuration key is unknown, mistyped or out of range (user error, exit code 2).

    A range error knows every key its check involves (``keys``, with their ``values``), so the
    message can name the one the user actually set: ``snap_interval_ms = 7`` makes the default
    240 s barrier window no whole number of snaps, and the user is told about
    ``snap_interval_ms``, not ``barrier_window_s``."""

    def __init__(
        self,
        message: str,
        *,
        keys: tuple[str, ...] = (),
        values: dict[str, Any] | None = None,
        expected: str = "",
    ):
        super().__init__(message)
        self.keys = keys
        self.values = values or {}
        self.expected = expected

    def blaming(self, given: set[str]) -> str:
        """The message, led by the first involved key the user set (else the first key)."""
        if not self.keys:
            return str(self)
        key = next((k for k in self.keys if k in given), self.keys[0])
        return f"key '{key}' = {self.values[key]!r} is out of range: {self.expected}"


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
        try:
            return dataclasses.replace(defaults, **kwargs)
        except ConfigError as exc:  # name the file and the key as the user wrote it
            raise ConfigError(f"{source}: {exc.blaming(set(data))}") from None

    @classmethod
    def from_toml_text(cls, text: str, *, source: str = "config") -> EngineConfig:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{source}: not valid TOML ({exc}); expected an [engine] table"
            ) from exc
        extra = sorted(k for k in doc if k not in ("engine", "labels"))  # [labels]: not ours
        if extra:
            raise ConfigError(
                f"{source}: unknown table or key(s) {', '.join(extra)}; "
                "expected only [engine] and [labels]"
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


DAY_S = 86_400
MAX_COUNT = 1_000_000_000  # volumes, depths, counts: far above any market, far below int64 sums
MAX_PTS = 10_000.0  # any distance in index points
MAX_LEVELS = 10_000  # round levels in the universe band


def _validate(c: EngineConfig) -> None:
    """Range checks; the error names the keys involved, their values and the allowed range."""

    def need(ok: bool, keys: str | tuple[str, ...], expected: str) -> None:
        if not ok:
            keys = (keys,) if isinstance(keys, str) else keys
            values = {k: getattr(c, k) for k in keys}
            err = ConfigError("", keys=keys, values=values, expected=expected)
            raise ConfigError(err.blaming(set()), keys=keys, values=values, expected=expected)

    for f in fields(c):  # NaN passes no comparison and inf every "> 0": refuse both first
        v = getattr(c, f.name)
        nums = v if isinstance(v, tuple) else (v,)
        finite = all(math.isfinite(x) for x in nums if isinstance(x, float))
        need(finite, f.name, "expected a finite number")

    need(1 <= c.snap_interval_ms <= 60_000, "snap_interval_ms", "expected 1..60000 ms")
    for w in ("barrier_window_s", "tape_window_s", "velocity_window_s"):
        need(0 < getattr(c, w) <= DAY_S, w, f"expected 1..{DAY_S} s")
        need(
            (getattr(c, w) * 1000) % c.snap_interval_ms == 0,
            (w, "snap_interval_ms"),
            f"{w} = {getattr(c, w)} s must be a whole number of snaps of "
            f"snap_interval_ms = {c.snap_interval_ms} ms",
        )
    need(
        1e-9 <= c.tick_size_pts <= 1000 and c.tick_units >= 1,
        "tick_size_pts",
        "expected 1e-9..1000 points (one price unit is 1e-9 points)",
    )
    need(0 < c.contract_multiplier <= 1_000_000, "contract_multiplier", "expected 1..1000000")
    need(0 <= c.barrier_zone_ticks <= 100, "barrier_zone_ticks", "expected 0..100")
    for k in ("flow_threshold", "weak_depth", "contested_volume"):
        need(0 <= getattr(c, k) <= MAX_COUNT, k, f"expected 0..{MAX_COUNT}")
    for k in (
        "barrier_confidence_churn",
        "sweep_min_size",
        "tape_confidence_volume",
        "fuel_confidence_volume",
        "obstacle_depth",
    ):
        need(0 < getattr(c, k) <= MAX_COUNT, k, f"expected 1..{MAX_COUNT}")
    for k in ("r_vac", "r_wall", "display_ratio", "velocity_full_scale"):
        need(getattr(c, k) >= 0 and getattr(c, k) <= 1e6, k, "expected 0..1e6")
    need(c.display_ratio > 0, "display_ratio", "expected > 0")
    need(c.velocity_full_scale > 0, "velocity_full_scale", "expected > 0")
    for k in (
        "tape_band_pts",
        "touch_band_pts",
        "monitor_band_pts",
        "fuel_strike_range_pts",
        "universe_range_pts",
    ):
        need(0 <= getattr(c, k) <= MAX_PTS, k, f"expected 0..{MAX_PTS:g} points")
    need(0 <= c.sweep_max_gap_ms <= DAY_S * 1000, "sweep_max_gap_ms", "expected 0..86400000 ms")
    need(c.fuel_expiry in ("0dte", "all"), "fuel_expiry", "expected '0dte' or 'all'")
    need(-1.0 <= c.rate <= 1.0, "rate", "expected -1..1 (an annual rate)")
    need(0 < c.iv_low < c.iv_high, ("iv_low", "iv_high"), "expected 0 < iv_low < iv_high")
    need(c.iv_high <= 20.0, "iv_high", "expected <= 20")
    need(1 <= c.iv_iterations <= 200, "iv_iterations", "expected 1..200")
    need(
        c.iv_low <= c.default_iv <= c.iv_high,
        ("default_iv", "iv_low", "iv_high"),
        f"default_iv = {c.default_iv} must lie within [iv_low, iv_high] = "
        f"[{c.iv_low}, {c.iv_high}]",
    )
    for k in ("gamma_threshold", "wall_threshold"):
        need(0 <= getattr(c, k) <= 1e12, k, "expected 0..1e12")
    for w in ("w_liquidity", "w_hedge", "w_tape"):
        need(0 <= getattr(c, w) <= 1, w, "expected 0..1")
    for s in ("break_enter", "break_exit", "reject_enter", "reject_exit"):
        need(0 <= getattr(c, s) <= 100, s, "expected 0..100")
    need(c.break_exit <= c.break_enter, ("break_exit", "break_enter"), "expected <= break_enter")
    need(
        c.reject_exit >= c.reject_enter, ("reject_exit", "reject_enter"), "expected >= reject_enter"
    )
    need(0 <= c.hold_s <= DAY_S, "hold_s", f"expected 0..{DAY_S} s")
    need(
        0 <= c.contested_low <= c.contested_high <= 100,
        ("contested_low", "contested_high"),
        "expected 0 <= contested_low <= contested_high <= 100",
    )
    need(
        0 <= c.confidence_medium <= c.confidence_high <= 1,
        ("confidence_high", "confidence_medium"),
        "expected 0 <= confidence_medium <= confidence_high <= 1",
    )
    for t in (
        "tau_score_s",
        "tau_velocity_s",
        "tau_delta_liq_s",
        "tau_replenishment_s",
        "tau_dealer_gamma_s",
        "ewma_dt_cap_s",
    ):
        need(0 < getattr(c, t) <= DAY_S, t, f"expected > 0 and <= {DAY_S} s")
    need(
        c.tick_size_pts <= c.round_spacing_pts <= MAX_PTS,
        ("round_spacing_pts", "tick_size_pts"),
        f"expected tick_size_pts ({c.tick_size_pts}) .. {MAX_PTS:g} points",
    )
    need(
        c.universe_range_pts / c.round_spacing_pts <= MAX_LEVELS / 2,
        ("universe_range_pts", "round_spacing_pts"),
        f"at most {MAX_LEVELS} round levels in the band: universe_range_pts = "
        f"{c.universe_range_pts} over round_spacing_pts = {c.round_spacing_pts} is too many",
    )
    need(
        len(c.user_levels) <= MAX_LEVELS and all(0 < x <= 1e6 for x in c.user_levels),
        "user_levels",
        f"expected at most {MAX_LEVELS} prices in 0..1e6 points",
    )
    need(0 < c.sma_bar_s <= DAY_S, "sma_bar_s", f"expected 1..{DAY_S} s")
    need(
        all(0 < p <= 100_000 for p in c.sma_periods),
        "sma_periods",
        "expected bar counts in 1..100000",
    )
    need(0 < c.approach_window_s <= DAY_S, "approach_window_s", f"expected 1..{DAY_S} s")
