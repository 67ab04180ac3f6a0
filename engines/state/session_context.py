"""Session context for the level universe, SPEC §5.7 and §5.11: levels folded from the primary
future's trades (VWAP, session / pre-market / opening-range extremes, 2-minute SMAs) plus the
previous session's high, low and close.

Pure and immutable: ``fold_trades(ctx, batch)`` returns a *new* ``SessionContext`` and never
mutates the old one or its arrays, so a caller may keep any earlier context (e.g. to compare
chunkings) and folding the same trades in any chunking gives the same context.

Exactness:

* VWAP numerator Σ px·size exceeds int64 within a day (7e12 units × a few million contracts), so
  each batch is summed by a numba kernel into a 128-bit (hi, lo) pair of uint64 words and then
  added to a Python ``int``; the denominator Σ size is a Python ``int`` too. VWAP is
  ``floor(num / den)`` in int64 units.
* SMAs sum at most ``max(sma_periods)`` int64 closes split into 32-bit halves (each half's sum
  fits int64 for fewer than 2^31 closes), then floor-divide as Python ints.

Time windows are computed once at ``create`` from the trade date in America/Chicago (``zoneinfo``)
as UTC ns half-open intervals: PM ``[03:00, 08:30)`` and OR ``[08:30, 08:45)`` local time, so a DST
change moves the UTC boundaries (OR 14:30 UTC under CST, 13:30 UTC under CDT).

2-minute bars are aligned to multiples of ``sma_bar_s`` seconds since the epoch: bar b holds
``b·Δ <= ts_recv < (b+1)·Δ``; its close is its last trade in event order; it is *closed* at snap T
when ``(b+1)·Δ <= T``; bars without trades have no close. Finalised closes live in a bounded
buffer of the last ``max(sma_periods)`` closes (memory does not grow with the session); the
newest bar is kept apart as ``pending`` because later trades may still change its close, and it
counts for an SMA only once it is closed at the query time.

Contract with the driver (SPEC §2.4): trades arrive in merged order (``ts_recv`` non-decreasing
within and across batches, checked) and before a query at snap T only trades with
``ts_recv <= T`` have been folded. Trades whose price is ``UNDEF_PRICE`` are ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import numpy as np
from numba import njit

from engines.contract.config import NS_PER_S, EngineConfig
from engines.contract.events import UNDEF_PRICE, TradeBatch

CHICAGO = ZoneInfo("America/Chicago")

VWAP = "VWAP"
SESSION_HIGH = "SESSION_HIGH"
SESSION_LOW = "SESSION_LOW"
PM_HIGH = "PM_HIGH"
PM_LOW = "PM_LOW"
OR_HIGH = "OR_HIGH"
OR_LOW = "OR_LOW"
PDH = "PDH"
PDL = "PDL"
PDC = "PDC"
CONTEXT_KINDS = (VWAP, SESSION_HIGH, SESSION_LOW, PM_HIGH, PM_LOW, OR_HIGH, OR_LOW, PDH, PDL, PDC)

_PM_START = dt.time(3, 0)
_PM_END = dt.time(8, 30)
_OR_START = dt.time(8, 30)
_OR_END = dt.time(8, 45)
_SIZE_LIMIT = 1 << 32  # sizes are uint32 on the wire; the 128-bit kernel relies on it


@dataclass(frozen=True)
class PriorSession:
    """Previous session's high, low and last trade (int64 units), from its Bronze (PDH/PDL/PDC)."""

    high: int
    low: int
    close: int


@dataclass(frozen=True, eq=False)
class SessionContext:
    """Session levels folded so far. Build with ``create``; advance with ``fold_trades``.

    ``None`` means "not yet defined" (no trade in the session / window yet).
    """

    trade_date: dt.date
    prior: PriorSession | None
    pm_start_ns: int  # UTC ns, inclusive
    pm_end_ns: int  # UTC ns, exclusive
    or_start_ns: int
    or_end_ns: int
    bar_ns: int
    sma_periods: tuple[int, ...]
    # running state
    vwap_num: int  # Σ px·size, exact Python int
    vwap_den: int  # Σ size, exact Python int
    trade_count: int
    last_ts: int | None
    last_px: int | None
    session_high: int | None
    session_low: int | None
    pm_high: int | None
    pm_low: int | None
    or_high: int | None
    or_low: int | None
    closes: np.ndarray  # int64 (<= max(sma_periods),) finalised bar closes, oldest first
    pending_bar: int | None  # index b of the newest bar with a trade (may still be open)
    pending_close: int | None

    @staticmethod
    def create(
        cfg: EngineConfig, trade_date: dt.date, prior: PriorSession | None
    ) -> SessionContext:
        """Empty context for ``trade_date``; Chicago window boundaries resolved once, here."""
        return SessionContext(
            trade_date=trade_date,
            prior=prior,
            pm_start_ns=chicago_ns(trade_date, _PM_START),
            pm_end_ns=chicago_ns(trade_date, _PM_END),
            or_start_ns=chicago_ns(trade_date, _OR_START),
            or_end_ns=chicago_ns(trade_date, _OR_END),
            bar_ns=cfg.sma_bar_s * NS_PER_S,
            sma_periods=tuple(cfg.sma_periods),
            vwap_num=0,
            vwap_den=0,
            trade_count=0,
            last_ts=None,
            last_px=None,
            session_high=None,
            session_low=None,
            pm_high=None,
            pm_low=None,
            or_high=None,
            or_low=None,
            closes=np.zeros(0, dtype=np.int64),
            pending_bar=None,
            pending_close=None,
        )

    # ----- queries at snap time T -----
    def vwap(self) -> int | None:
        """Session VWAP floored to an int64 unit; None while Σ size is 0."""
        if self.vwap_den <= 0:
            return None
        return self.vwap_num // self.vwap_den

    def closed_closes(self, t_ns: int) -> np.ndarray:
        """Closes of the bars closed at T, oldest first (at most ``max(sma_periods)`` + 1)."""
        if self.pending_bar is not None and (self.pending_bar + 1) * self.bar_ns <= t_ns:
            return np.append(self.closes, np.int64(self.pending_close))
        return self.closes

    def sma(self, period: int, t_ns: int) -> int | None:
        """Mean of the last ``period`` closed-bar closes at T, floored; None with fewer closes."""
        c = self.closed_closes(t_ns)
        if period <= 0 or c.shape[0] < period:
            return None
        return _exact_sum(c[-period:]) // period

    def as_prior(self) -> PriorSession | None:
        """This session as the next one's PDH/PDL/PDC (None when it had no trade)."""
        if self.last_px is None or self.session_high is None or self.session_low is None:
            return None
        return PriorSession(high=self.session_high, low=self.session_low, close=self.last_px)

    def levels(self, t_ns: int) -> tuple[tuple[str, int], ...]:
        """Moving levels defined at T as (id, price) pairs; id doubles as the kind (SPEC §5.7)."""
        out: list[tuple[str, int]] = []

        def put(name: str, px: int | None) -> None:
            if px is not None:
                out.append((name, int(px)))

        put(VWAP, self.vwap())
        put(SESSION_HIGH, self.session_high)
        put(SESSION_LOW, self.session_low)
        put(PM_HIGH, self.pm_high)
        put(PM_LOW, self.pm_low)
        put(OR_HIGH, self.or_high)
        put(OR_LOW, self.or_low)
        for p in self.sma_periods:
            put(f"SMA_{p}", self.sma(p, t_ns))
        if self.prior is not None:
            put(PDH, self.prior.high)
            put(PDL, self.prior.low)
            put(PDC, self.prior.close)
        return tuple(out)


def chicago_ns(day: dt.date, local: dt.time) -> int:
    """UTC ns of a wall-clock time in America/Chicago on ``day`` (whole seconds, exact)."""
    aware = dt.datetime.combine(day, local, tzinfo=CHICAGO)
    utc = aware.astimezone(dt.UTC).replace(tzinfo=None)
    return (utc - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1) * 1000


# ---------------------------------------------------------------------------------------------
# kernels


@njit(cache=True)
def _sum_px_size_u128(px, size):  # type: ignore[no-untyped-def]
    """Σ px·size over non-negative px (as uint64 magnitude) and size < 2^32, as 128-bit (hi, lo).

    px = p1·2^32 + p0 with p0, p1 < 2^32, so p0·s < 2^64 and p1·s < 2^64: both fit uint64 and
    are added into (hi, lo) with explicit carries. Every constant is uint64 so that numba never
    promotes to float.
    """
    mask = np.uint64(0xFFFFFFFF)
    sh = np.uint64(32)
    one = np.uint64(1)
    hi = np.uint64(0)
    lo = np.uint64(0)
    for i in range(px.shape[0]):
        p = np.uint64(px[i])
        s = np.uint64(size[i])
        a = (p & mask) * s
        b = (p >> sh) * s
        n = lo + a
        if n < lo:
            hi += one
        lo = n
        n = lo + ((b & mask) << sh)
        if n < lo:
            hi += one
        lo = n
        hi += b >> sh
    return hi, lo


def _sum_px_size(px: np.ndarray, size: np.ndarray) -> int:
    """Exact Σ px·size as a Python int (prices of either sign)."""
    neg = px < 0
    if not neg.any():
        hi, lo = _sum_px_size_u128(px, size)
        return (int(hi) << 64) + int(lo)
    # magnitudes of negative prices as uint64 (INT64_MIN maps to 2^63, still exact)
    hp, lp = _sum_px_size_u128(px[~neg], size[~neg])
    mag = (-px[neg]).astype(np.uint64)
    hn, ln = _sum_px_size_u128(mag, size[neg])
    return ((int(hp) << 64) + int(lp)) - ((int(hn) << 64) + int(ln))


def _exact_sum(x: np.ndarray) -> int:
    """Exact Σ of int64 values: high and low 32-bit halves summed separately (n < 2^31)."""
    x = np.asarray(x, dtype=np.int64)
    return (int(np.sum(x >> 32)) << 32) + int(np.sum(x & 0xFFFFFFFF))


def _minmax(px: np.ndarray, old_hi: int | None, old_lo: int | None) -> tuple[int, int]:
    hi = int(px.max())
    lo = int(px.min())
    if old_hi is not None and old_hi > hi:
        hi = old_hi
    if old_lo is not None and old_lo < lo:
        lo = old_lo
    return hi, lo


def _window_minmax(
    ts: np.ndarray, px: np.ndarray, start: int, end: int, old_hi: int | None, old_lo: int | None
) -> tuple[int | None, int | None]:
    """Extend a window's high/low with the batch's trades in ``[start, end)`` (ts sorted)."""
    a = int(np.searchsorted(ts, start, side="left"))
    b = int(np.searchsorted(ts, end, side="left"))
    if a >= b:
        return old_hi, old_lo
    return _minmax(px[a:b], old_hi, old_lo)


# ---------------------------------------------------------------------------------------------
# fold


def fold_trades(ctx: SessionContext, batch: TradeBatch) -> SessionContext:
    """Fold a batch of primary-future trades (merged order); returns a new context.

    Vectorised per batch (numpy + one numba kernel); the only Python work is per batch.
    Raises ``ValueError`` when ``ts_recv`` goes backwards or a size is outside [0, 2^32).
    """
    if len(batch) == 0:
        return ctx
    ts = np.asarray(batch.ts_recv, dtype=np.int64)
    px = np.asarray(batch.price, dtype=np.int64)
    sz = np.asarray(batch.size, dtype=np.int64)
    if ts.shape[0] > 1 and bool(np.any(ts[1:] < ts[:-1])):
        raise ValueError("trades must be in merged order: ts_recv decreases inside the batch")
    if ctx.last_ts is not None and int(ts[0]) < ctx.last_ts:
        raise ValueError("trades must be in merged order: batch starts before the last trade")
    if bool(np.any(sz < 0)) or bool(np.any(sz >= _SIZE_LIMIT)):
        raise ValueError("trade size outside [0, 2^32)")
    ok = px != UNDEF_PRICE
    if not ok.all():
        ts, px, sz = ts[ok], px[ok], sz[ok]
        if ts.shape[0] == 0:
            return ctx

    num = ctx.vwap_num + _sum_px_size(px, sz)
    den = ctx.vwap_den + int(_exact_sum(sz))
    s_hi, s_lo = _minmax(px, ctx.session_high, ctx.session_low)
    pm_hi, pm_lo = _window_minmax(ts, px, ctx.pm_start_ns, ctx.pm_end_ns, ctx.pm_high, ctx.pm_low)
    or_hi, or_lo = _window_minmax(ts, px, ctx.or_start_ns, ctx.or_end_ns, ctx.or_high, ctx.or_low)

    # 2-minute bars: last trade of each bar present in the batch (ts sorted => bars contiguous)
    bar = ts // ctx.bar_ns
    last_idx = np.flatnonzero(np.append(bar[1:] != bar[:-1], True))
    bar_ids = bar[last_idx]
    bar_closes = px[last_idx]
    finished: list[np.ndarray] = [ctx.closes]
    if ctx.pending_bar is not None and ctx.pending_bar != int(bar_ids[0]):
        finished.append(np.array([ctx.pending_close], dtype=np.int64))
    finished.append(bar_closes[:-1])
    cap = max(ctx.sma_periods, default=0)
    closes = np.concatenate(finished)
    closes = closes[closes.shape[0] - cap :] if closes.shape[0] > cap else closes
    if cap == 0:
        closes = np.zeros(0, dtype=np.int64)

    return replace(
        ctx,
        vwap_num=num,
        vwap_den=den,
        trade_count=ctx.trade_count + int(ts.shape[0]),
        last_ts=int(ts[-1]),
        last_px=int(px[-1]),
        session_high=s_hi,
        session_low=s_lo,
        pm_high=pm_hi,
        pm_low=pm_lo,
        or_high=or_hi,
        or_low=or_lo,
        closes=np.ascontiguousarray(closes, dtype=np.int64),
        pending_bar=int(bar_ids[-1]),
        pending_close=int(bar_closes[-1]),
    )
