"""Black-76 gamma, price and IV solver checked against independent ``math`` arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.physics import black76

T_3H = 3.0 / (365.0 * 24.0)  # 3 hours in 365-day years = 3/8760 = 3.4246575e-4


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def test_gamma_atm_by_hand() -> None:
    f = k = 6800.0
    sigma = 0.15
    sd = sigma * math.sqrt(T_3H)  # 0.15 * 0.0185058 = 0.00277587
    d1 = sd / 2.0  # ln(F/K) = 0  =>  d1 = σ√T/2 = 0.00138794
    expected = _phi(d1) / (f * sd)  # 0.3989419 / (6800 * 0.00277587) = 0.3989419 / 18.87595
    assert math.isclose(expected, 0.0211349, rel_tol=1e-5)  # = 0.0211349
    got = float(black76.gamma(f, k, T_3H, sigma)[0])
    assert math.isclose(got, expected, rel_tol=1e-12)


def test_gamma_off_the_money_and_expired() -> None:
    f, k, sigma = 6800.0, 6810.0, 0.20
    sd = sigma * math.sqrt(T_3H)  # 0.0037012
    d1 = (math.log(f / k) + 0.5 * sd * sd) / sd  # (-0.0014695 + 0.00000685) / 0.0037012 = -0.39519
    expected = _phi(d1) / (f * sd)  # 0.369 / 25.168 = 0.014661
    assert math.isclose(expected, 0.014661, rel_tol=1e-4)
    assert math.isclose(float(black76.gamma(f, k, T_3H, sigma)[0]), expected, rel_tol=1e-12)
    assert float(black76.gamma(f, k, 0.0, sigma)[0]) == 0.0  # expired: no gamma
    assert float(black76.gamma(f, k, -1e-3, sigma)[0]) == 0.0


def test_price_atm_by_hand() -> None:
    # ATM call with r = 0: F·(N(d1) − N(−d1)) = F·erf(d1/√2) ≈ 6800 · 0.00110743 = 7.5304
    sd = 0.15 * math.sqrt(T_3H)
    expected = 6800.0 * math.erf(sd / 2.0 / math.sqrt(2.0))
    assert math.isclose(expected, 7.5304, rel_tol=1e-4)
    got = float(black76.price(6800.0, 6800.0, T_3H, 0.15, 0.0, True)[0])
    assert math.isclose(got, expected, rel_tol=1e-9)


def test_iv_round_trip() -> None:
    for sigma in (0.05, 0.15, 0.6, 2.0):
        for k, call in ((6790.0, True), (6800.0, False), (6815.0, True)):
            p = black76.price(6800.0, k, T_3H, sigma, 0.0, call)
            iv, ok = black76.implied_vol(p, 6800.0, k, T_3H, 0.0, call)
            assert bool(ok[0])
            assert math.isclose(float(iv[0]), sigma, rel_tol=1e-7)


def test_iv_out_of_band_is_not_ok() -> None:
    # call K=6700, F=6800: intrinsic 100 => price 50 is below the band; price 7000 > F above it
    iv, ok = black76.implied_vol(
        np.array([50.0, 7000.0, 5.0]),
        6800.0,
        np.array([6700.0, 6700.0, 6800.0]),
        np.array([T_3H, T_3H, 0.0]),  # third: expired
        0.0,
        True,
    )
    assert not ok.any()
    assert np.isnan(iv).all()


@settings(max_examples=60, deadline=None)
@given(
    sigma=st.floats(0.05, 3.0),
    moneyness=st.floats(-0.01, 0.01),
    call=st.booleans(),
)
def test_iv_round_trip_property(sigma: float, moneyness: float, call: bool) -> None:
    f = 6800.0
    k = f * (1.0 + moneyness)
    p = float(black76.price(f, k, T_3H, sigma, 0.0, call)[0])
    lower = max(f - k, 0.0) if call else max(k - f, 0.0)
    if not (p - lower > 1e-6):  # vega too small to recover sigma from a float price
        return
    iv, ok = black76.implied_vol(p, f, k, T_3H, 0.0, call)
    assert bool(ok[0])
    # F·N(d1) − K·N(d2) cancels: the price itself is only good to ~F·1e-16 ≈ 1e-12 points absolute
    repriced = float(black76.price(f, k, T_3H, iv[0], 0.0, call)[0])
    assert math.isclose(repriced, p, rel_tol=1e-9, abs_tol=1e-10)


@pytest.mark.parametrize("iterations", [64, 200])
def test_solver_with_hoisted_factors_gives_the_bits_of_plain_bisection(iterations: int) -> None:
    # The solver precomputes exp(-rT), sqrt(T) and log(F/K) once per trade and stops at a fixed
    # point of (a, b); it must still give exactly what a plain bisection over _price1 gives with
    # every one of its steps (same operations). 200 steps: most of them past the fixed point
    # (a halving cannot shrink [lo, hi] = [0.01, 5] below one ulp after ~60 steps). Sigmas from
    # 0.001 to 8 put some IVs outside [lo, hi]: the bisection then pins to an end of the band.
    from engines.physics.black76 import _price1

    rng = np.random.default_rng(3)
    n = 2000
    f = rng.uniform(6000, 7000, n)
    k = f + rng.uniform(-200, 200, n)
    t = rng.uniform(1e-5, 0.05, n)
    sig = np.exp(rng.uniform(np.log(0.001), np.log(8.0), n))
    call = rng.random(n) < 0.5
    prem = np.array([_price1(f[i], k[i], t[i], sig[i], 0.04, bool(call[i])) for i in range(n)])
    iv, ok = black76.implied_vol(
        prem, f, k, t, r=0.04, is_call=call, lo=0.01, hi=5.0, iterations=iterations
    )
    checked = 0
    for i in range(0, n, 5):  # a plain Python bisection on a subset (it is slow)
        if not ok[i]:  # the premium is at or beyond a no-arbitrage bound: nothing to solve
            assert np.isnan(iv[i])
            continue
        a, b = 0.01, 5.0
        for _ in range(iterations):
            m = 0.5 * (a + b)
            if _price1(f[i], k[i], t[i], m, 0.04, bool(call[i])) < prem[i]:
                a = m
            else:
                b = m
        assert iv[i] == 0.5 * (a + b)  # bit-identical, not approximately
        checked += 1
    assert checked > 250
