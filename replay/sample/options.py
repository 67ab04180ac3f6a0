"""0DTE ES options: definitions and trades priced with Black-76 off the futures mid with a smile.

Raw symbols follow CME's weekly/daily option roots on the front quarterly future: Fridays are
``EW{n}`` (n = week of the month, plain ``EW`` on the third Friday), Monday–Thursday ``E{n}A`` ..
``E{n}D``; then the expiry month code and year digit, a space, ``C``/``P`` and the strike in points:
``EW2X5 C6800`` is the 2025-11-14 (second Friday of November) 6800 call. They expire at 15:00 CT
on the trade date. Premium ticks: 0.05 below 5.00 points, 0.25 from 5.00 up.
Time to expiry is in 365-day years (``engines.physics.black76.NS_PER_YEAR``), r = 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from engines.physics import black76
from replay.sample.dbn_writer import DEFINITION_DTYPE, TRADE_DTYPE, empty_records
from replay.sample.scenario import (
    GAMMA_TARGET,
    MONTH_CODES,
    NS,
    PRICE_SCALE,
    UNDEF_PRICE,
    Instrument,
    OptionFlow,
    _definition_defaults,
    ct_ns,
    instrument_id,
)

STRIKE_STEP_PTS = 5
STRIKE_RANGE_PTS = 100
SMILE_SKEW = -1.5  # sigma rises as K falls below F: puts richer below
SMILE_CURVATURE = 8.0
SIDE_A, SIDE_B, SIDE_N = ord("A"), ord("B"), ord("N")


@dataclass(frozen=True)
class OptionChain:
    """The session's 0DTE calls and puts, sorted by (strike, right)."""

    instrument_id: np.ndarray  # int64
    is_call: np.ndarray  # bool
    strike: np.ndarray  # int64 units
    raw_symbol: tuple[str, ...]
    expiration_ns: int
    underlying: Instrument
    sigma_atm: float

    def __len__(self) -> int:
        return int(self.instrument_id.shape[0])


def option_root(trade_date: dt.date) -> str:
    """CME root of the option expiring on ``trade_date`` (see module docstring)."""
    week = (trade_date.day - 1) // 7 + 1
    wd = trade_date.weekday()
    root = ("EW" if week == 3 else f"EW{week}") if wd == 4 else f"E{week}{'ABCD'[wd]}"
    return f"{root}{MONTH_CODES[trade_date.month - 1]}{trade_date.year % 10}"


def build_chain(
    trade_date: dt.date, open_px: int, underlying: Instrument, sigma_atm: float
) -> OptionChain:
    """Calls and puts every 5 points within ±100 points of the open."""
    centre = int(round(open_px / PRICE_SCALE / STRIKE_STEP_PTS)) * STRIKE_STEP_PTS
    strikes_pts = np.arange(
        centre - STRIKE_RANGE_PTS, centre + STRIKE_RANGE_PTS + 1, STRIKE_STEP_PTS, dtype=np.int64
    )
    root = option_root(trade_date)
    ids, calls, strikes, syms = [], [], [], []
    for k in strikes_pts:
        for right in ("C", "P"):
            sym = f"{root} {right}{int(k)}"
            syms.append(sym)
            ids.append(instrument_id(sym))
            calls.append(right == "C")
            strikes.append(int(k) * PRICE_SCALE)
    if len(set(ids)) != len(ids) or underlying.instrument_id in ids:
        raise RuntimeError(f"instrument id collision in the {root} chain")
    return OptionChain(
        np.array(ids, np.int64),
        np.array(calls, np.bool_),
        np.array(strikes, np.int64),
        tuple(syms),
        ct_ns(trade_date, 15, 0),
        underlying,
        sigma_atm,
    )


def definition_records(chain: OptionChain, ts_event: int, ts_recv: int) -> np.ndarray:
    """Definitions as real GLBX option definitions look (min_price_increment undefined, ...)."""
    n = len(chain)
    rec = empty_records(DEFINITION_DTYPE, n)
    _definition_defaults(rec, ts_event, ts_recv)
    exp_day = dt.datetime.fromtimestamp(chain.expiration_ns // NS, tz=dt.UTC).date()
    rec["instrument_id"] = chain.instrument_id
    rec["raw_instrument_id"] = chain.instrument_id
    rec["raw_symbol"] = np.array([s.encode() for s in chain.raw_symbol], dtype="S71")
    rec["min_price_increment"] = UNDEF_PRICE
    rec["expiration"] = chain.expiration_ns
    rec["activation"] = ct_ns(exp_day - dt.timedelta(days=28), 17, 0)
    rec["high_limit_price"] = UNDEF_PRICE
    rec["low_limit_price"] = 50_000_000
    rec["max_price_variation"] = UNDEF_PRICE
    rec["unit_of_measure_qty"] = 50 * PRICE_SCALE
    rec["min_price_increment_amount"] = 0
    rec["strike_price"] = chain.strike
    rec["inst_attrib_value"] = 270339
    rec["underlying_id"] = chain.underlying.instrument_id
    rec["market_depth"] = 3
    rec["market_segment_id"] = 54
    rec["max_trade_vol"] = 3000
    rec["appl_id"] = 311
    rec["channel_id"] = 1
    rec["maturity_year"] = exp_day.year
    rec["maturity_month"] = exp_day.month
    rec["maturity_day"] = exp_day.day
    rec["group"] = b"EW"
    rec["asset"] = b"ES"
    rec["cfi"] = np.where(chain.is_call, b"OCAFPS", b"OPAFPS")
    rec["security_type"] = b"OOF"
    rec["unit_of_measure"] = b"IPNT"
    rec["underlying"] = chain.underlying.raw_symbol.encode()
    rec["strike_price_currency"] = b"USD"
    rec["instrument_class"] = np.where(chain.is_call, b"C", b"P")
    rec["tick_rule"] = 17
    return rec


def smile(f_pts: np.ndarray, k_pts: np.ndarray, sigma_atm: float) -> np.ndarray:
    """σ(K) = σ_atm + skew·m + curvature·m², m = (K − F)/F."""
    m = (k_pts - f_pts) / f_pts
    return sigma_atm + SMILE_SKEW * m + SMILE_CURVATURE * m * m


def years_to_expiry(chain: OptionChain, ts_ns: np.ndarray) -> np.ndarray:
    return (chain.expiration_ns - ts_ns.astype(np.float64)) / black76.NS_PER_YEAR


def premium_units(
    f_pts: np.ndarray,
    k_pts: np.ndarray,
    t_years: np.ndarray,
    is_call: np.ndarray,
    side: np.ndarray,
    sigma_atm: float,
) -> np.ndarray:
    """Trade price in fixed-point units: Black-76 theo, rounded to the premium tick against the
    aggressor (buyers pay the tick up, sellers get the tick down), kept above intrinsic."""
    theo = black76.price(f_pts, k_pts, t_years, smile(f_pts, k_pts, sigma_atm), 0.0, is_call)
    tick = np.where(theo < 5.0, 0.05, 0.25)
    ticks = theo / tick
    n_ticks = np.where(
        side == SIDE_B, np.ceil(ticks), np.where(side == SIDE_A, np.floor(ticks), np.round(ticks))
    )
    px = n_ticks * tick
    intrinsic = np.maximum(np.where(is_call, f_pts - k_pts, k_pts - f_pts), 0.0)
    px = np.maximum(px, intrinsic + np.where(intrinsic < 5.0, 0.05, 0.25))
    px = np.maximum(px, 0.05)
    return np.round(px * 20).astype(np.int64) * (PRICE_SCALE // 20)


def flow_sizes(chain: OptionChain, flow: OptionFlow) -> dict[int, int]:
    """Contracts per chain row so that Σ size·Γ(F=level) = GAMMA_TARGET (calls and puts alike)."""
    rows = [i for i in range(len(chain)) if int(chain.strike[i]) in flow.strikes]
    f = flow.level_px / PRICE_SCALE
    k = chain.strike[rows] / PRICE_SCALE
    t = years_to_expiry(chain, np.full(len(rows), flow.eval_ns))
    g = black76.gamma(np.full(len(rows), f), k, t, smile(np.full(len(rows), f), k, chain.sigma_atm))
    per_row = int(np.ceil(GAMMA_TARGET / float(np.sum(g))))
    return {i: per_row for i in rows}


def scripted_trades(rng: np.random.Generator, chain: OptionChain, flow: OptionFlow) -> np.ndarray:
    """(ts_ns, chain row, side, size) of a scripted flow: prints of 20–80 lots at random times."""
    out: list[tuple[int, int, int, int]] = []
    for row, total in sorted(flow_sizes(chain, flow).items()):
        left = total
        while left > 0:
            q = min(left, int(rng.integers(20, 81)))
            left -= q
            ts = int(rng.integers(flow.start_ns, flow.end_ns))
            out.append((ts, row, flow.side, q))
    arr = np.array(out, np.int64).reshape(-1, 4)
    return arr[np.lexsort((arr[:, 1], arr[:, 0]))]


def background_trades(
    rng: np.random.Generator,
    chain: OptionChain,
    t0_ns: int,
    rate_per_s: np.ndarray,
    f_pts_at: np.ndarray,
) -> np.ndarray:
    """(ts_ns, chain row, side, size) of balanced customer flow over consecutive seconds from t0.

    ``f_pts_at[i]`` is the futures mid during second i; strikes near it trade most.
    """
    counts = rng.poisson(rate_per_s)
    n = int(counts.sum())
    if n == 0:
        return np.zeros((0, 4), np.int64)
    sec = np.repeat(np.arange(rate_per_s.shape[0]), counts)
    ts = t0_ns + sec * NS + rng.integers(0, NS, n)
    f = f_pts_at[sec]
    strikes = chain.strike / PRICE_SCALE
    dist = (strikes[None, :] - f[:, None]) / 20.0
    w = np.exp(-np.abs(dist))
    cdf = np.cumsum(w, axis=1)
    pick = (rng.random(n) * cdf[:, -1])[:, None] > cdf
    row = pick.sum(axis=1)
    u = rng.random(n)
    side = np.where(u < 0.475, SIDE_A, np.where(u < 0.95, SIDE_B, SIDE_N))
    size = rng.geometric(0.3, n)
    block = rng.random(n) < 0.02
    size = np.where(block, size + rng.integers(20, 101, n), size)
    out = np.stack([ts, row, side, size], axis=1).astype(np.int64)
    return out[np.lexsort((out[:, 1], out[:, 0]))]


def trade_records(
    rng: np.random.Generator,
    chain: OptionChain,
    trades: np.ndarray,
    f_pts: np.ndarray,
    seq0: int,
    last_recv: int,
) -> np.ndarray:
    """TradeMsg records for (ts_ns, row, side, size) rows sorted by time, priced at ``f_pts``."""
    n = trades.shape[0]
    rec = empty_records(TRADE_DTYPE, n)
    if n == 0:
        return rec
    ts_e = trades[:, 0]
    rows = trades[:, 1]
    side = trades[:, 2]
    lat = 80_000 + np.minimum(rng.exponential(90_000.0, n), 900_000.0).astype(np.int64)
    ts_r = np.maximum.accumulate(np.maximum(ts_e + lat, last_recv))
    k = chain.strike[rows] / PRICE_SCALE
    rec["instrument_id"] = chain.instrument_id[rows]
    rec["ts_event"] = ts_e
    rec["ts_recv"] = ts_r
    rec["price"] = premium_units(
        f_pts, k, years_to_expiry(chain, ts_r), chain.is_call[rows], side, chain.sigma_atm
    )
    rec["size"] = trades[:, 3]
    rec["action"] = b"T"
    rec["side"] = side.astype(np.uint8).view("S1")
    rec["sequence"] = seq0 + np.arange(n)
    rec["ts_in_delta"] = 12_000 + rng.integers(0, 12_000, n)
    return rec
