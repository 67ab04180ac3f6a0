"""Barrier engine (SPEC §5.2): every state, the fill/pull split, book shifts, window expiry."""

from __future__ import annotations

import pytest

from engines.contract.config import EngineConfig
from engines.contract.events import F_LAST
from engines.physics.barrier import (
    ABSORPTION,
    CONSUMED,
    NEUTRAL,
    RESISTANCE,
    SUPPORT,
    VACUUM,
    WALL,
    WEAK,
    compute_barrier,
)
from engines.state.market_state import MarketState
from tests.engines.state.test_market_state import PT, SNAP, T0, TK, A, B, depth, trades, ts_at

CFG = EngineConfig()
L = 6000 * PT
SPOT_ABOVE = L + PT  # spot 6001 > L -> SUPPORT, bid defends
ASK = [(L + 8 * TK, 500)]  # far ask (6002), outside every zone used here


def bid_state(
    sizes_by_bucket: list[tuple[int, int]], prints: list[tuple[int, int, int]]
) -> MarketState:
    """Bid 6000 with size s at bucket k for each (k, s); prints (k, size, side) at 6000."""
    ms = MarketState.create(CFG, T0)
    ms.fold_depth(depth([(ts_at(k, 10), [(L, s)], ASK, F_LAST) for k, s in sizes_by_bucket]))
    ms.fold_trades(trades([(ts_at(k, 5), L, s, side) for k, s, side in prints]))
    ms.advance_to(ts_at(max(k for k, _ in sizes_by_bucket)))
    return ms


def test_consumed() -> None:
    # 300 -> 100 in bucket 2 (removed 200) with 150 A-aggressor prints at 6000 in bucket 2:
    # filled = min(200, 150) = 150, canceled = 200 - 150 = 50, added 0
    ms = bid_state([(1, 300), (2, 100)], [(2, 150, A)])
    m = compute_barrier(CFG, ms, L, SPOT_ABOVE)
    assert (m.direction, m.defending_side, m.break_direction) == (SUPPORT, "bid", "DOWN")
    assert (m.added, m.canceled, m.filled) == (0, 50, 150)
    assert m.delta_liq == -200  # 0 - 50 - 150 < -100 and filled 150 > canceled 50
    assert m.replenishment_ratio == 0.0  # 0 / (50 + 150 + 1)
    assert m.churn == 200 and m.confidence == pytest.approx(0.4)  # 200 / 500
    assert m.state == CONSUMED


def test_vacuum() -> None:
    # 300 -> 100 with no prints: canceled 200, delta -200, ratio 0/201 = 0 < 0.3, filled 0
    m = compute_barrier(CFG, bid_state([(1, 300), (2, 100)], []), L, SPOT_ABOVE)
    assert (m.added, m.canceled, m.filled, m.delta_liq) == (0, 200, 0, -200)
    assert m.state == VACUUM


def test_wall() -> None:
    # 50 -> 350: added 300, delta 300 > 100, ratio 300 / (0 + 0 + 1) = 300 > 1.5
    m = compute_barrier(CFG, bid_state([(1, 50), (2, 350)], []), L, SPOT_ABOVE)
    assert (m.added, m.canceled, m.filled, m.delta_liq) == (300, 0, 0, 300)
    assert m.replenishment_ratio == 300.0
    assert m.depth_in_zone == 350 and (m.defending_px, m.defending_sz) == (L, 350)
    assert m.state == WALL


def test_absorption() -> None:
    # bucket 2: 100 -> 250 (added 150); bucket 3: 250 -> 100 (removed 150) with 120 A prints:
    # filled 120, canceled 30, delta = 150 - 30 - 120 = 0 >= 0 and filled 120 >= 100
    ms = bid_state([(1, 100), (2, 250), (3, 100)], [(3, 120, A)])
    m = compute_barrier(CFG, ms, L, SPOT_ABOVE)
    assert (m.added, m.canceled, m.filled, m.delta_liq) == (150, 30, 120, 0)
    assert m.replenishment_ratio == pytest.approx(150 / 151)  # 150 / (30 + 120 + 1)
    assert m.state == ABSORPTION


def test_weak_and_neutral() -> None:
    # one record only: no flow, delta 0; depth in zone 30 < 50 -> WEAK; 80 >= 50 -> NEUTRAL
    assert compute_barrier(CFG, bid_state([(1, 30)], []), L, SPOT_ABOVE).state == WEAK
    m = compute_barrier(CFG, bid_state([(1, 80)], []), L, SPOT_ABOVE)
    assert (m.churn, m.depth_in_zone, m.confidence, m.state) == (0, 80, 0.0, NEUTRAL)


def test_fill_vs_pull_split_per_bucket() -> None:
    # 30 removed at 6000 and 20 A-aggressor size at 6000 in one bucket -> filled 20, canceled 10
    m = compute_barrier(CFG, bid_state([(1, 100), (2, 70)], [(2, 20, A)]), L, SPOT_ABOVE)
    assert (m.added, m.canceled, m.filled) == (0, 10, 20)
    # the same prints one bucket later do not fill the earlier removal: canceled 30, filled 0
    ms = bid_state([(1, 100), (2, 70), (3, 70)], [(3, 20, A)])
    assert compute_barrier(CFG, ms, L, SPOT_ABOVE).filled == 0
    # B aggressors lift the ask: they are not passive volume for the bid -> canceled 30
    m = compute_barrier(CFG, bid_state([(1, 100), (2, 70)], [(2, 20, B)]), L, SPOT_ABOVE)
    assert (m.canceled, m.filled) == (30, 0)


def test_resistance_when_spot_equals_level() -> None:
    ms = MarketState.create(CFG, T0)
    bid = [(L - 8 * TK, 500)]
    ms.fold_depth(
        depth([(ts_at(1, 9), bid, [(L, 400)], F_LAST), (ts_at(1, 8), bid, [(L, 250)], F_LAST)])
    )
    ms.fold_trades(trades([(ts_at(1, 5), L, 100, B), (ts_at(1, 4), L, 100, A)]))
    ms.advance_to(ts_at(1))
    m = compute_barrier(CFG, ms, L, L)  # spot == L -> RESISTANCE
    assert (m.direction, m.defending_side, m.break_direction) == (RESISTANCE, "ask", "UP")
    # ask 400 -> 250: removed 150; passive for the ask = B size 100 -> filled 100, canceled 50
    assert (m.added, m.canceled, m.filled) == (0, 50, 100)
    assert (m.defending_px, m.defending_sz, m.depth_in_zone) == (L, 250, 250)


def test_book_shift_in_zone_is_not_flow() -> None:
    """Level at 5997.75, the 10th bid: it leaves and re-enters view only through shifts."""
    ms = MarketState.create(CFG, T0)
    bids = [(L - k * TK, 100) for k in range(10)]  # 6000 .. 5997.75, 100 each
    shifted = [(L + TK, 100), *bids[:9]]  # a new best 6000.25 pushes 5997.75 out of view
    ask = [(L + 4 * TK, 100)]
    ms.fold_depth(
        depth(
            [
                (ts_at(1, 3), bids, ask, F_LAST),
                (ts_at(1, 2), shifted, ask, F_LAST),
                (ts_at(1, 1), bids, ask, F_LAST),
            ]
        )
    )
    ms.advance_to(ts_at(1))
    level = L - 9 * TK - TK // 2 - TK  # 5997.375: zone [5996.875, 5997.875] holds only 5997.75
    m = compute_barrier(CFG, ms, level, L)
    assert (m.added, m.canceled, m.filled) == (0, 0, 0)
    assert m.depth_in_zone == 100  # 5997.75 x 100 is visible again
    top = compute_barrier(CFG, ms, L + TK, L + 2 * PT)  # zone around 6000.25: +100 then -100
    assert (top.added, top.canceled, top.filled) == (100, 100, 0)


def test_window_expiry_after_240s() -> None:
    ms = MarketState.create(CFG, T0)
    ms.fold_depth(
        depth([(ts_at(1, 9), [(L, 50)], ASK, F_LAST), (ts_at(1, 8), [(L, 350)], ASK, F_LAST)])
    )
    ms.advance_to(ts_at(1 + 959))  # window (959 - 960, 959 + 1] still holds bucket 1
    assert compute_barrier(CFG, ms, L, SPOT_ABOVE).added == 300
    ms.advance_to(ts_at(1 + 960))  # snap k + 960: bucket k has left the 960-bucket window
    m = compute_barrier(CFG, ms, L, SPOT_ABOVE)
    assert (m.added, m.state) == (0, NEUTRAL)  # depth 350 still rests there
    assert ms.now_ns == T0 + 961 * SNAP


def test_off_tick_level_zone_is_closed_price_interval() -> None:
    # VWAP-like level 6000.125: zone [5999.625, 6000.625] holds 5999.75, 6000, 6000.25, 6000.5
    ms = MarketState.create(CFG, T0)
    before = [
        (L + 3 * TK, 10),
        (L + 2 * TK, 10),
        (L + TK, 10),
        (L, 10),
        (L - TK, 10),
        (L - 2 * TK, 10),
    ]
    after = [(p, s + 1) for p, s in before]  # +1 at every price
    ask = [(L + 8 * TK, 5)]
    ms.fold_depth(depth([(ts_at(1, 2), before, ask, F_LAST), (ts_at(1, 1), after, ask, F_LAST)]))
    ms.advance_to(ts_at(1))
    m = compute_barrier(CFG, ms, L + TK // 2, L + 3 * PT)
    assert m.added == 4 and m.depth_in_zone == 44  # 4 prices x (+1); 4 x 11
