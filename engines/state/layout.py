"""The MarketState arrays' layout, defined once for the kernels and the fast engine alike:
per-(bucket, price) entry fields, the meta slots, sweep fields and book planes, and the
bucket of a timestamp."""

from __future__ import annotations

import numpy as np

from engines.contract.events import LV_ASK_PX, LV_ASK_SZ, LV_BID_PX, LV_BID_SZ, N_LEVELS
from engines.jit.borrowing_jit import borrowing_njit

# ----- per-(bucket, price) entry fields (also the columns of the window sums) -----
F_BID_ADD = 0
F_BID_CXL = 1  # while a bucket is open (scratch) this column holds bid *removed*
F_BID_FILL = 2
F_ASK_ADD = 3
F_ASK_CXL = 4  # scratch: ask removed
F_ASK_FILL = 5
F_BUY_VOL = 6  # aggressor B (lifted the ask)  -> passive for the ask side
F_SELL_VOL = 7  # aggressor A (hit the bid)    -> passive for the bid side
F_BUY_CNT = 8
F_SELL_CNT = 9
F_NONE_VOL = 10
F_NONE_CNT = 11
N_FIELDS = 12

# ----- meta: every scalar of the state, in one int64 array the kernels can mutate -----
M_T0 = 0
M_SNAP = 1
M_TICK = 2
M_BASE = 3  # grid slot 0 is price M_BASE * tick
M_NGRID = 4
M_ODD_N = 5
M_ODD_CAP = 6
M_CLOSED = 7  # last closed bucket (-1: none)
M_ENT_HEAD = 8
M_ENT_TAIL = 9
M_ENT_CAP = 10
M_CUR0 = 11  # first entry not yet subtracted from window 0 (barrier)
M_CUR1 = 12  # ... window 1 (tape)
M_W0 = 13
M_W1 = 14
M_RING = 15
M_DLOG_N = 16
M_TLOG_N = 17
M_LAST_DB = 18  # bucket of the last folded depth record (-1)
M_LAST_TB = 19  # bucket of the last folded trade (-1)
M_HAVE_PREV = 20
M_SEEN_FLAST = 21
M_HAS_CUR = 22
M_HAS_VALID = 23
M_N_CROSSED = 24
M_N_LOCKED = 25
M_N_ONESIDED = 26
M_N_DEPTH = 27
M_N_TRADES = 28
M_VW_HI = 29
M_VW_LO = 30
M_VW_SIZE = 31
M_HIGH = 32
M_LOW = 33
M_LAST_PX = 34
M_LAST_TS = 35
M_VR_HEAD = 36
M_VR_TAIL = 37
M_VR_CAP = 38
M_VEL_NS = 39
M_TAPE_NS = 40
M_GAP_NS = 41
M_SW_MIN = 42
M_CL_ACTIVE = 43
M_CL_SIDE = 44
M_CL_START = 45
M_CL_END = 46
M_CL_SIZE = 47
M_CL_N = 48
M_CL_MIN = 49
M_CL_MAX = 50
M_CL_NH = 51
M_CL_NL = 52
M_SW_HEAD = 53
M_SW_TAIL = 54
M_SW_CAP = 55
M_GRID_INIT = 56
M_N_BAD_TRADES = 57
M_LAST_DTS = 58
N_META = 59

# sweep ring columns
S_START = 0
S_END = 1
S_SIDE = 2
S_SIZE = 3
S_N = 4
S_MIN = 5
S_MAX = 6
S_NH = 7
S_NL = 8
N_SW = 9

# book planes: books[which, field, level]
B_PREV = 0  # previous record (any flags): depth-flow reference
B_CUR = 1  # current book (F_LAST rule), possibly invalid
B_VALID = 2  # last valid two-sided book: the quoted one
K_BPX = LV_BID_PX  # the planes of one record, as in DepthBatch.levels
K_APX = LV_ASK_PX
K_BSZ = LV_BID_SZ
K_ASZ = LV_ASK_SZ

_BIG = np.iinfo(np.int64).max
_MAX_CONTRIB_PER_RECORD = 4 * N_LEVELS  # <= 20 distinct prices per side, two sides
_INIT_GRID = 4096  # ticks: 1024 ES points


@borrowing_njit
def _bucket(ts: int, t0: int, snap: int) -> int:
    if ts <= t0:
        return 0
    return (ts - t0 + snap - 1) // snap
