"""The session script: calendar, instruments, price path, flow intensity and scripted episodes.

Everything the book kernel and the option generator need is decided here, per second of the
session, from one ``numpy.random.Generator``:

* a regime-switching intensity (quiet / normal / burst Markov chain, RTH vs overnight factor),
* a target mid path: a random walk whose volatility follows the regime, pinned through the
  episode block by waypoints joined with Brownian bridges (damped where the script must be exact),
* zone directives (a bid wall that is replenished, a bid zone that is pulled), trade freezes,
  scripted sweeps, and scripted customer option flow that sets the dealers' gamma sign.

Episode block (offsets in seconds from its start B; B is 08:30 CT when the session covers
08:30–09:00 CT of the trade date, else the session start; L1 is the first multiple of 10 points at
least 3 points below the price at B, L2 = L1 − 30):

* 30–300 s customers *sell* 0DTE options at strikes L1 and L1+5 (dealers long gamma at L1);
  120–420 s a bid wall at L1 ± 2 ticks is refilled; price waits 2–2.5 points above L1, drops to
  L1+0.25 / L1+0.50 at 326–330 s, sits there until 362 s, then bounces: ``wall_reject`` (REJECT at
  L1 about 3 s after the price comes within the 1-point touch band). 420–500 s the same customers
  buy those options back, so dealers are flat again once the episode is over.
* 660 s a buy sweep through ≥ 4 ask levels, ≥ 120 contracts: ``buy_sweep``.
* 600–1000 s customers *buy* options at strikes L2−5, L2, L2+5 (dealers short gamma at L2, and
  they stay short: nobody sells those back).
* 1000–1236 s bids at L2 ± 2 ticks are *held*: ordinary flow leaves them alone and their depth is
  built while out of view, so when the price arrives (about 2 points above L2 from 1080 s) they
  are resting depth, not flow of the 240 s barrier window; the barrier reads NEUTRAL.
  1236–1240 s they are pulled fast (canceled − added ≫ 100, added 0: VACUUM), and keep being
  pulled until 1262 s; 1232–1240 s bids at L2+0.75..L2+2.5 are refilled (depth for the first
  sweep). 1240 s a sell sweep down to L2+0.5 (never further), trades frozen until 1249.5 s, then
  a sell sweep through L2: ``vacuum_break`` (BREAK at L2 while spot is still L2+0.5).

An episode is scripted only if the session is long enough to hold it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zlib
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from replay.sample import book_sim as bs
from replay.sample.dbn_writer import DEFINITION_DTYPE, empty_records

CT = ZoneInfo("America/Chicago")
NS = 1_000_000_000
PRICE_SCALE = 1_000_000_000
TICK_UNITS = 250_000_000  # ES 0.25
SPREAD_TICK_UNITS = 50_000_000  # ES calendar spread 0.05
UNDEF_PRICE = np.iinfo(np.int64).max
GRID = 16_000  # futures grid ticks (4,000 points)
SPREAD_GRID = 4_000
MONTH_CODES = "FGHJKMNQUVXZ"

RTH_EVENTS_PER_S = 90.0  # futures book events per second at intensity 1, normal regime, RTH
ETH_FACTOR = 0.35  # overnight activity relative to RTH
OPTION_TRADES_PER_S = 2.5  # background 0DTE option prints per second at RTH, intensity 1
SPREAD_EVENTS_PER_S = 0.08
TRADE_FRAC = 0.18
REGIME_MULT = np.array([0.45, 1.0, 2.2])
# per-second switching probabilities: rows from-state, cols to-state (quiet, normal, burst)
REGIME_P = np.array(
    [
        [1 - 1 / 90, 1 / 90, 0.0],
        [1 / 150, 1 - 1 / 150 - 1 / 240, 1 / 240],
        [0.0, 1 / 30, 1 - 1 / 30],
    ]
)
PATH_VOL = 0.18  # points per sqrt(second) in the normal regime
GAMMA_TARGET = 75.0  # |dealer gamma| the scripted option flow aims at (3x the threshold)

# episode block offsets (seconds from B)
EP1_OPT = (30, 300)
EP1_UNWIND = (420, 500)
EP1_WALL = (120, 420)
EP1_WAIT = 326  # price waits >= 2 points above L1 until here, then drops into the touch band
EP1_DWELL = (330, 362)
EP1_NEEDS = 600
EP3_SWEEP = 660
EP3_NEEDS = 700
EP2_OPT = (600, 1000)
EP2_HOLD = (1000, 1236)
EP2_PULL = (1236, 1240)  # the fast pull: VACUUM from here
EP2_VACUUM = (1240, 1262)
EP2_SUPPORT = (1232, 1240)
EP2_SWEEP1 = 1240.0
EP2_SWEEP2 = 1249.5
EP2_NEEDS = 1300
BLOCK_LEN = 1800
WALL_REJECT_LAG_S = 2.0  # REJECT at L1 this long after the dwell starts (see test_episodes)
VACUUM_BREAK_LAG_S = 3.25  # BREAK at L2 this long after the first sweep (see test_episodes)


@dataclass(frozen=True)
class Episode:
    """A scripted situation and what the engines are expected to say about it."""

    kind: str
    trade_date: str
    level_px: int
    start_ns: int
    end_ns: int
    expected_signal: str
    expected_time_ns: int
    details: tuple[tuple[str, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "trade_date": self.trade_date,
            "level_px": self.level_px,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "expected_signal": self.expected_signal,
            "expected_time_ns": self.expected_time_ns,
        }
        out.update(dict(self.details))
        return out


@dataclass(frozen=True)
class OptionFlow:
    """Scripted customer option flow: one aggressor side at a few strikes inside a window.

    Sized so that the dealers' gamma at ``level_px`` at ``eval_ns`` is ``±GAMMA_TARGET``."""

    start_ns: int
    end_ns: int
    strikes: tuple[int, ...]  # units
    side: int  # ord('A') customer sells (dealers long gamma) or ord('B') customer buys
    level_px: int
    eval_ns: int


@dataclass(frozen=True)
class Instrument:
    raw_symbol: str
    instrument_id: int
    expiration_ns: int


@dataclass(frozen=True)
class SessionPlan:
    """Everything that drives one session's simulation (arrays are per second of session)."""

    trade_date: dt.date
    start_ns: int
    end_ns: int
    open_px: int
    grid_base: int
    spread_base: int
    future: Instrument
    spread: Instrument
    sched_f: np.ndarray
    sched_i: np.ndarray
    option_rate: np.ndarray  # background option prints per second
    target_px: np.ndarray  # float points per second (for the record and the tests)
    sweeps: np.ndarray  # (m, SW_COLS) int64, sorted by time
    option_flows: tuple[OptionFlow, ...]
    episodes: tuple[Episode, ...] = field(default=())


# ----------------------------------------------------------------- calendar and instruments
def trading_dates(first: dt.date, days: int) -> list[dt.date]:
    """``days`` consecutive CME trade dates from ``first`` (weekends skipped, no holidays)."""
    out: list[dt.date] = []
    d = first
    while len(out) < days:
        if d.weekday() < 5:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def session_window(trade_date: dt.date, start: str, minutes: int) -> tuple[int, int]:
    """UTC ns bounds of the session. A start at or after 17:00 CT is on the eve of the trade date
    (Globex opens at 17:00 CT the day before)."""
    hh, mm = (int(x) for x in start.split(":"))
    if not (0 <= hh < 24 and 0 <= mm < 60) or minutes <= 0:
        raise ValueError(f"start {start!r} / minutes {minutes}: expected HH:MM and minutes > 0")
    day = trade_date - dt.timedelta(days=1) if (hh, mm) >= (17, 0) else trade_date
    t0 = dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=CT)
    start_ns = int(t0.timestamp()) * NS
    return start_ns, start_ns + minutes * 60 * NS


def ct_ns(day: dt.date, hh: int, mm: int) -> int:
    return int(dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=CT).timestamp()) * NS


def third_friday(year: int, month: int) -> dt.date:
    d = dt.date(year, month, 1)
    first_friday = 1 + (4 - d.weekday()) % 7
    return dt.date(year, month, first_friday + 14)


def quarterly_after(trade_date: dt.date, skip: int = 0) -> tuple[str, dt.date]:
    """Front quarterly ES contract (rolls 8 days before expiry) or the one ``skip`` later."""
    y, m = trade_date.year, ((trade_date.month - 1) // 3 + 1) * 3
    while third_friday(y, m) - dt.timedelta(days=8) <= trade_date:
        y, m = (y + 1, 3) if m == 12 else (y, m + 3)
    for _ in range(skip):
        y, m = (y + 1, 3) if m == 12 else (y, m + 3)
    return f"ES{MONTH_CODES[m - 1]}{y % 10}", third_friday(y, m)


def instrument_id(raw_symbol: str) -> int:
    """Stable id from the raw symbol (same symbol ⇒ same id on every day and every run)."""
    return 1_000_000 + zlib.crc32(raw_symbol.encode()) % 40_000_000


def future_and_spread(trade_date: dt.date) -> tuple[Instrument, Instrument]:
    front, exp = quarterly_after(trade_date)
    back, _ = quarterly_after(trade_date, skip=1)
    fut = Instrument(front, instrument_id(front), ct_ns(exp, 8, 30))
    spr_sym = f"{front}-{back}"
    return fut, Instrument(spr_sym, instrument_id(spr_sym), ct_ns(exp, 8, 30))


def future_definitions(plan: SessionPlan, ts_event: int, ts_recv: int) -> np.ndarray:
    """Definition records of the outright and the calendar spread (fields as real GLBX ones)."""
    rec = empty_records(DEFINITION_DTYPE, 2)
    _definition_defaults(rec, ts_event, ts_recv)
    fut, spr = plan.future, plan.spread
    exp_day = dt.datetime.fromtimestamp(fut.expiration_ns // NS, tz=CT).date()
    for i, ins in enumerate((fut, spr)):
        rec["instrument_id"][i] = ins.instrument_id
        rec["raw_instrument_id"][i] = ins.instrument_id
        rec["raw_symbol"][i] = ins.raw_symbol.encode()
        rec["expiration"][i] = ins.expiration_ns
        rec["maturity_year"][i] = exp_day.year
        rec["maturity_month"][i] = exp_day.month
    rec["activation"] = ct_ns(exp_day - dt.timedelta(days=455), 8, 30)
    rec["min_price_increment"] = [TICK_UNITS, SPREAD_TICK_UNITS]
    band = plan.open_px // 100 * 7
    rec["high_limit_price"] = [plan.open_px + band, UNDEF_PRICE]
    rec["low_limit_price"] = [plan.open_px - band, UNDEF_PRICE]
    rec["max_price_variation"] = [10 * PRICE_SCALE, 2_500_000_000]
    rec["unit_of_measure_qty"] = [50 * PRICE_SCALE, UNDEF_PRICE]
    rec["min_price_increment_amount"] = [125_000_000, UNDEF_PRICE]
    rec["inst_attrib_value"] = [270351, 271371]
    rec["market_depth"] = 10
    rec["market_segment_id"] = 64
    rec["max_trade_vol"] = [3000, 15000]
    rec["appl_id"] = 310
    rec["channel_id"] = 0
    rec["secsubtype"] = [b"", b"EQ"]
    rec["group"] = b"ES"
    rec["asset"] = b"ES"
    rec["cfi"] = [b"FFIXSX", b"FMIXSX"]
    rec["security_type"] = b"FUT"
    rec["unit_of_measure"] = [b"IPNT", b"CTRCT"]
    rec["instrument_class"] = [b"F", b"S"]
    rec["maturity_day"] = 255
    rec["tick_rule"] = 255
    return rec


def _definition_defaults(rec: np.ndarray, ts_event: int, ts_recv: int) -> None:
    """Fields every GLBX definition carries, with Databento's 'undefined' sentinels."""
    rec["ts_event"] = ts_event
    rec["ts_recv"] = ts_recv
    rec["display_factor"] = 10_000_000  # what real GLBX.MDP3 ES definitions carry (0.01)
    for name in ("price_ratio", "strike_price", "leg_price", "leg_delta"):
        rec[name] = UNDEF_PRICE
    for name in ("contract_multiplier", "decay_quantity", "original_contract_size"):
        rec[name] = np.iinfo(np.int32).max
    rec["min_trade_vol"] = 1
    rec["decay_start_date"] = 65535
    rec["currency"] = b"USD"
    rec["exchange"] = b"XCME"
    rec["match_algorithm"] = b"F"
    for name in ("main_fraction", "price_display_format", "sub_fraction", "maturity_week"):
        rec[name] = 255
    rec["underlying_product"] = 5
    rec["security_update_action"] = b"A"
    rec["user_defined_instrument"] = b"N"
    rec["contract_multiplier_unit"] = 127
    rec["flow_schedule_type"] = 127
    rec["leg_side"] = b"N"


# ----------------------------------------------------------------- the plan
def _regimes(rng: np.random.Generator, n: int) -> np.ndarray:
    u = rng.random(n)
    out = np.empty(n, np.int64)
    state = 1
    cum = np.cumsum(REGIME_P, axis=1)
    for i in range(n):
        row = cum[state]
        state = 0 if u[i] < row[0] else (1 if u[i] < row[1] else 2)
        out[i] = state
    return out


def _bridge(noise: np.ndarray, a: int, b: int) -> np.ndarray:
    """Brownian bridge on [a, b] from a random walk: zero at both ends."""
    seg = noise[a : b + 1] - noise[a]
    return seg - np.linspace(0.0, 1.0, b - a + 1) * seg[-1]


def _waypoints(ob: float) -> tuple[float, float, list[tuple[float, float, float]]]:
    """(L1, L2, [(offset s, price points, noise amplitude on the segment ending here)])."""
    l1 = 10.0 * np.floor((ob - 3.0) / 10.0)
    l2 = l1 - 30.0
    wp = [
        (0.0, ob, 0.0),
        (200.0, l1 + 2.5, 0.5),
        (EP1_WAIT, l1 + 2.125, 0.15),
        (EP1_DWELL[0], l1 + 0.375, 0.0),
        (EP1_DWELL[1], l1 + 0.375, 0.0),
        (420.0, l1 + 4.0, 0.3),
        (EP3_SWEEP - 5.0, l1 + 7.0, 0.8),
        (EP3_SWEEP + 15.0, l1 + 8.0, 0.0),
        (700.0, l1 + 8.0, 0.5),
        (1080.0, l2 + 2.125, 0.6),
        (EP2_SWEEP1 - 2.0, l2 + 2.125, 0.1),
        (EP2_SWEEP1 + 0.5, l2 + 0.75, 0.0),
        (EP2_SWEEP2 - 0.5, l2 + 0.75, 0.0),
        (EP2_SWEEP2 + 1.5, l2 - 1.75, 0.0),
        (1400.0, l2 - 5.0, 0.5),
    ]
    return l1, l2, wp


def build_plan(
    rng: np.random.Generator,
    trade_date: dt.date,
    start: str,
    minutes: int,
    intensity: float,
    open_pts: float,
) -> SessionPlan:
    """Decide the whole session: schedule arrays, sweeps, option flows, episode templates."""
    if intensity <= 0:
        raise ValueError(f"intensity {intensity}: expected > 0")
    start_ns, end_ns = session_window(trade_date, start, minutes)
    n = minutes * 60
    fut, spr = future_and_spread(trade_date)
    open_pts = round(open_pts * 4) / 4
    open_px = int(round(open_pts * 4)) * TICK_UNITS
    grid_base = open_px - (GRID // 2) * TICK_UNITS
    spread_mid_pts = -58.0 + round(float(rng.normal(0.0, 1.0)) * 20) / 20
    spread_base = (
        int(round(spread_mid_pts * 20)) * SPREAD_TICK_UNITS - (SPREAD_GRID // 2) * SPREAD_TICK_UNITS
    )

    regime = _regimes(rng, n + 1)
    mult = REGIME_MULT[regime]
    t_sec = start_ns + np.arange(n + 1, dtype=np.int64) * NS
    rth = (t_sec >= ct_ns(trade_date, 8, 30)) & (t_sec < ct_ns(trade_date, 15, 15))
    tod = np.where(rth, 1.0, ETH_FACTOR)
    noise = np.cumsum(rng.normal(0.0, PATH_VOL, n + 1) * np.sqrt(mult * tod))
    noise -= noise[0]

    # episode block
    b_rth = ct_ns(trade_date, 8, 30)
    use_rth = start_ns <= b_rth and b_rth + BLOCK_LEN * NS <= end_ns
    b0 = (b_rth - start_ns) // NS if use_rth else 0
    path = open_pts + noise
    ob = float(path[b0])
    l1, l2, wp = _waypoints(ob)
    span = n - b0
    for (ta, pa, _), (tb, pb, amp) in itertools.pairwise(wp):
        a = b0 + int(np.ceil(ta)) if ta > 0 else b0
        b = b0 + int(np.ceil(tb))
        if a >= n:
            break
        b_cl = min(b, n)
        seg_t = np.arange(a, b_cl + 1) - b0
        base = pa + (pb - pa) * (seg_t - ta) / (tb - ta)
        bridge = _bridge(noise, a, b)[: b_cl - a + 1] if b <= n else noise[a : b_cl + 1] * 0
        path[a : b_cl + 1] = base + amp * bridge
    last_wp = b0 + int(np.ceil(wp[-1][0]))
    if last_wp < n:
        path[last_wp:] = wp[-1][1] + (noise[last_wp:] - noise[last_wp])

    sched_f = np.zeros((n + 1, bs.SF_COLS))
    sched_i = np.zeros((n + 1, bs.SI_COLS), np.int64)
    sched_f[:, bs.SF_RATE] = RTH_EVENTS_PER_S * mult * tod * intensity
    sched_f[:, bs.SF_TARGET] = (path * PRICE_SCALE - grid_base) / TICK_UNITS
    sched_f[:, bs.SF_TRADE_FRAC] = TRADE_FRAC
    sched_f[:, bs.SF_SPREAD_RATE] = SPREAD_EVENTS_PER_S * tod * intensity
    option_rate = OPTION_TRADES_PER_S * np.sqrt(mult) * tod * intensity
    option_rate[t_sec >= ct_ns(trade_date, 15, 0)] = 0.0  # the 0DTE options have expired

    def idx(pts: float) -> int:
        return int(round((pts * PRICE_SCALE - grid_base) / TICK_UNITS))

    def units(pts: float) -> int:
        return int(round(pts * 4)) * TICK_UNITS

    def at(off: float) -> int:
        return start_ns + (b0 * NS) + int(off * NS)

    def zone(
        lo_hi: tuple[float, float], px: tuple[float, float], mode: int, rate: float, slot: int
    ) -> None:
        a, b = b0 + int(lo_hi[0]), min(n + 1, b0 + int(lo_hi[1]))
        o = slot * bs.SI_ZONE_SLOT
        sched_i[a:b, bs.SI_ZONE_MODE + o] = mode
        sched_i[a:b, bs.SI_ZONE_SIDE + o] = 0
        sched_i[a:b, bs.SI_ZONE_LO + o] = idx(px[0])
        sched_i[a:b, bs.SI_ZONE_HI + o] = idx(px[1])
        sched_f[a:b, bs.SF_ZONE_RATE if slot == 0 else bs.SF_ZONE2_RATE] = rate * intensity

    sweeps: list[list[int]] = []
    flows: list[OptionFlow] = []
    episodes: list[Episode] = []
    date_s = trade_date.isoformat()
    if span >= EP1_NEEDS:
        zone(EP1_WALL, (l1 - 0.5, l1 + 0.5), bs.ZONE_WALL, 0.7, 0)
        d0, d1 = b0 + EP1_DWELL[0], b0 + EP1_DWELL[1]
        sched_f[d0:d1, bs.SF_TRADE_FRAC] = 0.10
        sched_f[d0:d1, bs.SF_BUY_SHIFT] = 0.08
        strikes = tuple(units(l1 + k) for k in (0.0, 5.0))
        for (t0, t1), side in ((EP1_OPT, "A"), (EP1_UNWIND, "B")):
            flows.append(OptionFlow(at(t0), at(t1), strikes, ord(side), units(l1), at(345)))
        episodes.append(
            Episode(
                "wall_reject",
                date_s,
                units(l1),
                at(EP1_WALL[0]),
                at(EP1_WALL[1]),
                "REJECT",
                at(EP1_DWELL[0] + WALL_REJECT_LAG_S),
            )
        )
    if span >= EP3_NEEDS:
        sweeps.append([at(EP3_SWEEP), 1, -1, 120, 4, 0])
    if span >= EP2_NEEDS:
        l2_zone = (l2 - 0.5, l2 + 0.5)
        zone(EP2_HOLD, l2_zone, bs.ZONE_HOLD, 2.0, 0)
        zone(EP2_PULL, l2_zone, bs.ZONE_VACUUM, 15.0, 0)
        zone(EP2_VACUUM, l2_zone, bs.ZONE_VACUUM, 0.8, 0)
        # bids just above the pulled zone are refilled, so the first sweep has size to eat
        zone(EP2_SUPPORT, (l2 + 0.75, l2 + 2.5), bs.ZONE_WALL, 0.3, 1)
        f0, f1 = b0 + int(EP2_SWEEP1), b0 + int(np.ceil(EP2_SWEEP2))
        sched_f[f0:f1, bs.SF_TRADE_FRAC] = 0.0
        strikes = tuple(units(l2 + k) for k in (-5.0, 0.0, 5.0))
        flows.append(
            OptionFlow(at(EP2_OPT[0]), at(EP2_OPT[1]), strikes, ord("B"), units(l2), at(EP2_SWEEP1))
        )
        sweeps.append([at(EP2_SWEEP1), 0, idx(l2 + 0.5), 100, 2, 1])
        sweeps.append([at(EP2_SWEEP2), 0, idx(l2 - 1.0), 100, 2, 0])
    sweep_arr = np.array(sweeps, np.int64).reshape(-1, bs.SW_COLS)
    return SessionPlan(
        trade_date=trade_date,
        start_ns=start_ns,
        end_ns=end_ns,
        open_px=open_px,
        grid_base=grid_base,
        spread_base=spread_base,
        future=fut,
        spread=spr,
        sched_f=sched_f,
        sched_i=sched_i,
        option_rate=option_rate,
        target_px=path,
        sweeps=sweep_arr,
        option_flows=tuple(flows),
        episodes=tuple(episodes),
    )


def finalize_episodes(plan: SessionPlan, sweep_out: np.ndarray) -> tuple[Episode, ...]:
    """Add what only the simulation knows (realised sweep prices and times) to the episodes."""
    out = list(plan.episodes)
    date_s = plan.trade_date.isoformat()
    for k, row in enumerate(plan.sweeps):
        ts, first, last, size, levels = (int(x) for x in sweep_out[k])
        info = (
            ("sweep_first_px", first),
            ("sweep_last_px", last),
            ("sweep_size", size),
            ("sweep_prices", levels),
            ("sweep_ts_recv", ts),
        )
        if row[bs.SW_BUY] == 1:
            out.append(
                Episode(
                    "buy_sweep",
                    date_s,
                    first,
                    ts - NS,
                    ts + 60 * NS,
                    "SWEEP_UP",
                    ts,
                    (("direction", 1), *info),
                )
            )
    if plan.sweeps.shape[0] >= 3:
        ts1 = int(sweep_out[1, 0])
        l2 = int(plan.option_flows[-1].level_px)
        ts2 = int(sweep_out[2, 0])
        vac_start = (
            plan.start_ns
            + int(plan.sweeps[1, bs.SW_T] - plan.start_ns)
            - int((EP2_SWEEP1 - EP2_HOLD[0]) * NS)
        )
        out.append(
            Episode(
                "vacuum_break",
                date_s,
                l2,
                vac_start,
                ts2 + NS,
                "BREAK",
                ts1 + int(VACUUM_BREAK_LAG_S * NS),
                (
                    ("break_sweep_ts_recv", ts2),
                    ("first_sweep_last_px", int(sweep_out[1, 2])),
                    ("first_sweep_size", int(sweep_out[1, 3])),
                    ("first_sweep_ts_recv", ts1),
                ),
            )
        )
    out.sort(key=lambda e: (e.expected_time_ns, e.kind))
    return tuple(out)
