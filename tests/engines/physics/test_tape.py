"""Tape engine (SPEC §5.3, §5.11): band volumes, imbalance, velocity slope, sweep clusters."""

from __future__ import annotations

import pytest

from engines.contract.config import EngineConfig
from engines.physics.tape import compute_tape
from engines.state.market_state import MarketState
from tests.engines.state.test_market_state import PT, T0, TK, A, B, N, trades, ts_at

CFG = EngineConfig()
L = 6000 * PT
MS_ = 1_000_000  # 1 ms in ns
S_ = 1_000_000_000  # 1 s in ns
K = 400  # snap index used as "now": T = T0 + 100 s
T = ts_at(K)


def state(rows: list[tuple[int, int, int, int]], k: int = K) -> MarketState:
    ms = MarketState.create(CFG, T0)
    ms.fold_trades(trades(rows))
    ms.advance_to(ts_at(k))
    return ms


# --------------------------------------------------------------------------- volumes
def test_imbalance_band_is_closed_interval() -> None:
    ms = state(
        [
            (T - 4 * S_, L, 30, B),
            (T - 3 * S_, L + 2 * TK, 10, A),  # 6000.5: on the band edge, counts
            (T - 2 * S_, L + 3 * TK, 5, B),  # 6000.75: outside [5999.5, 6000.5]
            (T - 1 * S_, L - 3 * TK, 7, A),  # 5999.25: outside
        ]
    )
    m = compute_tape(CFG, ms, L, "UP")
    assert (m.buy_vol, m.sell_vol) == (30, 10)
    assert m.imbalance == 0.5  # (30 - 10) / (30 + 10)
    assert m.confidence == pytest.approx(0.08)  # 40 / 500
    assert (m.band_lo, m.band_hi) == (L - 2 * TK, L + 2 * TK)


def test_no_prints_zero_imbalance() -> None:
    m = compute_tape(CFG, state([]), L, "DOWN")
    assert (m.buy_vol, m.sell_vol, m.imbalance, m.velocity, m.confidence) == (0, 0, 0.0, 0.0, 0.0)
    assert not m.sweep_detected and m.sweep_direction is None and m.sweep_notional is None


def test_tape_window_expiry_60s() -> None:
    rows = [(ts_at(1, 10), L, 40, A)]
    assert compute_tape(CFG, state(rows, 1 + 239), L, "UP").sell_vol == 40  # bucket 1 in window
    assert compute_tape(CFG, state(rows, 1 + 240), L, "UP").sell_vol == 0  # 240 buckets later


# --------------------------------------------------------------------------- velocity
def test_velocity_least_squares_slope() -> None:
    ms = state(
        [
            (T - 3 * S_, 7000 * PT, 1, N),  # exactly T - 3 s: outside (T - 3 s, T]
            (T - 2 * S_, L, 1, N),  # x = 0 s, y = 0 pts (relative to the first print)
            (T - 1 * S_, L + 2 * TK, 1, N),  # x = 1, y = 0.5
            (T, L + 6 * TK, 1, N),  # x = 2, y = 1.5
        ]
    )
    # mean x = 1, mean y = 2/3; Sxx = 1 + 0 + 1 = 2;
    # Sxy = (-1)(-2/3) + 0 + (1)(1.5 - 2/3) = 2/3 + 5/6 = 1.5  ->  slope = 1.5 / 2 = 0.75 pts/s
    assert compute_tape(CFG, ms, L, "UP").velocity == pytest.approx(0.75, abs=1e-12)


def test_velocity_each_print_one_point_and_degenerate_cases() -> None:
    # x = 0, 0, 1; y = 0, 1, 1: mean x 1/3, mean y 2/3; Sxx = 1/9 + 1/9 + 4/9 = 6/9;
    # Sxy = (-1/3)(-2/3) + (-1/3)(1/3) + (2/3)(1/3) = 3/9  ->  slope 0.5
    ms = state([(T - S_, L, 1, N), (T - S_, L + 4 * TK, 1, N), (T, L + 4 * TK, 1, N)])
    assert ms.velocity() == pytest.approx(0.5, abs=1e-12)
    assert state([(T, L, 1, N), (T, L + PT, 1, N)]).velocity() == 0.0  # one timestamp
    assert state([(T, L, 1, N)]).velocity() == 0.0  # fewer than 2 prints


# --------------------------------------------------------------------------- sweeps
def test_sweep_minimum_size() -> None:
    t = T - 10 * S_
    below = state([(t, L, 50, B), (t + 50 * MS_, L + TK, 49, B)])  # 99 < 100
    assert not compute_tape(CFG, below, L, "UP").sweep_detected
    m = compute_tape(CFG, state([(t, L, 50, B), (t + 50 * MS_, L + TK, 50, B)]), L, "UP")
    assert m.sweep_detected and m.sweep_direction == "UP" and m.sweep_with_break
    assert (m.sweep_prints, m.sweep_size, m.sweep_window_ms) == (2, 100, 50.0)
    # (50 x 6000 + 50 x 6000.25) x 50 USD = 600_012.5 x 50 = 30_000_625
    assert m.sweep_notional == 30_000_625.0
    assert not compute_tape(
        CFG, state([(t, L, 50, B), (t, L + TK, 50, B)]), L, "DOWN"
    ).sweep_with_break


def test_sweep_needs_two_prices() -> None:
    t = T - 10 * S_
    ms = state([(t, L, 60, B), (t + MS_, L, 60, B), (t + 2 * MS_, L, 60, B)])  # 180, one price
    assert not compute_tape(CFG, ms, L, "UP").sweep_detected


def test_sweep_gap_rule_side_change_and_n_trade() -> None:
    t = T - 10 * S_
    ok = state([(t, L, 60, B), (t + 100 * MS_, L + TK, 60, B)])  # gap 100 ms <= 100 ms
    assert compute_tape(CFG, ok, L, "UP").sweep_size == 120
    gap = state([(t, L, 60, B), (t + 100 * MS_ + 1, L + TK, 60, B)])  # 100 ms + 1 ns: split
    assert not compute_tape(CFG, gap, L, "UP").sweep_detected
    n_cut = state([(t, L, 60, B), (t + MS_, L + TK, 1, N), (t + 2 * MS_, L + TK, 60, B)])
    assert not compute_tape(CFG, n_cut, L, "UP").sweep_detected  # an N print ends a cluster
    flip = state([(t, L, 60, B), (t + MS_, L + TK, 60, A)])
    assert not compute_tape(CFG, flip, L, "UP").sweep_detected  # aggressor side changed


def test_largest_notional_wins() -> None:
    t1, t2 = T - 20 * S_, T - 10 * S_
    ms = state(
        [
            (t1, L, 50, B),
            (t1 + MS_, L + TK, 50, B),  # sweep 1: 600_012.5 pts·contracts
            (t2, L + TK, 100, A),
            (t2 + MS_, L, 50, A),  # sweep 2 (open cluster): 600_025 + 300_000 = 900_025
        ]
    )
    m = compute_tape(CFG, ms, L, "UP")
    assert m.sweep_direction == "DOWN" and not m.sweep_with_break
    assert m.sweep_notional == 45_001_250.0  # 900_025 x 50
    assert (m.sweep_prints, m.sweep_size, m.sweep_window_ms) == (2, 150, 1.0)


def test_notional_tie_goes_to_earliest() -> None:
    t1, t2 = T - 20 * S_, T - 10 * S_
    ms = state(
        [
            (t1, L, 50, B),
            (t1 + MS_, L + TK, 50, B),  # 600_012.5
            (t2, L + TK, 50, A),
            (t2 + MS_, L, 50, A),  # 600_012.5 as well
        ]
    )
    m = compute_tape(CFG, ms, L, "DOWN")
    assert m.sweep_direction == "UP" and m.sweep_notional == 30_000_625.0
    sw = ms.best_sweep(L - 2 * TK, L + 2 * TK)
    assert sw is not None and sw.start_ns == t1


def test_sweep_price_range_must_meet_band() -> None:
    t = T - 10 * S_
    ms = state([(t, L + PT, 50, B), (t + MS_, L + PT + 2 * TK, 50, B)])  # range [6001, 6001.5]
    assert not compute_tape(CFG, ms, L, "UP").sweep_detected  # band [5999.5, 6000.5]
    assert compute_tape(CFG, ms, L + 2 * TK, "UP").sweep_detected  # band [6000, 6001]: touches


def test_sweep_window_and_clusters_cut_over_whole_session() -> None:
    edge = T - 60 * S_  # window (T - 60 s, T]
    ended_at_edge = state([(edge - MS_, L, 60, B), (edge, L + TK, 60, B)])
    assert not compute_tape(CFG, ended_at_edge, L, "UP").sweep_detected
    # starts before the window, ends inside: one cluster of 120 (not cut at the window start)
    across = state([(edge - 50 * MS_, L, 60, B), (edge + 40 * MS_, L + TK, 60, B)])
    m = compute_tape(CFG, across, L, "UP")
    assert (m.sweep_size, m.sweep_prints, m.sweep_window_ms) == (120, 2, 90.0)


def test_closed_sweeps_kept_only_while_in_window() -> None:
    ms = MarketState.create(CFG, T0)
    t = ts_at(10)
    ms.fold_trades(trades([(t - MS_, L, 60, B), (t, L + TK, 60, B), (t + 500 * MS_, L, 1, N)]))
    ms.advance_to(ts_at(10 + 240 - 1))
    assert ms.best_sweep(L, L) is not None  # ended at T_10: in (T_249 - 60 s, T_249]
    ms.fold_trades(trades([(ts_at(10 + 240), L, 1, N)]))  # a later print purges it
    ms.advance_to(ts_at(10 + 240))
    assert ms.best_sweep(L, L) is None


def test_bad_break_direction() -> None:
    with pytest.raises(ValueError):
        compute_tape(CFG, state([]), L, "SIDEWAYS")
