"""Integer codes and array layouts shared by the fast snap kernel and its Python glue.

The fast path (``engines/fast/snap_kernel.py``) keeps no Python object per snap or level: strings of
the Gold enums are small integer codes here (code i is the owning module's tuple entry i), per-level
state lives in rows of int/float arrays, and Gold rows are written into preallocated column arrays
whose slots (``I_*`` int64, ``X_*`` float64) are derived from the Gold column table
(``engines/columns/gold_columns.py``), so a new column's slot exists as soon as its table row does;
the parameter codes (``P_*``, ``Q_*``) are numbered from ``engines/fast/params.py`` the same way.
"""

from __future__ import annotations

import numpy as np

from engines.columns.gold_columns import fast_slots
from engines.fast.params import FLOAT_PARAMS, INT_PARAMS
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

# Parameters: P_<NAME> rows of the int64 array (pi), Q_<NAME> rows of the float64 array (pf),
# numbered in the order of engines/fast/params.py's tables, which also say where each value comes
# from (module constants, so numba compiles them in as literals).
globals().update({name: i for i, (name, _) in enumerate(INT_PARAMS)})
globals().update({name: i for i, (name, _) in enumerate(FLOAT_PARAMS)})
N_PI = len(INT_PARAMS)
N_PF = len(FLOAT_PARAMS)
