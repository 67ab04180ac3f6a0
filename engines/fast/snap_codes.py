"""Integer codes and array layouts shared by the fast snap kernel and its Python glue.

The fast path (``engines/fast/snap_kernel.py``) keeps no Python object per snap or level: strings of
the Gold enums are small integer codes here (code i is the owning module's tuple entry i), per-level
state lives in rows of int/float arrays, and Gold rows are written into preallocated column arrays
whose slots (``I_*`` int64, ``X_*`` float64) are derived from the Gold column table
(``engines/columns/gold_columns.py``), so a new column's slot exists as soon as its table row does.
"""

from __future__ import annotations

import numpy as np

from engines.columns.gold_columns import fast_slots
from engines.physics import barrier, fuel, level_universe, room_to_run, score, trigger

NONE = np.iinfo(np.int64).min  # "null" in int64 output columns and level state

# Enum codes: positions in the owning module's tuple (what fast_rows decodes with)
BARRIER_NAMES = barrier.BARRIER_STATES
CONSUMED, VACUUM, WALL, ABSORPTION, WEAK, B_NEUTRAL = (
    BARRIER_NAMES.index(n)
    for n in (
        barrier.CONSUMED,
        barrier.VACUUM,
        barrier.WALL,
        barrier.ABSORPTION,
        barrier.WEAK,
        barrier.NEUTRAL,
    )
)
FUEL_NAMES = fuel.FUEL_EFFECTS
AMPLIFY, DAMPEN, F_NEUTRAL = (
    FUEL_NAMES.index(n) for n in (fuel.AMPLIFY, fuel.DAMPEN, fuel.NEUTRAL)
)
SIGNAL_NAMES = trigger.SIGNALS  # trigger states / signals (CONTESTED is a signal only)
S_NEUTRAL, S_BREAK, S_REJECT, S_CONTESTED = (
    SIGNAL_NAMES.index(n)
    for n in (trigger.NEUTRAL, trigger.BREAK, trigger.REJECT, trigger.CONTESTED)
)
DIRECTION_NAMES = barrier.DIRECTIONS
SUPPORT, RESISTANCE = (DIRECTION_NAMES.index(n) for n in (barrier.SUPPORT, barrier.RESISTANCE))
UPDOWN_NAMES = room_to_run.RUNWAY_DIRECTIONS  # runway and sweep directions share the codes
UP, DOWN = (UPDOWN_NAMES.index(n) for n in (room_to_run.UP, room_to_run.DOWN))
QUALITY_NAMES = room_to_run.RUNWAY_QUALITIES
CLEAR, OBSTRUCTED = (QUALITY_NAMES.index(n) for n in (room_to_run.CLEAR, room_to_run.OBSTRUCTED))
CONFIDENCE_NAMES = score.CONFIDENCES
HIGH, MEDIUM, LOW = (CONFIDENCE_NAMES.index(n) for n in (score.HIGH, score.MEDIUM, score.LOW))
CONF_UNDECIDED = -1  # mean too close to a threshold: Python's round(mean, 12) decides

# level types: three price-anchored kinds, then the moving ones (id == kind)
ANCHORED_KINDS = level_universe.ANCHORED_KINDS
MOVING_KINDS = level_universe.MOVING_KINDS
T_ROUND, T_STRIKE, T_USER = (
    ANCHORED_KINDS.index(n)
    for n in (level_universe.ROUND, level_universe.STRIKE, level_universe.USER)
)
(
    T_VWAP,
    T_SESSION_HIGH,
    T_SESSION_LOW,
    T_PM_HIGH,
    T_PM_LOW,
    T_OR_HIGH,
    T_OR_LOW,
    T_PDH,
    T_PDL,
    T_PDC,
    T_CALL_WALL,
    T_PUT_WALL,
    T_GAMMA_FLIP,
) = range(3, 3 + len(MOVING_KINDS))
T_SMA0 = 3 + len(MOVING_KINDS)  # SMA_<period> types follow, one per configured period

# per-level state: int64 columns (lv_i) and float64 EWMA values (lv_f)
L_TRIG = 0  # latched state
L_ARMED = 1  # armed target state, -1 none
L_ARMED_TS = 2
L_LAST_TS = 3  # last scored snap, NONE if never
L_TOUCHES = 4
L_IN_TOUCH = 5
L_EW_HAS = 6  # 5 columns: EWMA has a value
L_EW_TS = 11  # 5 columns: EWMA last sample ts
N_LI = 16
EW_SCORE, EW_VELOCITY, EW_DELTA_LIQ, EW_REPLENISH, EW_GAMMA = range(5)

# Gold output slots, derived from the column table: I_<NAME> rows of the int64 block, X_<NAME>
# rows of the float64 block (module constants, so numba compiles them in as literals).
I_SLOTS = fast_slots("I_")
X_SLOTS = fast_slots("X_")
globals().update({name: i for i, name in enumerate(I_SLOTS)})
globals().update({name: i for i, name in enumerate(X_SLOTS)})
N_I = len(I_SLOTS)
N_X = len(X_SLOTS)

# int64 parameters (pi)
(
    P_T0,
    P_SNAP,
    P_ZONE,
    P_WB,
    P_WT,
    P_TAPE_BAND,
    P_FUEL_RANGE,
    P_UNIV_RANGE,
    P_MONITOR,
    P_TOUCH,
    P_ROUND_STEP,
    P_HOLD,
    P_FLOW,
    P_WEAK,
    P_CHURN_FULL,
    P_TAPE_FULL,
    P_FUEL_FULL,
    P_CONTESTED_VOL,
    P_OBSTACLE,
    P_PER_MIN,
    P_BAR_NS,
    P_PM0,
    P_PM1,
    P_OR0,
    P_OR1,
    P_HAS_PRIOR,
    P_PDH,
    P_PDL,
    P_PDC,
    P_BATCH,
    P_GAMMA_RANGE,
    P_FINAL,
    P_K_LAST,
) = range(33)
N_PI = 33
# float64 parameters (pf)
Q_R_VAC, Q_R_WALL, Q_VEL_FULL, Q_W_L, Q_W_H, Q_W_T = range(6)
Q_BREAK_ENTER, Q_BREAK_EXIT, Q_REJECT_ENTER, Q_REJECT_EXIT = range(6, 10)
Q_CONTESTED_LO, Q_CONTESTED_HI, Q_GAMMA_T, Q_WALL_T, Q_RATE = range(10, 15)
Q_TAU0 = 15  # five taus in EW_* order
Q_DT_CAP, Q_CONF_HIGH, Q_CONF_MEDIUM = 20, 21, 22
N_PF = 23
