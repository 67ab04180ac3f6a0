"""Black-76 on futures: price, gamma and a fixed-iteration bisection implied-vol solver (SPEC §5.4).

All functions take float64 numpy arrays (broadcast together) and return float64 arrays. Kernels are
numba-compiled loops: the same inputs give the same bits in every process, and the solver gives
the bits of exactly ``iterations`` halvings: it stops early only at a fixed point (a halving that
leaves (a, b) unchanged is repeated identically by every later one), never on a tolerance.
Units: F and K in index points, T in years (365-day), sigma annualised, r continuously compounded.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SECONDS_PER_YEAR = 365.0 * 24.0 * 3600.0
NS_PER_YEAR = SECONDS_PER_YEAR * 1e9
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit(cache=True)
def _ncdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / _SQRT2))


@njit(cache=True)
def _price_pre(f, k, disc, sqrt_t, log_fk, sigma, is_call):  # type: ignore[no-untyped-def]
    """Black-76 for t > 0, sigma > 0, with the sigma-free factors precomputed (the IV solver
    evaluates 64 sigmas per trade); the same operations as _price1, so the same bits."""
    sd = sigma * sqrt_t
    d1 = (log_fk + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    if is_call:
        return disc * (f * _ncdf(d1) - k * _ncdf(d2))
    return disc * (k * _ncdf(-d2) - f * _ncdf(-d1))


@njit(cache=True)
def _intrinsic(f: float, k: float, disc: float, is_call: bool) -> float:
    intrinsic = f - k if is_call else k - f
    return disc * max(intrinsic, 0.0)


@njit(cache=True)
def _price1(f: float, k: float, t: float, sigma: float, r: float, is_call: bool) -> float:
    disc = math.exp(-r * t) if t > 0.0 else 1.0
    if t <= 0.0 or sigma <= 0.0:
        return _intrinsic(f, k, disc, is_call)
    return _price_pre(f, k, disc, math.sqrt(t), math.log(f / k), sigma, is_call)


@njit(cache=True)
def _gamma1(f: float, k: float, t: float, sigma: float, r: float) -> float:
    if t <= 0.0 or sigma <= 0.0 or f <= 0.0 or k <= 0.0:
        return 0.0
    sd = sigma * math.sqrt(t)
    d1 = (math.log(f / k) + 0.5 * sd * sd) / sd
    return math.exp(-r * t) * _INV_SQRT_2PI * math.exp(-0.5 * d1 * d1) / (f * sd)


@njit(cache=True)
def _price_kernel(f, k, t, sigma, r, is_call, out):  # type: ignore[no-untyped-def]
    for i in range(out.shape[0]):
        out[i] = _price1(f[i], k[i], t[i], sigma[i], r[i], is_call[i])


@njit(cache=True)
def _gamma_kernel(f, k, t, sigma, r, out):  # type: ignore[no-untyped-def]
    for i in range(out.shape[0]):
        out[i] = _gamma1(f[i], k[i], t[i], sigma[i], r[i])


@njit(cache=True, nogil=True)  # nogil: the fast replay solves IVs on its reader thread
def _iv_kernel(price, f, k, t, r, is_call, lo, hi, iterations, iv, ok):  # type: ignore[no-untyped-def]
    for i in range(price.shape[0]):
        ti = t[i]
        if ti <= 0.0 or f[i] <= 0.0 or k[i] <= 0.0:
            iv[i] = math.nan
            ok[i] = False
            continue
        disc = math.exp(-r[i] * ti)
        if is_call[i]:
            lower = disc * max(f[i] - k[i], 0.0)
            upper = disc * f[i]
        else:
            lower = disc * max(k[i] - f[i], 0.0)
            upper = disc * k[i]
        p = price[i]
        if not (p > lower and p < upper):
            iv[i] = math.nan
            ok[i] = False
            continue
        sqrt_t = math.sqrt(ti)
        log_fk = math.log(f[i] / k[i])
        a = lo
        b = hi
        for _ in range(iterations):
            m = 0.5 * (a + b)
            if m > 0.0:
                pm = _price_pre(f[i], k[i], disc, sqrt_t, log_fk, m, is_call[i])
            else:
                pm = _intrinsic(f[i], k[i], disc, is_call[i])
            if pm < p:
                if a == m:
                    break  # (a, b) unchanged: every later halving repeats this one exactly
                a = m
            else:
                if b == m:
                    break
                b = m
        iv[i] = 0.5 * (a + b)
        ok[i] = True


def _arrays(*xs: object) -> list[np.ndarray]:
    arrs = np.broadcast_arrays(*[np.atleast_1d(np.asarray(x)) for x in xs])
    return [np.ascontiguousarray(a) for a in arrs]


def price(f, k, t, sigma, r=0.0, is_call=True) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Black-76 option price (index points) for arrays of inputs."""
    fa, ka, ta, sa, ra, ca = _arrays(f, k, t, sigma, r, is_call)
    out = np.empty(fa.shape[0], dtype=np.float64)
    _price_kernel(
        fa.astype(np.float64),
        ka.astype(np.float64),
        ta.astype(np.float64),
        sa.astype(np.float64),
        ra.astype(np.float64),
        ca.astype(np.bool_),
        out,
    )
    return out


def gamma(f, k, t, sigma, r=0.0) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Black-76 gamma: d²V/dF², per index point per contract unit; 0 at or after expiry."""
    fa, ka, ta, sa, ra = _arrays(f, k, t, sigma, r)
    out = np.empty(fa.shape[0], dtype=np.float64)
    _gamma_kernel(
        fa.astype(np.float64),
        ka.astype(np.float64),
        ta.astype(np.float64),
        sa.astype(np.float64),
        ra.astype(np.float64),
        out,
    )
    return out


def implied_vol(  # type: ignore[no-untyped-def]
    option_price,
    f,
    k,
    t,
    r=0.0,
    is_call=True,
    lo: float = 0.01,
    hi: float = 5.0,
    iterations: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Bisection IV on [lo, hi] with exactly ``iterations`` halvings.

    Returns ``(iv, ok)``; ``ok`` is False (and iv NaN) where the price is outside the
    no-arbitrage band (discounted intrinsic, discounted F or K) or the option has expired.
    """
    pa, fa, ka, ta, ra, ca = _arrays(option_price, f, k, t, r, is_call)
    n = pa.shape[0]
    iv = np.empty(n, dtype=np.float64)
    ok = np.empty(n, dtype=np.bool_)
    _iv_kernel(
        pa.astype(np.float64),
        fa.astype(np.float64),
        ka.astype(np.float64),
        ta.astype(np.float64),
        ra.astype(np.float64),
        ca.astype(np.bool_),
        float(lo),
        float(hi),
        int(iterations),
        iv,
        ok,
    )
    return iv, ok
