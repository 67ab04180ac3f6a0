"""Integer codes and array layouts shared by the fast snap kernel and its Python glue.

The fast path (``engines/snap_kernel.py``) keeps no Python object per snap or level: strings of
the Gold enums are small integer codes here, per-level state lives in rows of int/float arrays,
and Gold rows are written into preallocated column arrays (``I_*`` int64, ``X_*`` float64).
Code order mirrors the reference tuples so decoding is a table lookup.
"""

from __future__ import annotations

import numpy as np

NONE = np.iinfo(np.int64).min  # "null" in int64 output columns and level state

# barrier states, in engines.barrier.BARRIER_STATES order
CONSUMED, VACUUM, WALL, ABSORPTION, WEAK, B_NEUTRAL = range(6)
BARRIER_NAMES = ("CONSUMED", "VACUUM", "WALL", "ABSORPTION", "WEAK", "NEUTRAL")
# fuel effects
AMPLIFY, DAMPEN, F_NEUTRAL = range(3)
FUEL_NAMES = ("AMPLIFY", "DAMPEN", "NEUTRAL")
# trigger states / signals (CONTESTED is a signal only)
S_NEUTRAL, S_BREAK, S_REJECT, S_CONTESTED = range(4)
SIGNAL_NAMES = ("NEUTRAL", "BREAK", "REJECT", "CONTESTED")
# directions
SUPPORT, RESISTANCE = 0, 1
DIRECTION_NAMES = ("SUPPORT", "RESISTANCE")
UP, DOWN = 0, 1
UPDOWN_NAMES = ("UP", "DOWN")
CLEAR, OBSTRUCTED = 0, 1
QUALITY_NAMES = ("CLEAR", "OBSTRUCTED")
HIGH, MEDIUM, LOW = 0, 1, 2
CONF_UNDECIDED = -1  # mean too close to a threshold: Python's round(mean, 12) decides
CONFIDENCE_NAMES = ("HIGH", "MEDIUM", "LOW")

# level types: three price-anchored kinds, then the moving ones (id == kind)
T_ROUND, T_STRIKE, T_USER = 0, 1, 2
ANCHORED_KINDS = ("ROUND", "STRIKE", "USER")
MOVING_KINDS = (
    "VWAP",
    "SESSION_HIGH",
    "SESSION_LOW",
    "PM_HIGH",
    "PM_LOW",
    "OR_HIGH",
    "OR_LOW",
    "PDH",
    "PDL",
    "PDC",
    "CALL_WALL",
    "PUT_WALL",
    "GAMMA_FLIP",
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

# Gold int64 output columns
(
    I_TS,
    I_SNAP,
    I_SPOT,
    I_BID,
    I_ASK,
    I_LTYPE,
    I_LPX,
    I_DIR,
    I_BSTATE,
    I_DLIQ,
    I_ADDED,
    I_CXL,
    I_FILL,
    I_DPX,
    I_DSZ,
    I_CHURN,
    I_DEPTH,
    I_BUY,
    I_SELL,
    I_SWDIR,
    I_SWH,
    I_SWL,
    I_SWN,
    I_FEFF,
    I_CWALL,
    I_PWALL,
    I_FLIP,
    I_SIG,
    I_CONF,
    I_ABARS,
    I_TOUCH,
    I_RDIR,
    I_OTYPE,
    I_OPX,
    I_QUAL,
    I_EWMASK,
) = range(36)
N_I = 36
# Gold float64 output columns
(
    X_DIST,
    X_DLIQ_S,
    X_RATIO,
    X_RATIO_S,
    X_BCONF,
    X_IMB,
    X_VEL,
    X_VEL_S,
    X_SWMS,
    X_TCONF,
    X_NET,
    X_NET_S,
    X_FCONF,
    X_LS,
    X_HS,
    X_TS,
    X_RAW,
    X_SMOOTH,
    X_AVEL,
    X_RPTS,
) = range(20)
N_X = 20

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
