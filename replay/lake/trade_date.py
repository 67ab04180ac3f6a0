"""CME trade dates of UTC nanosecond timestamps (SPEC §2.3), vectorised but exact.

Convert to America/Chicago with ``zoneinfo`` (pinned ``tzdata``), add 7 hours, take the date, and
roll Saturday/Sunday forward to Monday. Offsets are piecewise constant, so instead of one
``datetime`` per record we find the (rare) DST transitions inside the batch's time span by
bisection on ``zoneinfo`` and apply each constant offset to its slice.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

CHICAGO = ZoneInfo("America/Chicago")
NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
_EPOCH = dt.date(1970, 1, 1)
_SHIFT_NS = 7 * 3600 * NS_PER_S


def utc_offset_ns(ts_ns: int) -> int:
    """Chicago's UTC offset (ns) at one instant."""
    t = dt.datetime.fromtimestamp(ts_ns // NS_PER_S, tz=dt.UTC).astimezone(CHICAGO)
    off = t.utcoffset()
    assert off is not None
    return int(off.total_seconds()) * NS_PER_S


def _transition_between(lo_ns: int, hi_ns: int) -> int:
    """First second in (lo, hi] whose offset differs from lo's (offsets differ at the ends)."""
    base = utc_offset_ns(lo_ns)
    lo_s, hi_s = lo_ns // NS_PER_S, hi_ns // NS_PER_S
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if utc_offset_ns(mid * NS_PER_S) == base:
            lo_s = mid
        else:
            hi_s = mid
    return hi_s * NS_PER_S


def chicago_offsets(ts_ns: np.ndarray) -> np.ndarray:
    """Per-timestamp UTC offset in ns (int64), exact at DST transitions."""
    ts = np.asarray(ts_ns, dtype=np.int64)
    out = np.empty(ts.shape[0], dtype=np.int64)
    if ts.shape[0] == 0:
        return out
    lo, hi = int(ts.min()), int(ts.max())
    # Collect transition instants in [lo, hi] by walking day-sized steps (DST changes are rare).
    edges: list[int] = []
    step = 12 * 3600 * NS_PER_S
    cur = lo
    cur_off = utc_offset_ns(cur)
    while cur < hi:
        nxt = min(cur + step, hi)
        nxt_off = utc_offset_ns(nxt)
        if nxt_off != cur_off:
            edges.append(_transition_between(cur, nxt))
            cur_off = nxt_off
        cur = nxt
    if not edges:
        out[:] = utc_offset_ns(lo)
        return out
    bounds = np.asarray(edges, dtype=np.int64)
    seg = np.searchsorted(bounds, ts, side="right")
    offs = np.asarray([utc_offset_ns(lo)] + [utc_offset_ns(e) for e in edges], dtype=np.int64)
    out[:] = offs[seg]
    return out


def trade_day_numbers(ts_ns: np.ndarray) -> np.ndarray:
    """CME trade date of each timestamp as days since 1970-01-01 (int64, i.e. Arrow date32)."""
    ts = np.asarray(ts_ns, dtype=np.int64)
    local = ts + chicago_offsets(ts) + _SHIFT_NS
    days = np.floor_divide(local, NS_PER_DAY)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
    days = days + np.where(weekday == 5, 2, 0) + np.where(weekday == 6, 1, 0)
    return days.astype(np.int64)


def day_number_to_date(day: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day))


def date_to_day_number(d: dt.date) -> int:
    return (d - _EPOCH).days


def trade_date_of(ts_ns: int) -> dt.date:
    """Scalar convenience for one timestamp."""
    return day_number_to_date(int(trade_day_numbers(np.asarray([ts_ns]))[0]))
