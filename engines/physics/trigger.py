"""Per-level trigger with hysteresis, SPEC §5.5 and §5.11.

One state machine per level id (the caller owns a ``dict[str, TriggerState]``); the seed system
shared one machine across levels, which let one level's score latch another's signal.

Latched states: NEUTRAL, BREAK, REJECT. A transition is *armed* at the first snap where its
condition holds and *fires* at the first snap with ``ts >= armed_ts + hold`` provided the condition
held at every consecutive snap in between, that one included. The run is broken (disarmed) by a
snap where the condition fails or by a gap: the level was not scored at the immediately preceding
snap (``prev_ts_ns != ts_ns − snap_ns``); the current snap may then arm a new run. A new latched
state's conditions are first evaluated at the snap after it fired.

Transitions: NEUTRAL → BREAK (score >= break_enter), NEUTRAL → REJECT (score <= reject_enter and
distance <= touch_band; BREAK is checked first should both hold), BREAK → NEUTRAL (score <
break_exit), REJECT → NEUTRAL (score > reject_exit or distance > touch_band).
CONTESTED is a non-latching label shown when the latched state is NEUTRAL, contested_low <= score
<= contested_high, barrier CONSUMED and buy+sell >= contested_volume. A NaN score satisfies no
score condition (a REJECT may still exit on distance).
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.contract.config import EngineConfig

NEUTRAL = "NEUTRAL"
BREAK = "BREAK"
REJECT = "REJECT"
CONTESTED = "CONTESTED"
SIGNALS = (NEUTRAL, BREAK, REJECT, CONTESTED)  # the Gold ``signal`` values (latched state or label)


@dataclass(frozen=True)
class TriggerState:
    """Latched state of one level and the transition currently armed (if any)."""

    state: str = NEUTRAL  # NEUTRAL | BREAK | REJECT
    armed: str | None = None  # target state of the armed transition
    armed_ts_ns: int | None = None  # snap at which the armed condition first held
    entered_ts_ns: int | None = None  # snap at which ``state`` was latched (None: session start)


def _candidate(cfg: EngineConfig, state: str, score: float, distance_units: int) -> str | None:
    """The transition whose condition holds at this snap, if any."""
    touch = cfg.touch_band_units
    if state == NEUTRAL:
        if score >= cfg.break_enter:
            return BREAK
        if score <= cfg.reject_enter and distance_units <= touch:
            return REJECT
        return None
    if state == BREAK:
        return NEUTRAL if score < cfg.break_exit else None
    if state == REJECT:
        return NEUTRAL if (score > cfg.reject_exit or distance_units > touch) else None
    raise ValueError(f"unknown trigger state {state!r}")


def _contested(cfg: EngineConfig, score: float, barrier_state: str, volume: int) -> bool:
    return (
        cfg.contested_low <= score <= cfg.contested_high
        and barrier_state == "CONSUMED"
        and volume >= cfg.contested_volume
    )


def step_trigger(
    cfg: EngineConfig,
    prev: TriggerState | None,
    ts_ns: int,
    smooth_score: float,
    distance_units: int,
    barrier_state: str,
    volume: int,
    prev_ts_ns: int | None,
    snap_ns: int,
) -> tuple[TriggerState, str]:
    """Advance one level's trigger at snap ``ts_ns``; returns the new state and the signal.

    ``prev_ts_ns`` is the snap at which this level was last scored (None if never); ``volume`` is
    the tape's buy + sell volume in the band; ``distance_units`` is |spot − L| in int64 units.
    """
    st = prev if prev is not None else TriggerState()
    contiguous = prev_ts_ns is not None and prev_ts_ns == ts_ns - snap_ns
    armed, armed_ts = st.armed, st.armed_ts_ns
    if armed is not None and not contiguous:
        armed, armed_ts = None, None

    cand = _candidate(cfg, st.state, smooth_score, distance_units)
    if cand is None:
        armed, armed_ts = None, None
    elif cand != armed:
        armed, armed_ts = cand, ts_ns

    if armed is not None and armed_ts is not None and ts_ns >= armed_ts + cfg.hold_ns:
        new = TriggerState(state=armed, armed=None, armed_ts_ns=None, entered_ts_ns=ts_ns)
    else:
        new = TriggerState(
            state=st.state, armed=armed, armed_ts_ns=armed_ts, entered_ts_ns=st.entered_ts_ns
        )

    if new.state != NEUTRAL:
        signal = new.state
    elif _contested(cfg, smooth_score, barrier_state, volume):
        signal = CONTESTED
    else:
        signal = NEUTRAL
    return new, signal
