"""Fuel: dealer sign convention, IV folding, 0DTE scope, net gamma, walls, flip, confidence."""

from __future__ import annotations

import calendar
import datetime as dt
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.contract.config import PRICE_SCALE, EngineConfig
from engines.contract.events import OptionDefinitions, OptionTradeBatch
from engines.physics import black76
from engines.physics.fuel import (
    FuelState,
    GammaView,
    compute_fuel,
    empty_fuel_state,
    fold_option_trades,
    fuel_walls,
    in_scope,
    snap_gamma,
)

CFG = EngineConfig()
U = PRICE_SCALE  # units per point
TS0 = calendar.timegm((2026, 3, 10, 17, 0, 0)) * 1_000_000_000  # 12:00 CDT on 2026-03-10
EXP = TS0 + 3 * 3600 * 1_000_000_000  # 15:00 CDT: 3 hours later
T_3H = 3.0 / (365.0 * 24.0)


def _gamma(f: float, k: float, t: float, sigma: float) -> float:
    """Independent Black-76 gamma (r = 0) with math only."""
    sd = sigma * math.sqrt(t)
    d1 = (math.log(f / k) + 0.5 * sd * sd) / sd
    return math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi) / (f * sd)


def _defs(rows: list[tuple[int, bool, float, int]]) -> OptionDefinitions:
    rows = sorted(rows)
    return OptionDefinitions(
        instrument_id=np.array([r[0] for r in rows], dtype=np.int64),
        is_call=np.array([r[1] for r in rows], dtype=np.bool_),
        strike=np.array([round(r[2] * U) for r in rows], dtype=np.int64),
        expiration=np.array([r[3] for r in rows], dtype=np.int64),
    )


def _trades(rows: list[tuple[int, int, float, int, str]]) -> OptionTradeBatch:
    """rows: (ts, instrument_id, premium points, size, side)."""
    return OptionTradeBatch(
        ts_recv=np.array([r[0] for r in rows], dtype=np.int64),
        instrument_id=np.array([r[1] for r in rows], dtype=np.int64),
        price=np.array([round(r[2] * U) for r in rows], dtype=np.int64),
        size=np.array([r[3] for r in rows], dtype=np.int64),
        side=np.array([ord(r[4]) for r in rows], dtype=np.uint8),
    )


def _state(defs: OptionDefinitions, position: list[int], iv: list[float], volume: list[int]):
    m = len(defs)
    return FuelState(
        position=np.array(position, dtype=np.int64),
        last_iv=np.array(iv, dtype=np.float64),
        volume=np.array(volume, dtype=np.int64),
        bad_iv=np.zeros(m, dtype=np.int64),
        unknown_trades=0,
    )


def _premium(k: float, call: bool, sigma: float, f: float = 6800.0) -> float:
    return float(black76.price(f, k, T_3H, sigma, 0.0, call)[0])


MID = np.int64(6800 * U)


# ---------------------------------------------------------------------------------------------
# folding


def test_dealer_sign_and_volume() -> None:
    defs = _defs([(11, True, 6800.0, EXP), (12, False, 6800.0, EXP)])
    s0 = empty_fuel_state(CFG, defs)
    p = _premium(6800.0, True, 0.15)
    tr = _trades(
        [
            (TS0, 11, p, 7, "B"),  # customer bought 7 => dealer -7
            (TS0, 11, p, 3, "A"),  # customer sold 3   => dealer +3
            (TS0, 12, p, 5, "N"),  # unknown side      => dealer 0, volume still 5
            (TS0, 99, p, 4, "B"),  # no definition     => counted, excluded
        ]
    )
    s1 = fold_option_trades(CFG, s0, defs, tr, np.full(4, MID))
    assert s1.position.tolist() == [-4, 0]  # -7 + 3 = -4; N => 0
    assert s1.volume.tolist() == [10, 5]  # 7 + 3 = 10; 5
    assert s1.unknown_trades == 1
    assert s1.bad_iv.tolist() == [0, 0]
    assert s0.position.tolist() == [0, 0]  # input state untouched


def test_iv_last_ok_wins_and_out_of_band_keeps_last() -> None:
    defs = _defs([(11, True, 6800.0, EXP), (12, True, 6700.0, EXP)])
    s0 = empty_fuel_state(CFG, defs)
    tr = _trades(
        [
            (TS0, 11, _premium(6800.0, True, 0.15), 1, "B"),
            (TS0, 11, _premium(6800.0, True, 0.25), 1, "B"),  # last ok IV for 11: 0.25
            (TS0, 11, 7000.0, 1, "B"),  # above F = 6800: out of band, keeps 0.25
            (TS0, 12, 50.0, 1, "A"),  # below intrinsic 6800 - 6700 = 100: keeps default 0.20
        ]
    )
    s1 = fold_option_trades(CFG, s0, defs, tr, np.full(4, MID))
    assert math.isclose(s1.last_iv[0], 0.25, rel_tol=1e-6)
    assert s1.last_iv[1] == CFG.default_iv  # 0.20 exactly
    assert s1.bad_iv.tolist() == [1, 1]
    # Same trades with the two good ones swapped: the later 0.15 wins.
    tr2 = _trades(
        [
            (TS0, 11, _premium(6800.0, True, 0.25), 1, "B"),
            (TS0, 11, _premium(6800.0, True, 0.15), 1, "B"),
        ]
    )
    s2 = fold_option_trades(CFG, s0, defs, tr2, np.full(2, MID))
    assert math.isclose(s2.last_iv[0], 0.15, rel_tol=1e-6)


def test_no_mid_or_expired_counts_as_bad() -> None:
    defs = _defs([(11, True, 6800.0, EXP)])
    s0 = empty_fuel_state(CFG, defs)
    p = _premium(6800.0, True, 0.15)
    tr = _trades([(TS0, 11, p, 2, "B"), (EXP, 11, p, 1, "A")])  # 2nd at expiry: T = 0
    s1 = fold_option_trades(CFG, s0, defs, tr, np.array([-1, MID], dtype=np.int64))
    assert s1.bad_iv.tolist() == [2]
    assert s1.last_iv[0] == 0.20
    assert s1.position.tolist() == [-1]  # -2 + 1: inventory counts whatever the IV


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from([11, 12, 13, 77]), st.integers(1, 50), st.sampled_from("ABN")),
        min_size=1,
        max_size=30,
    ),
    split=st.integers(0, 30),
)
def test_fold_is_batch_split_invariant(rows: list[tuple[int, int, str]], split: int) -> None:
    defs = _defs([(11, True, 6800.0, EXP), (12, False, 6795.0, EXP), (13, True, 6805.0, EXP)])
    premia = {11: 7.0, 12: 5.0, 13: 4.0, 77: 1.0}
    full = [(TS0 + i, iid, premia[iid], sz, sd) for i, (iid, sz, sd) in enumerate(rows)]
    split = min(split, len(full))
    s0 = empty_fuel_state(CFG, defs)
    one = fold_option_trades(CFG, s0, defs, _trades(full), np.full(len(full), MID))
    a = fold_option_trades(CFG, s0, defs, _trades(full[:split]), np.full(split, MID))
    two = fold_option_trades(CFG, a, defs, _trades(full[split:]), np.full(len(full) - split, MID))
    assert one.position.tolist() == two.position.tolist()
    assert one.volume.tolist() == two.volume.tolist()
    assert one.bad_iv.tolist() == two.bad_iv.tolist()
    assert one.unknown_trades == two.unknown_trades
    assert one.last_iv.tobytes() == two.last_iv.tobytes()
    sign = {"B": -1, "A": 1, "N": 0}
    for j, iid in enumerate((11, 12, 13)):
        assert one.position[j] == sum(sign[sd] * sz for i, sz, sd in rows if i == iid)


# ---------------------------------------------------------------------------------------------
# scope


def _utc_ns(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0) -> int:
    return calendar.timegm((y, mo, d, h, mi, s)) * 1_000_000_000


def test_0dte_by_chicago_date() -> None:
    defs = _defs(
        [
            (1, True, 6800.0, _utc_ns(2026, 3, 10, 20)),  # 15:00 CDT 3/10 => in
            (2, True, 6800.0, _utc_ns(2026, 3, 11, 20)),  # 15:00 CDT 3/11 => out
            (3, True, 6800.0, _utc_ns(2026, 3, 10, 23, 30)),  # 18:30 CDT 3/10 => in
            (4, True, 6800.0, _utc_ns(2026, 3, 11, 4, 30)),  # 23:30 CDT 3/10 (UTC 3/11) => in
            (5, True, 6800.0, _utc_ns(2026, 3, 11, 5)),  # 00:00 CDT 3/11 => out
            (6, True, 6800.0, _utc_ns(2026, 3, 10, 4, 59, 59)),  # 23:59:59 CDT 3/9 => out
        ]
    )
    mask = in_scope(CFG, defs, dt.date(2026, 3, 10))
    assert mask.tolist() == [True, False, True, True, False, False]
    all_cfg = EngineConfig(fuel_expiry="all")
    assert in_scope(all_cfg, defs, dt.date(2026, 3, 10)).all()


def test_0dte_winter_offset() -> None:
    # CST = UTC-6 in January: 2026-01-16 05:59:59 UTC = 23:59:59 CST 1/15 (in), 06:00 UTC out
    defs = _defs(
        [
            (1, True, 6800.0, _utc_ns(2026, 1, 16, 5, 59, 59)),
            (2, True, 6800.0, _utc_ns(2026, 1, 16, 6)),
        ]
    )
    assert in_scope(CFG, defs, dt.date(2026, 1, 15)).tolist() == [True, False]


# ---------------------------------------------------------------------------------------------
# per snap


def test_net_gamma_amplify_by_hand() -> None:
    # One ATM call, dealer short 2000, spot 6800, σ 0.15, 3 h to expiry:
    # Γ = 0.0211349 (see test_black76) => GEX = -2000 * 0.0211349 = -42.27 < -25 => AMPLIFY
    defs = _defs([(11, True, 6800.0, EXP)])
    st_ = _state(defs, [-2000], [0.15], [400])
    view = snap_gamma(CFG, st_, defs, np.ones(1, bool), 6800 * U, TS0)
    m = compute_fuel(CFG, view, 6800 * U)
    assert math.isclose(m.net_dealer_gamma, -2000 * _gamma(6800, 6800, T_3H, 0.15), rel_tol=1e-12)
    assert math.isclose(m.net_dealer_gamma, -42.27, rel_tol=1e-4)
    assert m.effect == "AMPLIFY"
    assert m.confidence == 0.4  # 400 / 1000
    assert m.volume_in_range == 400
    # Dealer long the same: +42.27 > 25 => DAMPEN; 1000 contracts: -21.13 => NEUTRAL
    for pos, effect in ((2000, "DAMPEN"), (-1000, "NEUTRAL")):
        v = snap_gamma(CFG, _state(defs, [pos], [0.15], [0]), defs, np.ones(1, bool), 6800 * U, TS0)
        assert compute_fuel(CFG, v, 6800 * U).effect == effect


def test_net_gamma_range_is_closed_and_scoped() -> None:
    # L = 6800, range ±15: strikes 6785 and 6815 are in (closed), 6780 and 6820 out.
    defs = _defs(
        [
            (1, True, 6780.0, EXP),
            (2, True, 6785.0, EXP),
            (3, False, 6815.0, EXP),
            (4, True, 6820.0, EXP),
            (5, True, 6800.0, EXP + 86_400 * 10**9),  # next day: out of scope
        ]
    )
    pos = [-5000, -1000, -1000, -5000, -9000]
    st_ = _state(defs, pos, [0.15] * 5, [100, 200, 300, 400, 500])
    scope = np.array([True, True, True, True, False])
    view = snap_gamma(CFG, st_, defs, scope, 6800 * U, TS0)
    m = compute_fuel(CFG, view, 6800 * U)
    g85 = _gamma(6800, 6785, T_3H, 0.15)
    g15 = _gamma(6800, 6815, T_3H, 0.15)
    expected = -1000 * g85 + -1000 * g15  # summed in strike order: 6785 then 6815
    assert math.isclose(m.net_dealer_gamma, expected, rel_tol=1e-12)
    assert m.volume_in_range == 500  # 200 + 300
    assert m.confidence == 0.5


def test_walls_by_hand_view() -> None:
    # Hand-built per-strike view (points): L = 6800, threshold 100.
    ks = np.array([6790, 6795, 6800, 6805, 6810, 6830], dtype=np.int64) * U
    view = GammaView(
        spot_units=6800 * U,
        ts_ns=TS0,
        inst_id=np.arange(6, dtype=np.int64),
        inst_strike=ks,
        inst_is_call=np.array([False, False, True, True, True, True]),
        inst_gamma=np.zeros(6),
        inst_gex=np.array([150.0, 120.0, 500.0, 90.0, 150.0, 999.0]),
        inst_volume=np.zeros(6, dtype=np.int64),
        strike=ks,
        strike_gex=np.array([150.0, 120.0, 500.0, 90.0, 150.0, 999.0]),
        strike_call_gex=np.array([0.0, 0.0, 500.0, 90.0, 150.0, 999.0]),
        strike_put_gex=np.array([150.0, 120.0, 0.0, 0.0, 0.0, 0.0]),
        strike_volume=np.zeros(6, dtype=np.int64),
    )
    m = compute_fuel(CFG, view, 6800 * U)
    # calls strictly above 6800 within 6815: 6805 (90), 6810 (150) => 6810 (6830 out of range,
    # 6800 is not above L)
    assert m.call_wall_px == 6810 * U
    # puts strictly below 6800 within 6785: 6790 (150), 6795 (120) => 6790
    assert m.put_wall_px == 6790 * U
    # Whole range (±50 around spot 6800): the 999 call at 6830 is now the call wall
    w = fuel_walls(CFG, view)
    assert (w.call_wall_px, w.put_wall_px) == (6830 * U, 6790 * U)
    # Below the threshold: no wall
    strict = EngineConfig(wall_threshold=200.0)
    assert compute_fuel(strict, view, 6800 * U).call_wall_px is None
    assert compute_fuel(strict, view, 6800 * U).put_wall_px is None


def _flip_view(strikes_pts: list[float], gex: list[float]) -> GammaView:
    ks = np.array([round(k * U) for k in strikes_pts], dtype=np.int64)
    g = np.array(gex, dtype=np.float64)
    z = np.zeros(len(ks), dtype=np.int64)
    return GammaView(6800 * U, TS0, z, ks, np.ones(len(ks), bool), g * 0, g, z, ks, g, g, g * 0, z)


def test_gamma_flip_interpolation() -> None:
    # 6790: -30, 6795: 0 (skipped), 6800: +10 => 6790 + 10 * 30/(30+10) = 6790 + 7.5 = 6797.5
    v = _flip_view([6790, 6795, 6800, 6805], [-30.0, 0.0, 10.0, -5.0])
    assert compute_fuel(CFG, v, 6800 * U).gamma_flip_px == 6797_500_000_000
    assert fuel_walls(CFG, v).gamma_flip_px == 6797_500_000_000
    # 6790: +1, 6800: -2 => 6790 + 10 * 1/3 = 6793.3333333333 points, floored to a unit
    v2 = _flip_view([6790, 6800], [1.0, -2.0])
    assert compute_fuel(CFG, v2, 6800 * U).gamma_flip_px == 6793_333_333_333
    # No sign change => None
    v3 = _flip_view([6790, 6800], [1.0, 2.0])
    assert compute_fuel(CFG, v3, 6800 * U).gamma_flip_px is None


def test_gamma_flip_end_to_end() -> None:
    # put 6790 dealer -1000 (GEX -18.35), call 6810 dealer +1000 (GEX +18.39):
    # flip = 6790 + 20 * 18.35/(18.35+18.39) ≈ 6799.99 points
    defs = _defs([(1, False, 6790.0, EXP), (2, True, 6810.0, EXP)])
    st_ = _state(defs, [-1000, 1000], [0.15, 0.15], [1, 1])
    view = snap_gamma(CFG, st_, defs, np.ones(2, bool), 6800 * U, TS0)
    g1 = -1000 * _gamma(6800, 6790, T_3H, 0.15)
    g2 = 1000 * _gamma(6800, 6810, T_3H, 0.15)
    expected = 6790 * U + 20 * U * g1 / (g1 - g2)
    flip = compute_fuel(CFG, view, 6800 * U).gamma_flip_px
    assert flip is not None
    assert abs(flip - expected) <= 1.0
    assert 6799 * U < flip < 6800 * U


def test_view_sort_order_and_per_strike_sums() -> None:
    # Two instruments at 6800 (put id 3, call id 9) and one at 6795: order (strike, call first, id)
    defs = _defs([(3, False, 6800.0, EXP), (9, True, 6800.0, EXP), (5, True, 6795.0, EXP)])
    # state arrays follow the definitions' id order 3, 5, 9
    st_ = _state(defs, [10, 0, -20], [0.15, 0.15, 0.15], [1, 3, 2])
    view = snap_gamma(CFG, st_, defs, np.ones(3, bool), 6800 * U, TS0)
    assert view.inst_id.tolist() == [5, 9, 3]
    assert view.strike.tolist() == [6795 * U, 6800 * U]
    g = _gamma(6800, 6800, T_3H, 0.15)
    assert math.isclose(view.strike_gex[1], -20 * g + 10 * g, rel_tol=1e-12)  # -10 Γ = -0.2113
    assert math.isclose(view.strike_call_gex[1], -20 * g, rel_tol=1e-12)
    assert math.isclose(view.strike_put_gex[1], 10 * g, rel_tol=1e-12)
    assert view.strike_volume.tolist() == [3, 3]  # 3; 1 + 2
    empty = snap_gamma(CFG, st_, defs, np.zeros(3, bool), 6800 * U, TS0)
    m = compute_fuel(CFG, empty, 6800 * U)
    assert (m.net_dealer_gamma, m.effect, m.confidence) == (0.0, "NEUTRAL", 0.0)
    assert fuel_walls(CFG, empty).gamma_flip_px is None
