"""The Gold ``levels.signals`` columns (SPEC §3.1, §5.9): the one table every layer derives from.

One row per column, in Gold field order. Plain data, so ``engines/`` owns it without knowing Arrow:
- ``replay/gold/schema.py`` builds the Arrow schema (``type``, ``nullable``) and the enum checks
  (``enum``) from it; ``replay/gold/payload.py`` builds the ``levels.signals`` JSON (``payload``,
  ``unit``) from it;
- ``engines/reference/signal_service.py`` derives ``LevelRow`` (the reference engine's row) from the
  ``level`` columns, and ``engines/columns/rows.py`` turns LevelRows into column blocks by name;
- ``engines/fast/snap_codes.py`` derives the fast kernel's output slots (``fast``) from it, and
  ``engines/fast/fast_rows.py`` decodes the kernel's slots into the same column blocks (``decode``).

Adding a column: one row here, plus the code that computes it (``signal_service._score_level``
and the kernel's write into its slot). Enum names come from the engine module that owns them.

Fields:
- ``scope``: ``snap`` (one value per snap, filled by the session) or ``level`` (a LevelRow field).
- ``enum``: the closed set of a string column, in the fast kernel's code order (code i = enum[i]).
- ``payload``: dotted path in one level of the payload (``es.`` and ``ts`` at the snap level);
  a segment ending in ``?`` is an object that is null when all its members are null.
- ``unit``: payload conversion: ``px`` int64 units → display points, ``pts`` points × display
  ratio, ``ms`` ns → ms.
- ``fast``: the kernel output slots the column is decoded from (``I_*`` int64, ``X_*`` float64),
  first the column's own; ``decode`` says how (see ``engines/fast/fast_rows.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.physics.barrier import BARRIER_STATES, DIRECTIONS
from engines.physics.fuel import FUEL_EFFECTS
from engines.physics.room_to_run import RUNWAY_DIRECTIONS, RUNWAY_QUALITIES
from engines.physics.score import CONFIDENCES
from engines.physics.tape import SWEEP_DIRECTIONS
from engines.physics.trigger import SIGNALS

TYPES = ("int64", "int32", "float64", "bool", "string", "date32")
SCOPES = ("snap", "level")
UNITS = (None, "px", "pts", "ms")
DECODES = (
    "value",  # the slot as is (cast to the column type)
    "enum",  # enum[code]; code -1 is null
    "sentinel",  # the slot, null where it holds snap_codes.NONE
    "ewma",  # an EWMA value, null until the level's EWMA has a sample (bit ``bit`` of EWMASK)
    "if_sweep",  # the slot, null without a selected sweep (SWDIR < 0)
    "if_obstacle",  # the slot, null without a next obstacle (OTYPE < 0)
    "level_id",  # id of the level (type, price) in the first two slots; null if type < 0
    "level_kind",  # kind name of the level type
    "session",  # a session constant (date, instrument), no slot
    "sweep_detected",  # SWDIR >= 0
    "sweep_notional",  # exact big-integer notional from the (high, low) halves
    "confidence",  # confidence code, or the reference rounding when the kernel left it undecided
    "note",  # the reference note of (barrier, fuel, sweep, signal)
)


@dataclass(frozen=True)
class GoldColumn:
    """One Gold column: its Arrow shape, its place in the payload, and its fast-kernel slots."""

    name: str
    type: str
    nullable: bool
    scope: str
    enum: tuple[str, ...] | None = None
    payload: str | None = None
    unit: str | None = None
    fast: tuple[str, ...] = ()
    decode: str = "value"
    bit: int = -1  # EWMASK bit of an ``ewma`` column


def _c(name: str, type_: str, nullable: bool = False, **kw: object) -> GoldColumn:
    scope = "snap" if name in _SNAP_SCOPE else "level"
    return GoldColumn(name, type_, nullable, scope, **kw)  # type: ignore[arg-type]


_SNAP_SCOPE = ("ts_ns", "snap_index", "session_date", "instrument", "spot_px", "bid_px", "ask_px")

GOLD_COLUMNS: tuple[GoldColumn, ...] = (
    _c("ts_ns", "int64", payload="ts", unit="ms", fast=("I_TS",)),
    _c("snap_index", "int32", fast=("I_SNAP",)),
    _c("session_date", "date32", decode="session"),
    _c("instrument", "string", decode="session"),
    _c("spot_px", "int64", payload="es.spot", unit="px", fast=("I_SPOT",)),
    _c("bid_px", "int64", payload="es.bid", unit="px", fast=("I_BID",)),
    _c("ask_px", "int64", payload="es.ask", unit="px", fast=("I_ASK",)),
    _c("level_id", "string", payload="id", fast=("I_LTYPE", "I_LPX"), decode="level_id"),
    _c("level_kind", "string", payload="kind", fast=("I_LTYPE",), decode="level_kind"),
    _c("level_px", "int64", payload="price", unit="px", fast=("I_LPX",)),
    _c("direction", "string", enum=DIRECTIONS, payload="direction", fast=("I_DIR",), decode="enum"),
    _c("distance_pts", "float64", payload="distance", unit="pts", fast=("X_DIST",)),
    _c(
        "barrier_state",
        "string",
        enum=BARRIER_STATES,
        payload="barrier.state",
        fast=("I_BSTATE",),
        decode="enum",
    ),
    _c("delta_liq", "int64", payload="barrier.delta_liq", fast=("I_DLIQ",)),
    _c(
        "delta_liq_smooth",
        "float64",
        True,
        payload="barrier.delta_liq_smooth",
        fast=("X_DLIQ_S", "I_EWMASK"),
        decode="ewma",
        bit=0,
    ),
    _c("replenishment_ratio", "float64", payload="barrier.replenishment_ratio", fast=("X_RATIO",)),
    _c(
        "replenishment_ratio_smooth",
        "float64",
        True,
        payload="barrier.replenishment_ratio_smooth",
        fast=("X_RATIO_S", "I_EWMASK"),
        decode="ewma",
        bit=1,
    ),
    _c("added", "int64", payload="barrier.added", fast=("I_ADDED",)),
    _c("canceled", "int64", payload="barrier.canceled", fast=("I_CXL",)),
    _c("filled", "int64", payload="barrier.filled", fast=("I_FILL",)),
    _c(
        "defending_px",
        "int64",
        True,
        payload="barrier.defending_quote.price",
        unit="px",
        fast=("I_DPX",),
    ),
    _c("defending_sz", "int64", True, payload="barrier.defending_quote.size", fast=("I_DSZ",)),
    _c("churn", "int64", payload="barrier.churn", fast=("I_CHURN",)),
    _c("depth_in_zone", "int64", payload="barrier.depth_in_zone", fast=("I_DEPTH",)),
    _c("barrier_confidence", "float64", payload="barrier.confidence", fast=("X_BCONF",)),
    _c("tape_imbalance", "float64", payload="tape.imbalance", fast=("X_IMB",)),
    _c("buy_vol", "int64", payload="tape.buy_vol", fast=("I_BUY",)),
    _c("sell_vol", "int64", payload="tape.sell_vol", fast=("I_SELL",)),
    _c("velocity", "float64", payload="tape.velocity", unit="pts", fast=("X_VEL",)),
    _c(
        "velocity_smooth",
        "float64",
        True,
        payload="tape.velocity_smooth",
        unit="pts",
        fast=("X_VEL_S", "I_EWMASK"),
        decode="ewma",
        bit=2,
    ),
    _c(
        "sweep_detected",
        "bool",
        payload="tape.sweep.detected",
        fast=("I_SWDIR",),
        decode="sweep_detected",
    ),
    _c(
        "sweep_direction",
        "string",
        True,
        enum=SWEEP_DIRECTIONS,
        payload="tape.sweep.direction",
        fast=("I_SWDIR",),
        decode="enum",
    ),
    _c(
        "sweep_notional",
        "float64",
        True,
        payload="tape.sweep.notional",
        fast=("I_SWH", "I_SWL", "I_SWDIR"),
        decode="sweep_notional",
    ),
    _c(
        "sweep_prints",
        "int32",
        True,
        payload="tape.sweep.num_prints",
        fast=("I_SWN", "I_SWDIR"),
        decode="if_sweep",
    ),
    _c(
        "sweep_window_ms",
        "float64",
        True,
        payload="tape.sweep.window_ms",
        fast=("X_SWMS", "I_SWDIR"),
        decode="if_sweep",
    ),
    _c("tape_confidence", "float64", payload="tape.confidence", fast=("X_TCONF",)),
    _c(
        "fuel_effect",
        "string",
        enum=FUEL_EFFECTS,
        payload="fuel.effect",
        fast=("I_FEFF",),
        decode="enum",
    ),
    _c("net_dealer_gamma", "float64", payload="fuel.net_dealer_gamma", fast=("X_NET",)),
    _c(
        "net_dealer_gamma_smooth",
        "float64",
        True,
        payload="fuel.net_dealer_gamma_smooth",
        fast=("X_NET_S", "I_EWMASK"),
        decode="ewma",
        bit=3,
    ),
    _c(
        "call_wall_px",
        "int64",
        True,
        payload="fuel.call_wall",
        unit="px",
        fast=("I_CWALL",),
        decode="sentinel",
    ),
    _c(
        "put_wall_px",
        "int64",
        True,
        payload="fuel.put_wall",
        unit="px",
        fast=("I_PWALL",),
        decode="sentinel",
    ),
    _c(
        "gamma_flip_px",
        "int64",
        True,
        payload="fuel.gamma_flip",
        unit="px",
        fast=("I_FLIP",),
        decode="sentinel",
    ),
    _c("fuel_confidence", "float64", payload="fuel.confidence", fast=("X_FCONF",)),
    _c("liquidity_score", "float64", fast=("X_LS",)),
    _c("hedge_score", "float64", fast=("X_HS",)),
    _c("tape_score", "float64", fast=("X_TS",)),
    _c("break_score_raw", "float64", payload="break_score_raw", fast=("X_RAW",)),
    _c("break_score_smooth", "float64", payload="break_score_smooth", fast=("X_SMOOTH",)),
    _c("signal", "string", enum=SIGNALS, payload="signal", fast=("I_SIG",), decode="enum"),
    _c(
        "confidence",
        "string",
        enum=CONFIDENCES,
        payload="confidence",
        fast=("I_CONF", "X_BCONF", "X_TCONF", "X_FCONF"),
        decode="confidence",
    ),
    _c(
        "approach_velocity",
        "float64",
        payload="approach_velocity",
        unit="pts",
        fast=("X_AVEL",),
    ),
    _c("approach_bars", "int32", payload="approach_bars", fast=("I_ABARS",)),
    _c("prior_touches", "int32", payload="prior_touches", fast=("I_TOUCH",)),
    _c(
        "runway_direction",
        "string",
        enum=RUNWAY_DIRECTIONS,
        payload="runway.direction",
        fast=("I_RDIR",),
        decode="enum",
    ),
    _c(
        "next_obstacle_id",
        "string",
        True,
        payload="runway.next_obstacle?.id",
        fast=("I_OTYPE", "I_OPX"),
        decode="level_id",
    ),
    _c(
        "next_obstacle_px",
        "int64",
        True,
        payload="runway.next_obstacle?.price",
        unit="px",
        fast=("I_OPX", "I_OTYPE"),
        decode="if_obstacle",
    ),
    _c(
        "runway_pts",
        "float64",
        True,
        payload="runway.distance",
        unit="pts",
        fast=("X_RPTS", "I_OTYPE"),
        decode="if_obstacle",
    ),
    _c(
        "runway_quality",
        "string",
        enum=RUNWAY_QUALITIES,
        payload="runway.quality",
        fast=("I_QUAL",),
        decode="enum",
    ),
    _c(
        "note",
        "string",
        payload="note",
        fast=("I_BSTATE", "I_FEFF", "I_SWDIR", "I_SIG"),
        decode="note",
    ),
)
"""Gold columns in field order."""

COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in GOLD_COLUMNS)
LEVEL_COLUMNS: tuple[GoldColumn, ...] = tuple(c for c in GOLD_COLUMNS if c.scope == "level")
SNAP_COLUMNS: tuple[GoldColumn, ...] = tuple(c for c in GOLD_COLUMNS if c.scope == "snap")
ENUMS: dict[str, tuple[str, ...]] = {c.name: c.enum for c in GOLD_COLUMNS if c.enum is not None}
"""Closed sets of the string enums; every writer refuses anything else."""

PY_TYPES: dict[str, str] = {
    "int64": "int",
    "int32": "int",
    "float64": "float",
    "bool": "bool",
    "string": "str",
    "date32": "dt.date",
}


def fast_slots(prefix: str) -> tuple[str, ...]:
    """The kernel's output slots of one kind (``I_`` or ``X_``), in first-use order."""
    out: list[str] = []
    for c in GOLD_COLUMNS:
        out += [s for s in c.fast if s.startswith(prefix) and s not in out]
    return tuple(out)
