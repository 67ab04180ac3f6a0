"""Session context: exact VWAP, extremes, PM/OR windows in Chicago time across DST, 2-minute bar
SMAs from closed bars only, prior session, chunking invariance."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.contract.config import PRICE_SCALE, EngineConfig
from engines.contract.events import UNDEF_PRICE, TradeBatch
from engines.state.session_context import (
    PriorSession,
    SessionContext,
    _sum_px_size,
    fold_trades,
)

U = PRICE_SCALE
NS = 1_000_000_000
CFG = EngineConfig()
CFG3 = EngineConfig(sma_periods=(3,))


def utc_ns(y: int, mo: int, d: int, h: int, mi: int, s: int = 0, ns: int = 0) -> int:
    return calendar.timegm((y, mo, d, h, mi, s)) * NS + ns


def pts(x: str) -> int:
    """Exact index points -> units via integer parsing of a decimal string."""
    whole, _, frac = x.partition(".")
    return int(whole) * U + int((frac + "000000000")[:9])


def batch(rows: list[tuple[int, int, int]]) -> TradeBatch:
    """rows of (ts_ns, price_units, size)."""
    ts = np.array([r[0] for r in rows], dtype=np.int64)
    px = np.array([r[1] for r in rows], dtype=np.int64)
    sz = np.array([r[2] for r in rows], dtype=np.int64)
    return TradeBatch(ts, px, sz, np.full(len(rows), ord("B"), dtype=np.uint8))


D10 = dt.date(2025, 3, 10)  # Monday, CDT (UTC-5): DST began Sunday 2025-03-09
D07 = dt.date(2025, 3, 7)  # Friday, CST (UTC-6)


# ----- VWAP -----


def test_vwap_exact_quarter_ticks() -> None:
    ctx = SessionContext.create(CFG, D10, None)
    assert ctx.vwap() is None  # no trade yet
    t = utc_ns(2025, 3, 10, 15, 0)
    ctx = fold_trades(ctx, batch([(t, pts("6800.25"), 3), (t + 1, pts("6800.50"), 1)]))
    # (3·6800.25 + 6800.50) / 4 = (20400.75 + 6800.50) / 4 = 27201.25 / 4 = 6800.3125 exactly
    assert ctx.vwap_num == 27_201_250_000_000
    assert ctx.vwap_den == 4
    assert ctx.vwap() == 6_800_312_500_000


def test_vwap_floors_to_a_unit() -> None:
    ctx = SessionContext.create(CFG, D10, None)
    t = utc_ns(2025, 3, 10, 15, 0)
    ctx = fold_trades(ctx, batch([(t, pts("6800.25"), 1), (t, pts("6800.50"), 2)]))
    # (6800.25 + 2·6800.50) / 3 = 20401.25 / 3 = 6800.41666… -> 6_800_416_666_666 units (floor)
    assert ctx.vwap() == 6_800_416_666_666


def test_vwap_numerator_beyond_int64_is_exact() -> None:
    ctx = SessionContext.create(CFG, D10, None)
    t = utc_ns(2025, 3, 10, 15, 0)
    big = (1 << 32) - 1  # largest uint32 size
    rows = [(t, pts("7000"), big), (t + 1, pts("7000.25"), big), (t + 2, pts("6999.75"), 7)]
    ctx = fold_trades(ctx, batch(rows))
    # 7000e9 · (2^32 − 1) ≈ 3.0e22 > int64 max 9.2e18: compare with Python ints
    expect_num = 7_000 * U * big + 7_000_250_000_000 * big + 6_999_750_000_000 * 7
    assert ctx.vwap_num == expect_num
    assert ctx.vwap_den == 2 * big + 7
    assert ctx.vwap() == expect_num // (2 * big + 7)


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1),
            st.integers(min_value=0, max_value=(1 << 32) - 1),
        ),
        max_size=40,
    )
)
@settings(max_examples=200, deadline=None)
def test_sum_px_size_kernel_matches_python_ints(rows: list[tuple[int, int]]) -> None:
    px = np.array([r[0] for r in rows], dtype=np.int64)
    sz = np.array([r[1] for r in rows], dtype=np.int64)
    assert _sum_px_size(px, sz) == sum(p * s for p, s in rows)


def test_zero_size_trade_sets_last_but_no_vwap() -> None:
    ctx = SessionContext.create(CFG, D10, None)
    ctx = fold_trades(ctx, batch([(utc_ns(2025, 3, 10, 15, 0), pts("6800"), 0)]))
    assert ctx.vwap() is None
    assert ctx.last_px == pts("6800")
    assert "VWAP" not in dict(ctx.levels(utc_ns(2025, 3, 10, 16, 0)))


def test_session_extremes_last_and_undefined_prices_ignored() -> None:
    ctx = SessionContext.create(CFG, D10, None)
    t = utc_ns(2025, 3, 10, 15, 0)
    rows = [(t, pts("6800"), 1), (t + 1, UNDEF_PRICE, 5), (t + 2, pts("6810.5"), 2)]
    ctx = fold_trades(ctx, batch(rows))
    ctx = fold_trades(ctx, batch([(t + 3, pts("6795.75"), 1), (t + 4, pts("6801"), 1)]))
    assert ctx.session_high == pts("6810.5")
    assert ctx.session_low == pts("6795.75")
    assert ctx.last_px == pts("6801")
    assert ctx.trade_count == 4  # the UNDEF_PRICE trade is not counted
    # VWAP = (6800 + 2·6810.5 + 6795.75 + 6801) / 5 = 34017.75 / 5 = 6803.55
    assert ctx.vwap() == 6_803_550_000_000


def test_out_of_order_and_bad_size_are_errors() -> None:
    ctx = SessionContext.create(CFG, D10, None)
    t = utc_ns(2025, 3, 10, 15, 0)
    with pytest.raises(ValueError, match="merged order"):
        fold_trades(ctx, batch([(t + 1, pts("6800"), 1), (t, pts("6800"), 1)]))
    ctx = fold_trades(ctx, batch([(t, pts("6800"), 1)]))
    with pytest.raises(ValueError, match="merged order"):
        fold_trades(ctx, batch([(t - 1, pts("6800"), 1)]))
    with pytest.raises(ValueError, match="size"):
        fold_trades(ctx, batch([(t, pts("6800"), 1 << 32)]))


# ----- PM / OR in Chicago time across DST -----


def test_window_boundaries_follow_dst() -> None:
    cdt = SessionContext.create(CFG, D10, None)  # UTC-5
    cst = SessionContext.create(CFG, D07, None)  # UTC-6
    # 03:00 CT = 08:00 UTC (CDT) / 09:00 UTC (CST); 08:30 CT = 13:30 / 14:30 UTC; 08:45 = +15 min
    assert cdt.pm_start_ns == utc_ns(2025, 3, 10, 8, 0)
    assert cdt.pm_end_ns == utc_ns(2025, 3, 10, 13, 30)
    assert cdt.or_start_ns == utc_ns(2025, 3, 10, 13, 30)
    assert cdt.or_end_ns == utc_ns(2025, 3, 10, 13, 45)
    assert cst.pm_start_ns == utc_ns(2025, 3, 7, 9, 0)
    assert cst.pm_end_ns == utc_ns(2025, 3, 7, 14, 30)
    assert cst.or_start_ns == utc_ns(2025, 3, 7, 14, 30)
    assert cst.or_end_ns == utc_ns(2025, 3, 7, 14, 45)


def test_pm_and_or_levels_cdt() -> None:
    ctx = SessionContext.create(CFG, D10, None)
    last = utc_ns(2025, 3, 10, 13, 45)
    rows = [
        (utc_ns(2025, 3, 10, 7, 59, 59, 999_999_999), pts("6000"), 1),  # 02:59:59.9 CDT: no PM
        (utc_ns(2025, 3, 10, 8, 0), pts("6001"), 1),  # 03:00 CDT: PM
        (utc_ns(2025, 3, 10, 13, 29, 59, 999_999_999), pts("5990"), 1),  # 08:29:59.9: PM
        (utc_ns(2025, 3, 10, 13, 30), pts("6010"), 1),  # 08:30: OR, not PM
        (utc_ns(2025, 3, 10, 13, 44, 59, 999_999_999), pts("6020"), 1),  # 08:44:59.9: OR
        (last, pts("6030"), 1),  # 08:45: neither
    ]
    # before any window trade: no PM / OR levels
    early = fold_trades(ctx, batch(rows[:1]))
    names = dict(early.levels(rows[0][0]))
    assert not {"PM_HIGH", "PM_LOW", "OR_HIGH", "OR_LOW"} & set(names)
    ctx = fold_trades(ctx, batch(rows))
    lv = dict(ctx.levels(last))
    assert (lv["PM_HIGH"], lv["PM_LOW"]) == (pts("6001"), pts("5990"))
    assert (lv["OR_HIGH"], lv["OR_LOW"]) == (pts("6020"), pts("6010"))
    assert (lv["SESSION_HIGH"], lv["SESSION_LOW"]) == (pts("6030"), pts("5990"))


def test_pm_and_or_levels_cst() -> None:
    ctx = SessionContext.create(CFG, D07, None)
    rows = [
        (utc_ns(2025, 3, 7, 8, 0), pts("6001"), 1),  # 02:00 CST: before PM
        (utc_ns(2025, 3, 7, 13, 30), pts("6010"), 1),  # 07:30 CST: PM (it was OR under CDT)
        (utc_ns(2025, 3, 7, 14, 29, 59, 999_999_999), pts("5990"), 1),  # 08:29:59.9: PM
        (utc_ns(2025, 3, 7, 14, 30), pts("6020"), 1),  # 08:30: OR
        (utc_ns(2025, 3, 7, 14, 44, 59, 999_999_999), pts("6015"), 1),  # OR
        (utc_ns(2025, 3, 7, 14, 45), pts("6030"), 1),  # neither
    ]
    ctx = fold_trades(ctx, batch(rows))
    assert (ctx.pm_high, ctx.pm_low) == (pts("6010"), pts("5990"))
    assert (ctx.or_high, ctx.or_low) == (pts("6020"), pts("6015"))


def test_pm_level_is_running_while_window_open() -> None:
    ctx = SessionContext.create(CFG, D10, None)
    ctx = fold_trades(ctx, batch([(utc_ns(2025, 3, 10, 9, 0), pts("6005"), 2)]))
    # one PM trade so far: high = low = 6005 (no hindsight: only trades folded up to T)
    assert (ctx.pm_high, ctx.pm_low) == (pts("6005"), pts("6005"))
    assert ctx.or_high is None


# ----- 2-minute bars and SMA -----


def test_bars_aligned_and_sma_from_closed_bars_only() -> None:
    t0 = utc_ns(2025, 3, 10, 14, 0)  # 14:00 UTC: 840 min into the day, a multiple of 120 s
    assert t0 % (120 * NS) == 0
    m = 60 * NS
    ctx = SessionContext.create(CFG3, D10, None)
    first = [
        (t0 + 10 * NS, pts("6000"), 1),  # bar0 [14:00, 14:02)
        (t0 + 2 * m - 1, pts("6001"), 1),  # bar0 last trade -> close 6001
        (t0 + 2 * m, pts("6002"), 1),  # exactly 14:02: bar1, not bar0
        (t0 + 3 * m, pts("6003.25"), 1),  # bar1 close 6003.25
    ]
    ctx = fold_trades(ctx, batch(first))
    # at 14:03:59.9 only bar0 is closed
    assert ctx.closed_closes(t0 + 4 * m - 1).tolist() == [pts("6001")]
    assert ctx.sma(3, t0 + 4 * m - 1) is None
    # bar2 [14:04, 14:06) has no trade -> no close; bar3 close 6004.50
    ctx = fold_trades(ctx, batch([(t0 + 6 * m + 30 * NS, pts("6004.5"), 4)]))
    # 14:07:59.9: bars 0, 1 closed, bar3 still open -> 2 closes < 3
    assert ctx.closed_closes(t0 + 8 * m - 1).tolist() == [pts("6001"), pts("6003.25")]
    assert ctx.sma(3, t0 + 8 * m - 1) is None
    assert "SMA_3" not in dict(ctx.levels(t0 + 8 * m - 1))
    # 14:08:00 exactly: bar3's end <= T -> closed.
    # (6001 + 6003.25 + 6004.50) / 3 = 18008.75 / 3 = 6002.91666… -> floor 6_002_916_666_666
    assert ctx.sma(3, t0 + 8 * m) == 6_002_916_666_666
    assert dict(ctx.levels(t0 + 8 * m))["SMA_3"] == 6_002_916_666_666
    # bar4 close 6010; at 14:10 the last 3 closes: (6003.25 + 6004.50 + 6010) / 3
    # = 18017.75 / 3 = 6005.91666… -> 6_005_916_666_666
    ctx = fold_trades(ctx, batch([(t0 + 8 * m + 5 * NS, pts("6010"), 1)]))
    assert ctx.sma(3, t0 + 10 * m) == 6_005_916_666_666
    # the buffer never holds more than max(sma_periods) finalised closes
    assert ctx.closes.shape[0] == 3
    assert ctx.pending_bar == (t0 + 8 * m) // (120 * NS)


def test_sma_ids_follow_config_periods() -> None:
    cfg = EngineConfig(sma_periods=(1, 2))
    t0 = utc_ns(2025, 3, 10, 14, 0)
    ctx = SessionContext.create(cfg, D10, None)
    ctx = fold_trades(ctx, batch([(t0, pts("6000"), 1), (t0 + 120 * NS, pts("6001"), 1)]))
    lv = dict(ctx.levels(t0 + 240 * NS))
    # closes [6000, 6001]: SMA_1 = 6001, SMA_2 = 6000.5
    assert lv["SMA_1"] == pts("6001")
    assert lv["SMA_2"] == pts("6000.5")


def test_default_sma_needs_200_closes() -> None:
    ctx = SessionContext.create(CFG, D10, None)
    t0 = utc_ns(2025, 3, 10, 0, 0)
    ts = t0 + np.arange(200, dtype=np.int64) * 120 * NS  # one trade per bar, 200 bars
    px = pts("6000") + np.arange(200, dtype=np.int64) * 250_000_000  # 6000, 6000.25, …
    ctx = fold_trades(ctx, TradeBatch(ts, px, np.ones(200, np.int64), np.zeros(200, np.uint8)))
    end = int(ts[-1]) + 120 * NS
    # 199 closed at the last bar's start; all 200 at its end
    assert ctx.sma(200, end - 1) is None
    # mean of 6000 + 0.25·k, k = 0..199 = 6000 + 0.25·99.5 = 6024.875
    assert ctx.sma(200, end) == pts("6024.875")
    assert ctx.sma(400, end) is None


# ----- prior session -----


def test_prior_session_levels() -> None:
    prior = PriorSession(high=pts("6050.25"), low=pts("5980"), close=pts("6011.75"))
    ctx = SessionContext.create(CFG, D10, prior)
    lv = dict(ctx.levels(utc_ns(2025, 3, 10, 0, 0)))
    assert lv == {"PDH": pts("6050.25"), "PDL": pts("5980"), "PDC": pts("6011.75")}
    assert SessionContext.create(CFG, D10, None).levels(0) == ()


def test_as_prior_carries_high_low_last() -> None:
    ctx = SessionContext.create(CFG, D07, None)
    assert ctx.as_prior() is None
    t = utc_ns(2025, 3, 7, 15, 0)
    ctx = fold_trades(ctx, batch([(t, pts("6000"), 1), (t + 1, pts("6020"), 1)]))
    ctx = fold_trades(ctx, batch([(t + 2, pts("5995.5"), 1), (t + 3, pts("6001"), 1)]))
    assert ctx.as_prior() == PriorSession(high=pts("6020"), low=pts("5995.5"), close=pts("6001"))


def test_fold_does_not_mutate_the_input_context() -> None:
    t0 = utc_ns(2025, 3, 10, 14, 0)
    a = SessionContext.create(CFG3, D10, None)
    a = fold_trades(a, batch([(t0, pts("6000"), 1), (t0 + 120 * NS, pts("6001"), 1)]))
    snap = (a.vwap_num, a.closes.copy(), a.pending_close)
    fold_trades(a, batch([(t0 + 240 * NS, pts("6100"), 9)]))
    assert (a.vwap_num, a.pending_close) == (snap[0], snap[2])
    assert np.array_equal(a.closes, snap[1])


# ----- chunking invariance -----


def _state(ctx: SessionContext) -> tuple[object, ...]:
    out: list[object] = []
    for f in dataclasses.fields(ctx):
        v = getattr(ctx, f.name)
        out.append(tuple(v.tolist()) if isinstance(v, np.ndarray) else v)
    return tuple(out)


TS_BASE = utc_ns(2025, 3, 10, 13, 20)  # 08:20 CDT: PM end and OR inside the span


@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=90 * NS),  # gap to the previous trade
            st.integers(min_value=-40, max_value=40),  # ticks from 6000
            st.integers(min_value=0, max_value=500),
        ),
        min_size=1,
        max_size=60,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=8),
)
@settings(max_examples=150, deadline=None)
def test_any_chunking_gives_the_same_context(
    steps: list[tuple[int, int, int]], cuts: list[int]
) -> None:
    cfg = EngineConfig(sma_periods=(2, 3))
    ts = TS_BASE + np.cumsum(np.array([s[0] for s in steps], dtype=np.int64))
    px = pts("6000") + np.array([s[1] for s in steps], dtype=np.int64) * 250_000_000
    sz = np.array([s[2] for s in steps], dtype=np.int64)
    side = np.full(len(steps), ord("A"), dtype=np.uint8)
    whole = fold_trades(SessionContext.create(cfg, D10, None), TradeBatch(ts, px, sz, side))

    bounds = sorted({0, len(steps), *(min(c, len(steps)) for c in cuts)})
    chunked = SessionContext.create(cfg, D10, None)
    for a, b in itertools.pairwise(bounds):
        chunked = fold_trades(chunked, TradeBatch(ts[a:b], px[a:b], sz[a:b], side[a:b]))
    assert _state(chunked) == _state(whole)
    t_end = int(ts[-1]) + 240 * NS
    for t in (int(ts[-1]), t_end):
        assert chunked.levels(t) == whole.levels(t)
    # Python-int reference for VWAP
    den = int(sz.sum())
    if den:
        assert whole.vwap() == sum(int(p) * int(s) for p, s in zip(px, sz, strict=True)) // den
