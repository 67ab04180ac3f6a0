"""MarketState (SPEC §5.1, §2.4): depth flow, book rule, trades, windows, chunking invariance."""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engines.contract.config import EngineConfig
from engines.contract.events import F_LAST, UNDEF_PRICE, DepthBatch, TradeBatch
from engines.state.layout import (
    F_ASK_ADD,
    F_ASK_CXL,
    F_ASK_FILL,
    F_BID_ADD,
    F_BID_CXL,
    F_BID_FILL,
    F_BUY_VOL,
    F_SELL_VOL,
    N_FIELDS,
)
from engines.state.market_state import MarketState

PT = 1_000_000_000  # one index point in units
TK = 250_000_000  # one ES tick
SNAP = 250_000_000  # 250 ms in ns
T0 = 1_700_000_000_000_000_000  # a multiple of 250 ms
P0 = 6000 * PT
A, B, N = ord("A"), ord("B"), ord("N")

Level = tuple[int, int]  # (price units, size)


def depth(rows: list[tuple[int, list[Level], list[Level], int]]) -> DepthBatch:
    """Build a DepthBatch from (ts, bids best-first, asks best-first, flags) rows."""
    n = len(rows)
    bpx = np.full((n, 10), UNDEF_PRICE, np.int64)
    apx = np.full((n, 10), UNDEF_PRICE, np.int64)
    bsz = np.zeros((n, 10), np.int64)
    asz = np.zeros((n, 10), np.int64)
    for i, (_, bids, asks, _) in enumerate(rows):
        for k, (p, s) in enumerate(bids):
            bpx[i, k], bsz[i, k] = p, s
        for k, (p, s) in enumerate(asks):
            apx[i, k], asz[i, k] = p, s
    z = np.zeros(n, np.int64)
    ts = np.array([r[0] for r in rows], np.int64)
    fl = np.array([r[3] for r in rows], np.uint8)
    return DepthBatch(ts, z, fl, DepthBatch.stack_levels(bpx, apx, bsz, asz))


def trades(rows: list[tuple[int, int, int, int]]) -> TradeBatch:
    """Build a TradeBatch from (ts, price, size, side byte) rows."""
    if not rows:
        return TradeBatch.empty()
    a = np.array(rows, dtype=np.int64)
    return TradeBatch(a[:, 0].copy(), a[:, 1].copy(), a[:, 2].copy(), a[:, 3].astype(np.uint8))


def ts_at(k: int, offset_ns: int = 0) -> int:
    """A time inside bucket k (offset 0 = exactly T_k, the bucket's last instant)."""
    return T0 + k * SNAP - offset_ns


def one_level(p: int, s: int) -> list[Level]:
    return [(p, s)]


# --------------------------------------------------------------------------- clock
def test_bucket_index() -> None:
    ms = MarketState.create(EngineConfig(), T0)
    assert ms.bucket_of(T0 - 7) == 0  # at or before T_0 -> bucket 0
    assert ms.bucket_of(T0) == 0
    assert ms.bucket_of(T0 + 1) == 1  # T_0 < ts <= T_1
    assert ms.bucket_of(T0 + SNAP) == 1
    assert ms.bucket_of(T0 + SNAP + 1) == 2


def test_advance_to_rejects_non_snap_and_late_events() -> None:
    ms = MarketState.create(EngineConfig(), T0)
    with pytest.raises(ValueError):
        ms.advance_to(T0 + 1)
    ms.advance_to(T0 + 2 * SNAP)
    with pytest.raises(ValueError):  # an event of an already closed bucket
        ms.fold_trades(trades([(T0 + 2 * SNAP, P0, 1, B)]))


# --------------------------------------------------------------------------- depth flow / book
def test_flast_book_vs_flow_on_every_record() -> None:
    cfg = EngineConfig()
    ms = MarketState.create(cfg, T0)
    ask = one_level(P0 + TK, 10)
    ms.fold_depth(
        depth(
            [
                (ts_at(1, 3), one_level(P0, 100), ask, F_LAST),  # first record: no flow
                (ts_at(1, 2), one_level(P0, 130), ask, 0),  # no F_LAST: +30 flow, not quoted
            ]
        )
    )
    bk = ms.book()
    assert bk is not None and int(bk.bid_sz[0]) == 100  # quoted book = last F_LAST record
    ms.fold_depth(depth([(ts_at(1, 1), one_level(P0, 90), ask, F_LAST)]))  # 130 -> 90: -40
    bk = ms.book()
    assert bk is not None and int(bk.bid_sz[0]) == 90
    ms.advance_to(ts_at(1))
    # added 30 (100 -> 130), canceled 40 (130 -> 90, no trades so nothing is filled)
    assert ms.window_depth("bid", P0, P0, 960) == (30, 40, 0)
    assert ms.window_depth("ask", P0, P0 + TK, 960) == (0, 0, 0)


def test_never_set_flast_uses_last_record_until_first_flast() -> None:
    ms = MarketState.create(EngineConfig(), T0)
    ask = one_level(P0 + TK, 10)
    ms.fold_depth(depth([(ts_at(1, 3), one_level(P0, 5), ask, 0)]))
    assert ms.book().bid_sz[0] == 5  # type: ignore[union-attr]  # no F_LAST so far: last record
    ms.fold_depth(depth([(ts_at(1, 2), one_level(P0, 6), ask, 0)]))
    assert ms.book().bid_sz[0] == 6  # type: ignore[union-attr]
    ms.fold_depth(depth([(ts_at(1, 1), one_level(P0, 7), ask, F_LAST)]))
    ms.fold_depth(depth([(ts_at(1, 0), one_level(P0, 8), ask, 0)]))
    assert ms.book().bid_sz[0] == 7  # type: ignore[union-attr]  # F_LAST seen: rule switches


def test_crossed_locked_one_sided_counted_last_valid_quoted() -> None:
    ms = MarketState.create(EngineConfig(), T0)
    rows = [
        (ts_at(1, 5), one_level(P0, 10), one_level(P0 + TK, 10), F_LAST),  # valid 6000/6000.25
        (ts_at(1, 4), one_level(P0 + 2 * TK, 10), one_level(P0 + TK, 10), F_LAST),  # crossed
        (ts_at(1, 3), one_level(P0 + TK, 10), one_level(P0 + TK, 10), F_LAST),  # locked
        (ts_at(1, 2), [], one_level(P0 + TK, 10), F_LAST),  # one-sided
        (ts_at(1, 1), one_level(P0 + 3 * TK, 10), one_level(P0, 10), 0),  # crossed, not quoted
    ]
    ms.fold_depth(depth(rows))
    c = ms.counters()
    assert (c["crossed_books"], c["locked_books"], c["one_sided_books"]) == (1, 1, 1)
    assert ms.bid() == P0 and ms.ask() == P0 + TK  # the first (last valid) book stays quoted
    assert not ms.book_is_current
    assert ms.mid() == P0 + TK // 2  # (6000 + 6000.25) // 2 = 6000.125 points
    assert ms.spot() == P0 + TK // 2  # no trade yet -> mid
    ms.fold_depth(depth([(ts_at(1, 0), one_level(P0 + TK, 1), one_level(P0 + 2 * TK, 1), F_LAST)]))
    assert ms.book_is_current and ms.bid() == P0 + TK


def test_book_shift_is_not_flow() -> None:
    """Ten full bid levels 6000 .. 5997.75; a new best at 6000.25 pushes 5997.75 out of view."""
    cfg = EngineConfig()
    ms = MarketState.create(cfg, T0)
    bids = [(P0 - k * TK, 10 + k) for k in range(10)]  # 5997.75 holds 19
    shifted = [(P0 + TK, 40), *bids[:9]]  # 6000.25 x 40 on top; 5997.75 no longer visible
    ask = one_level(P0 + 2 * TK, 5)
    ms.fold_depth(depth([(ts_at(1, 2), bids, ask, F_LAST), (ts_at(1, 1), shifted, ask, F_LAST)]))
    # back: 5997.75 reappears as the 10th level when the top is pulled -> also not an add
    ms.fold_depth(depth([(ts_at(1, 0), bids, ask, F_LAST)]))
    ms.advance_to(ts_at(1))
    low = P0 - 9 * TK
    # 5997.75 left and re-entered the window only through shifts: no flow at all there
    assert ms.window_depth("bid", low, low, 960) == (0, 0, 0)
    # 6000.25: +40 when it appeared, -40 when pulled (inside both ranges both times)
    assert ms.window_depth("bid", P0 + TK, P0 + TK, 960) == (40, 40, 0)
    # everything else unchanged: the whole side sums to the same 40 / 40
    assert ms.window_depth("bid", low - PT, P0 + PT, 960) == (40, 40, 0)


def test_fewer_than_ten_levels_whole_axis_and_absent_price_is_zero() -> None:
    ms = MarketState.create(EngineConfig(), T0)
    ask = one_level(P0 + 4 * TK, 5)
    ms.fold_depth(
        depth(
            [
                (ts_at(1, 1), [(P0, 10), (P0 - TK, 20)], ask, F_LAST),
                (
                    ts_at(1, 0),
                    [(P0, 10), (P0 - 2 * TK, 7)],
                    ask,
                    F_LAST,
                ),  # 5999.75 gone, 5999.5 new
            ]
        )
    )
    ms.advance_to(ts_at(1))
    assert ms.window_depth("bid", P0 - TK, P0 - TK, 960) == (0, 20, 0)  # 20 -> absent = 0
    assert ms.window_depth("bid", P0 - 2 * TK, P0 - 2 * TK, 960) == (7, 0, 0)


def test_malformed_sides_net_per_price() -> None:
    """Duplicate prices are summed per price; unsorted levels give the same flow as sorted."""
    ms = MarketState.create(EngineConfig(), T0)
    ask = one_level(P0 + 4 * TK, 5)
    ms.fold_depth(
        depth(
            [
                (ts_at(1, 3), [(P0, 10), (P0 - TK, 5), (P0, 4)], ask, F_LAST),  # 6000: 10 + 4
                (ts_at(1, 2), [(P0, 12), (P0 - TK, 5), (P0, 2)], ask, F_LAST),  # 12 + 2: no flow
                (
                    ts_at(1, 1),
                    [(P0 - TK, 8), (P0, 20)],
                    ask,
                    F_LAST,
                ),  # unsorted: 6000 +6, 5999.75 +3
            ]
        )
    )
    ms.advance_to(ts_at(1))
    assert ms.window_depth("bid", P0, P0, 960) == (6, 0, 0)  # 14 -> 14 -> 20
    assert ms.window_depth("bid", P0 - TK, P0 - TK, 960) == (3, 0, 0)  # 5 -> 5 -> 8


# --------------------------------------------------------------------------- trades
def test_vwap_exact_beyond_int64_and_floor() -> None:
    ms = MarketState.create(EngineConfig(), T0)
    p1, p2 = 7000 * PT + TK, 7000 * PT + 2 * TK  # 7000.25, 7000.50
    ms.fold_trades(trades([(ts_at(1, 2), p1, 1_000_000, B), (ts_at(1, 1), p2, 2_000_000, A)]))
    num, den = ms.vwap_sums()
    # Σ px·size = 7000.25e9·1e6 + 7000.5e9·2e6 = 7.00025e18 + 1.4001e19 = 21_001_250_000_000_000_000
    assert num == 21_001_250_000_000_000_000 and num > np.iinfo(np.int64).max
    assert den == 3_000_000
    # 21_001_250_000_000_000_000 / 3e6 = 7_000_416_666_666.67 -> floor 7_000_416_666_666
    assert ms.vwap() == 7_000_416_666_666
    assert ms.session_high() == p2 and ms.session_low() == p1
    assert ms.spot() == p2 and ms.last_trade_px() == p2


def test_window_trades_per_side_and_price() -> None:
    ms = MarketState.create(EngineConfig(), T0)
    ms.fold_trades(
        trades([(ts_at(1, 3), P0, 5, B), (ts_at(1, 2), P0, 7, A), (ts_at(1, 1), P0 + TK, 9, N)])
    )
    ms.advance_to(ts_at(1))
    assert ms.window_trades(P0, P0, 240) == (5, 7)
    row = ms.window_fields(np.array([P0]), np.array([P0 + TK]), 240)[0]
    assert row[F_BUY_VOL] == 5 and row[F_SELL_VOL] == 7  # N prints are neither B nor A


def test_mid_at_uses_prefold_state_and_batch() -> None:
    ms = MarketState.create(EngineConfig(), T0)
    ms.fold_depth(depth([(ts_at(1, 10), one_level(P0, 1), one_level(P0 + 2 * TK, 1), F_LAST)]))
    batch = depth(
        [
            (ts_at(1, 5), one_level(P0 + TK, 1), one_level(P0 + 2 * TK, 1), F_LAST),
            (ts_at(1, 3), one_level(P0 + 3 * TK, 1), one_level(P0 + 2 * TK, 1), F_LAST),  # crossed
            (ts_at(1, 2), one_level(P0, 1), one_level(P0 + 4 * TK, 1), 0),  # not F_LAST
        ]
    )
    q = np.array([ts_at(1, 6), ts_at(1, 5), ts_at(1, 3), ts_at(1, 1)], np.int64)
    out = ms.mid_at(q, batch)
    # before batch: (6000 + 6000.5)//2 = 6000.25; after rec 0: (6000.25+6000.5)//2 = 6000.375;
    # the crossed and the non-F_LAST records do not change the quoted mid
    assert out.tolist() == [P0 + TK, P0 + 3 * TK // 2, P0 + 3 * TK // 2, P0 + 3 * TK // 2]
    empty = MarketState.create(EngineConfig(), T0)
    assert empty.mid_at(np.array([T0]), DepthBatch.empty()).tolist() == [-1]
    assert ms.bid() == P0  # mid_at did not fold anything


def test_copy_is_independent() -> None:
    ms = MarketState.create(EngineConfig(), T0)
    ms.fold_trades(trades([(ts_at(1, 1), P0, 3, B)]))
    other = ms.copy()
    other.fold_trades(trades([(ts_at(1, 0), P0 + TK, 4, B)]))
    assert ms.spot() == P0 and other.spot() == P0 + TK
    assert copy.deepcopy(ms).vwap() == P0


def test_arbitrary_window_scans_ring_and_expires() -> None:
    ms = MarketState.create(EngineConfig(), T0)
    ask = one_level(P0 + TK, 1)
    ms.fold_depth(depth([(ts_at(1), one_level(P0, 10), ask, F_LAST)]))
    ms.fold_depth(depth([(ts_at(3), one_level(P0, 25), ask, F_LAST)]))  # +15 in bucket 3
    ms.advance_to(ts_at(5))
    assert ms.window_depth("bid", P0, P0, 3) == (15, 0, 0)  # buckets 3..5
    assert ms.window_depth("bid", P0, P0, 2) == (0, 0, 0)  # buckets 4..5
    with pytest.raises(ValueError):
        ms.window_depth("bid", P0, P0, 961)


# --------------------------------------------------------------------------- reference model
SMALL = EngineConfig(barrier_window_s=2, tape_window_s=1, velocity_window_s=1)  # 8 / 4 / 4 buckets


def _ref_side_flow(prev: list[Level], new: list[Level], bid: bool) -> dict[int, int]:
    """Spec-literal per-price size change of one side (dicts, no cleverness)."""

    def rng(levels: list[Level]) -> tuple[int, int]:
        live = [p for p, s in levels if p != UNDEF_PRICE and s > 0]
        if len(live) < 10:
            return (-(2**63), 2**63)
        return (levels[9][0], 2**63) if bid else (-(2**63), levels[9][0])

    def sizes(levels: list[Level]) -> dict[int, int]:
        d: dict[int, int] = defaultdict(int)
        for p, s in levels:
            if p != UNDEF_PRICE and s > 0:
                d[p] += s
        return d

    (a1, b1), (a2, b2) = rng(prev), rng(new)
    lo, hi = max(a1, a2), min(b1, b2)
    sp, sn = sizes(prev), sizes(new)
    return {
        p: sn.get(p, 0) - sp.get(p, 0)
        for p in set(sp) | set(sn)
        if lo <= p <= hi and sn.get(p, 0) != sp.get(p, 0)
    }


class RefModel:
    """Brute-force SPEC §5.1 windows: per-(bucket, side, price) aggregates, summed per query."""

    def __init__(self, cfg: EngineConfig) -> None:
        self.cfg = cfg
        self.agg: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * 6)
        self.prev: tuple[list[Level], list[Level]] | None = None

    def bucket(self, ts: int) -> int:
        return 0 if ts <= T0 else (ts - T0 + SNAP - 1) // SNAP

    def depth(self, ts: int, bids: list[Level], asks: list[Level]) -> None:
        k = self.bucket(ts)
        if self.prev is not None:
            for side, (old, new) in enumerate(((self.prev[0], bids), (self.prev[1], asks))):
                for p, d in _ref_side_flow(old, new, side == 0).items():
                    a = self.agg[(k, p)]
                    a[2 * side + (0 if d > 0 else 1)] += abs(d)  # [bid add, bid rem, ask ...]
        self.prev = (bids, asks)

    def trade(self, ts: int, p: int, s: int, side: int) -> None:
        a = self.agg[(self.bucket(ts), p)]
        if side == B:
            a[4] += s
        elif side == A:
            a[5] += s

    def query(self, k_now: int, w: int, lo: int, hi: int) -> list[int]:
        out = [0] * N_FIELDS
        for (k, p), (ba, br, aa, ar, buy, sell) in self.agg.items():
            if k_now - w < k <= k_now and lo <= p <= hi:
                fb, fa = min(br, sell), min(ar, buy)
                for f, v in (
                    (F_BID_ADD, ba),
                    (F_BID_CXL, br - fb),
                    (F_BID_FILL, fb),
                    (F_ASK_ADD, aa),
                    (F_ASK_CXL, ar - fa),
                    (F_ASK_FILL, fa),
                    (F_BUY_VOL, buy),
                    (F_SELL_VOL, sell),
                ):
                    out[f] += v
        return out


def _book_side(draw: st.DrawFn, center: int, bid: bool) -> list[Level]:
    n = draw(st.integers(0, 10))
    start = draw(st.integers(0, 3))
    steps = draw(st.lists(st.integers(1, 2), min_size=n, max_size=n))
    out: list[Level] = []
    k = start
    for step in steps:
        p = center - k * TK if bid else center + TK + k * TK
        if draw(st.integers(0, 30)) == 0:
            p += 100_000_000  # an off-grid price now and then (synthetic data)
        out.append((p, draw(st.integers(1, 60))))
        k += step
    quirk = draw(st.integers(0, 12))  # malformed sides exercise the general (slow) path
    if quirk == 0 and len(out) < 10:
        out.insert(draw(st.integers(0, len(out))), (UNDEF_PRICE, 0))  # a hole
    elif quirk == 1 and 0 < len(out) < 10:
        out.append((out[draw(st.integers(0, len(out) - 1))][0], draw(st.integers(1, 9))))  # dup
    elif quirk == 2:
        out = draw(st.permutations(out))  # unsorted
    return out


def _resize(draw: st.DrawFn, side: list[Level]) -> list[Level]:
    """Same prices; 0-3 levels change size, possibly to 0 (an empty level with a price)."""
    out = list(side)
    if out:
        for _ in range(draw(st.integers(0, 3))):
            k = draw(st.integers(0, len(out) - 1))
            out[k] = (out[k][0], draw(st.integers(0, 60)))
    return out


@st.composite
def sessions(draw: st.DrawFn) -> list[tuple]:
    """Merged events over ~24 buckets: ("D", ts, bids, asks, flags) | ("T", ts, px, sz, side)."""
    n = draw(st.integers(1, 60))
    gaps = draw(st.lists(st.integers(0, 200_000_000), min_size=n, max_size=n))
    center = P0
    ts = T0 - 100
    events: list[tuple] = []
    last: tuple[list[Level], list[Level]] | None = None
    for g in gaps:
        ts += g
        if draw(st.integers(0, 40)) == 0:
            center += draw(st.sampled_from([-1, 1])) * 3000 * PT  # far jump: grid re-centres
        elif draw(st.booleans()):
            center += draw(st.integers(-2, 2)) * TK
        if draw(st.integers(0, 2)) < 2:
            if last is not None and draw(st.booleans()):  # same prices, a few sizes changed
                bids, asks = _resize(draw, last[0]), _resize(draw, last[1])
            else:
                bids = _book_side(draw, center, True)
                asks = _book_side(draw, center, False)
            last = (bids, asks)
            flags = F_LAST if draw(st.integers(0, 3)) else 0
            events.append(("D", ts, bids, asks, flags))
        else:
            p = center + draw(st.integers(-3, 3)) * TK
            side = draw(st.sampled_from([A, B, B, A, N]))
            events.append(("T", ts, p, draw(st.integers(1, 80)), side))
    return events


QUERY_LO = [P0 - 2 * TK, P0, P0 - 5 * PT, P0 + TK + 100_000_000]
QUERY_HI = [P0 + 2 * TK, P0, P0 + 5 * PT, P0 + TK + 100_000_000]


def _snapshot(ms: MarketState) -> tuple:
    lo, hi = np.array(QUERY_LO), np.array(QUERY_HI)
    sw = ms.best_sweep(P0 - PT, P0 + PT)
    return (
        ms.closed_bucket,
        ms.window_fields(lo, hi, 8).tolist(),
        ms.window_fields(lo, hi, 4).tolist(),
        ms.window_fields(lo, hi, 3).tolist(),
        ms.velocity(),
        None if sw is None else (sw.start_ns, sw.end_ns, sw.size, sw.notional_units),
        ms.vwap(),
        ms.spot(),
        ms.mid(),
        ms.session_high(),
        sorted(ms.counters().items()),
    )


def _split(events: list[tuple]) -> tuple[DepthBatch, TradeBatch]:
    d = [(e[1], e[2], e[3], e[4]) for e in events if e[0] == "D"]
    t = [(e[1], e[2], e[3], e[4]) for e in events if e[0] == "T"]
    return (depth(d) if d else DepthBatch.empty()), trades(t)


def _run(events: list[tuple], cuts: set[int], reverse: set[int]) -> list[tuple]:
    """Drive like the replay driver: chunks cut anywhere and at every snap; query at each snap."""
    ms = MarketState.create(SMALL, T0)
    last_k = max(0, ms.bucket_of(events[-1][1])) + 10
    out = []
    i = 0
    for k in range(last_k + 1):
        t_k = T0 + k * SNAP
        j = i
        while j < len(events) and events[j][1] <= t_k:
            j += 1
        bounds = [i] + sorted(c for c in cuts if i < c < j) + [j]
        for a, b in itertools.pairwise(bounds):
            d, t = _split(events[a:b])
            if a in reverse:  # the two slices of a chunk may come in either order
                ms.fold_trades(t)
                ms.fold_depth(d)
            else:
                ms.fold(d, t)
        i = j
        ms.advance_to(t_k)
        out.append(_snapshot(ms))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=sessions(), data=st.data())
def test_chunking_invariance_and_reference(events: list[tuple], data: st.DataObject) -> None:
    n = len(events)
    cuts = set(data.draw(st.lists(st.integers(1, max(1, n - 1)), max_size=12)))
    reverse = set(data.draw(st.lists(st.integers(0, n), max_size=12)))
    one_piece = _run(events, set(), set())
    assert _run(events, cuts, reverse) == one_piece
    assert _run(events, set(range(1, n)), set(range(0, n, 2))) == one_piece  # one event a chunk

    # the same windows from a spec-literal brute-force model, at every snap
    ref = RefModel(SMALL)
    e_i = 0
    for snap in one_piece:
        k = snap[0]
        while e_i < n and events[e_i][1] <= T0 + k * SNAP:
            e = events[e_i]
            if e[0] == "D":
                ref.depth(e[1], e[2], e[3])
            else:
                ref.trade(e[1], e[2], e[3], e[4])
            e_i += 1
        for w, got in ((8, snap[1]), (4, snap[2]), (3, snap[3])):
            for q, (lo, hi) in enumerate(zip(QUERY_LO, QUERY_HI, strict=True)):
                exp = ref.query(k, w, lo, hi)
                for f in (F_BID_ADD, F_BID_CXL, F_BID_FILL, F_ASK_ADD, F_ASK_CXL, F_ASK_FILL):
                    assert got[q][f] == exp[f], (k, w, q, f)
                assert got[q][F_BUY_VOL] == exp[F_BUY_VOL]
                assert got[q][F_SELL_VOL] == exp[F_SELL_VOL]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=sessions(), data=st.data())
def test_late_close_equals_per_snap_close(events: list[tuple], data: st.DataObject) -> None:
    """Folding many buckets before any advance_to (pending buckets) gives the same final windows."""
    n = len(events)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(1, n - 1)), max_size=8))))
    ms = MarketState.create(SMALL, T0)
    for a, b in zip([0, *cuts], [*cuts, n], strict=True):
        d, t = _split(events[a:b])
        ms.fold_depth(d)  # depth of the whole chunk first, then its trades
        ms.fold_trades(t)
    k_end = ms.bucket_of(events[-1][1]) + 10
    ms.advance_to(T0 + k_end * SNAP)
    assert _snapshot(ms) == _run(events, set(), set())[k_end]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=sessions())
def test_flow_non_negative_and_filled_within_passive(events: list[tuple]) -> None:
    for snap in _run(events, set(), set()):
        for rows in (snap[1], snap[2], snap[3]):
            for r in rows:
                assert min(r) >= 0
                assert r[F_BID_FILL] <= r[F_SELL_VOL]  # bid is filled only by A aggressors
                assert r[F_ASK_FILL] <= r[F_BUY_VOL]  # ask only by B aggressors
