"""The fast kernel's parameters, each declared once: its slot name and where its value comes from.

The kernel reads config and session constants from two flat arrays (``pi`` int64, ``pf`` float64)
indexed by literal codes. ``snap_codes`` numbers the ``P_*`` / ``Q_*`` codes in the order of the
tables below and ``fast_engine.params`` fills the arrays from them, so a new knob the kernel reads
is one line here (and its use in the kernel), as a new Gold column is one row of the column table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

from engines.contract.config import EngineConfig
from engines.state.session_context import SessionContext


@dataclass(frozen=True)
class ParamSource:
    """What the parameters are read from: the config, the session's start, context and batch."""

    cfg: EngineConfig
    t0: int
    ctx: SessionContext
    batch: int


Getter = Callable[[ParamSource], float]


def _cfg(name: str) -> Getter:
    return attrgetter(f"cfg.{name}")


def _prior(name: str) -> Getter:
    """A prior-day level; 0 without a prior day (``P_HAS_PRIOR`` says which)."""
    return lambda s: 0 if s.ctx.prior is None else getattr(s.ctx.prior, name)


def _per_call(s: ParamSource) -> int:
    """Set by the driver before each kernel call, not from the session."""
    return 0


INT_PARAMS: tuple[tuple[str, Getter], ...] = (
    ("P_T0", attrgetter("t0")),
    ("P_SNAP", _cfg("snap_ns")),
    ("P_ZONE", _cfg("zone_units")),
    ("P_WB", lambda s: s.cfg.window_buckets(s.cfg.barrier_window_s)),
    ("P_WT", lambda s: s.cfg.window_buckets(s.cfg.tape_window_s)),
    ("P_TAPE_BAND", _cfg("tape_band_units")),
    ("P_FUEL_RANGE", _cfg("fuel_strike_range_units")),
    ("P_UNIV_RANGE", _cfg("universe_range_units")),
    ("P_MONITOR", _cfg("monitor_band_units")),
    ("P_TOUCH", _cfg("touch_band_units")),
    ("P_ROUND_STEP", _cfg("round_spacing_units")),
    ("P_HOLD", _cfg("hold_ns")),
    ("P_FLOW", _cfg("flow_threshold")),
    ("P_WEAK", _cfg("weak_depth")),
    ("P_CHURN_FULL", _cfg("barrier_confidence_churn")),
    ("P_TAPE_FULL", _cfg("tape_confidence_volume")),
    ("P_FUEL_FULL", _cfg("fuel_confidence_volume")),
    ("P_CONTESTED_VOL", _cfg("contested_volume")),
    ("P_OBSTACLE", _cfg("obstacle_depth")),
    ("P_PER_MIN", lambda s: s.cfg.window_buckets(60)),
    ("P_BAR_NS", attrgetter("ctx.bar_ns")),
    ("P_PM0", attrgetter("ctx.pm_start_ns")),
    ("P_PM1", attrgetter("ctx.pm_end_ns")),
    ("P_OR0", attrgetter("ctx.or_start_ns")),
    ("P_OR1", attrgetter("ctx.or_end_ns")),
    ("P_HAS_PRIOR", lambda s: 0 if s.ctx.prior is None else 1),
    ("P_PDH", _prior("high")),
    ("P_PDL", _prior("low")),
    ("P_PDC", _prior("close")),
    ("P_BATCH", attrgetter("batch")),
    (
        "P_GAMMA_RANGE",
        lambda s: max(
            s.cfg.universe_range_units, s.cfg.monitor_band_units + s.cfg.fuel_strike_range_units
        ),
    ),
    ("P_FINAL", _per_call),  # 1 on the session's last call
    ("P_K_LAST", _per_call),  # last snap index the call may close
)

FLOAT_PARAMS: tuple[tuple[str, Getter], ...] = (
    ("Q_R_VAC", _cfg("r_vac")),
    ("Q_R_WALL", _cfg("r_wall")),
    ("Q_VEL_FULL", _cfg("velocity_full_scale")),
    ("Q_W_L", _cfg("w_liquidity")),
    ("Q_W_H", _cfg("w_hedge")),
    ("Q_W_T", _cfg("w_tape")),
    ("Q_BREAK_ENTER", _cfg("break_enter")),
    ("Q_BREAK_EXIT", _cfg("break_exit")),
    ("Q_REJECT_ENTER", _cfg("reject_enter")),
    ("Q_REJECT_EXIT", _cfg("reject_exit")),
    ("Q_CONTESTED_LO", _cfg("contested_low")),
    ("Q_CONTESTED_HI", _cfg("contested_high")),
    ("Q_GAMMA_T", _cfg("gamma_threshold")),
    ("Q_WALL_T", _cfg("wall_threshold")),
    ("Q_RATE", _cfg("rate")),
    # the five EWMA time constants, consecutive in snap_codes' EW_* order (read as Q_TAU0 + k)
    ("Q_TAU0", _cfg("tau_score_s")),
    ("Q_TAU1", _cfg("tau_velocity_s")),
    ("Q_TAU2", _cfg("tau_delta_liq_s")),
    ("Q_TAU3", _cfg("tau_replenishment_s")),
    ("Q_TAU4", _cfg("tau_dealer_gamma_s")),
    ("Q_DT_CAP", _cfg("ewma_dt_cap_s")),
    ("Q_CONF_HIGH", _cfg("confidence_high")),
    ("Q_CONF_MEDIUM", _cfg("confidence_medium")),
)
