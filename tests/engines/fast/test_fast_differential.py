"""Differential tests: the fast engine's per-level numba functions vs the reference engine.

Each fast function in ``engines/fast/snap_levels.py`` mirrors one reference function operation for
operation, and the project's contract is bit-identical Gold output between the two engines. Here
hypothesis draws inputs over realistic ranges (prices as int64 1e-9 units on the ES 0.25 tick
grid around 4000-7000 points, small integer sizes, scores 0-100, snap times on the 250 ms grid),
both sides run on the same inputs, codes are mapped to names through ``engines.fast.snap_codes``,
and
every output is compared exactly: integers with ``==``, floats with :func:`same` (``==`` plus the
sign of zero; NaN only equals NaN).

Pairs covered (fast <-> reference):

* ``break_score``  <-> ``score.break_score`` (and ``snap_kernel._confidence`` <->
  ``score.confidence_label`` where the kernel decides; it defers means within 1e-9 of a threshold
  to Python by design)
* ``ewma``  <-> ``smoothing.update_smoothers`` (the five EWMAs, step by step)
* ``trigger`` / ``_candidate``  <-> ``trigger.step_trigger`` / ``trigger._candidate``
* ``runway``  <-> ``room_to_run.runway``
* ``approach``  <-> ``signal_service._approach`` (circular ring vs the linear one)
* ``wall`` / ``flip`` / ``wall_pair``  <-> ``fuel._wall`` / ``fuel._flip`` (and ``fuel_walls``)
* ``fuel``  <-> ``fuel.compute_fuel`` over one ``fuel.snap_gamma`` view
* ``barrier`` / ``tape``  <-> ``barrier.compute_barrier`` / ``tape.compute_tape``: the same random
  book and trade history is folded into one ``engines.state.market_state.MarketState``; the
  reference
  reads the object, the fast side reads ``MarketState.kernel_arrays()``.

The glue the kernel does around these calls (``snap_kernel._score_level``: the ``contiguous`` flag
of the trigger, the runway direction, the strike slice of ``fuel_walls``) is written out in the
tests where a fast function needs it as an input, each with a pointer to where the kernel does it.
Parameters come from the fast engine's own ``engines.fast.fast_engine.params``: ``pi`` / ``pf``
arrays from an EngineConfig.

Nothing listed was skipped. Not compared here because they are not separate fast functions (or
are the same code on both sides): the break direction (inline ``DOWN if spot > L else UP`` in
``_score_level``; ``barrier`` writes the direction it derives from), tape velocity (both engines
call ``trade_fold._velocity_kernel``) and the per-snap ``snap_kernel._gamma_view`` (the fuel
tests build the kernel's view layout from a reference ``snap_gamma`` view instead). Run with
``--hypothesis-show-statistics`` to see which cases (barrier states, sweeps, walls, flips,
obstacles, signals) the draws reached.
"""

from __future__ import annotations

import datetime as dt
import functools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from engines.contract.config import PRICE_SCALE, EngineConfig
from engines.contract.events import (
    F_LAST,
    N_LEVELS,
    SIDE_ASK,
    SIDE_BID,
    SIDE_NONE,
    UNDEF_PRICE,
    DepthBatch,
    OptionDefinitions,
    TradeBatch,
)
from engines.fast import snap_codes as C
from engines.fast import snap_kernel as K
from engines.fast import snap_levels as F
from engines.fast.fast_engine import params as fast_params
from engines.physics import trigger as trigger_mod
from engines.physics.barrier import compute_barrier
from engines.physics.fuel import (
    FuelState,
    GammaView,
    _flip,
    _wall,
    compute_fuel,
    fuel_walls,
    snap_gamma,
)
from engines.physics.room_to_run import runway
from engines.physics.score import break_score, confidence_label
from engines.physics.smoothing import update_smoothers
from engines.physics.tape import compute_tape
from engines.physics.trigger import TriggerState, step_trigger
from engines.reference.signal_service import NO_SPOT, _approach
from engines.state.layout import B_VALID, K_APX, K_ASZ, K_BPX, K_BSZ, N_FIELDS, N_SW
from engines.state.market_state import MarketState
from engines.state.session_context import SessionContext

PT = PRICE_SCALE  # one index point in units
TICK = 250_000_000  # one ES tick (0.25 point)
SNAP = 250_000_000  # 250 ms in ns
T0 = 1_763_130_600_000_000_000  # 2025-11-14 14:30 UTC, on the snap grid
DATE = dt.date(2025, 11, 14)
NAN, INF = math.nan, math.inf
DEFAULT = EngineConfig()
EW_FIELDS = ("score", "velocity", "delta_liq", "replenishment", "dealer_gamma")  # EW_* order

# ------------------------------------------------------------------------------------ helpers


@functools.cache
def params(cfg: EngineConfig) -> tuple[np.ndarray, np.ndarray]:
    """The fast side's (pi, pf) for ``cfg``, filled by the fast engine's own ``params``."""
    return fast_params(cfg, T0, SessionContext.create(cfg, DATE, None), 1)


def same(a: float, b: float) -> bool:
    """Float equality as bits (up to NaN payload): equal with the same sign, or both NaN."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def note(label: str) -> None:
    """Count a case kind in ``--hypothesis-show-statistics`` (no-op in the plain tests)."""
    if currently_in_test_context():
        event(label)


def opt(code: int) -> int | None:
    """An int64 output slot as the reference's ``int | None`` (``NONE`` is null)."""
    return None if code == C.NONE else int(code)


def out_arrays() -> tuple[np.ndarray, np.ndarray]:
    """One-row Gold column blocks (row 0), as the kernel's ``oi`` / ``ox``."""
    return np.zeros((C.N_I, 1), dtype=np.int64), np.zeros((C.N_X, 1), dtype=np.float64)


def empty_book_planes() -> np.ndarray:
    """MarketState-style book planes (3, 4, 10): every level empty."""
    books = np.zeros((3, 4, N_LEVELS), dtype=np.int64)
    books[:, K_BPX, :] = UNDEF_PRICE
    books[:, K_APX, :] = UNDEF_PRICE
    return books


Side = list[tuple[int, int]]  # (price units, size), best first

price_ticks = st.integers(4000 * 4, 7000 * 4)
finite_or_odd = st.sampled_from([0.0, -0.0, NAN, INF, -INF])


@st.composite
def book_sides(draw: st.DrawFn, center: int, valid: bool) -> tuple[Side, Side]:
    """Top-10 bids and asks around ``center`` (ticks); ``valid`` forces a two-sided bid < ask."""
    bid0 = center + draw(st.integers(-3, 3))
    spread = draw(st.integers(1, 2)) if valid else draw(st.sampled_from([1, 1, 2, 0, -1]))
    lo_n = 1 if valid else 0
    sides = []
    for first, sign in ((bid0, -1), (bid0 + spread, 1)):
        n = draw(st.integers(lo_n, N_LEVELS))
        gaps = draw(st.lists(st.integers(1, 2), min_size=n, max_size=n))
        sizes = draw(st.lists(st.integers(0, 400), min_size=n, max_size=n))
        if valid:
            sizes[0] = max(sizes[0], 1)
        px, side = first, []
        for g, s in zip(gaps, sizes, strict=True):
            side.append((px * TICK, s))
            px += sign * g
        sides.append(side)
    return sides[0], sides[1]


def put_sides(books: np.ndarray, plane: int, bids: Side, asks: Side) -> None:
    for j, (p, s) in enumerate(bids):
        books[plane, K_BPX, j], books[plane, K_BSZ, j] = p, s
    for j, (p, s) in enumerate(asks):
        books[plane, K_APX, j], books[plane, K_ASZ, j] = p, s


# ------------------------------------------------------------------------------ break score

score_configs = st.one_of(
    st.just(DEFAULT),
    st.builds(
        EngineConfig,
        w_liquidity=st.floats(0.0, 1.0),
        w_hedge=st.floats(0.0, 1.0),
        w_tape=st.floats(0.0, 1.0),
        velocity_full_scale=st.floats(0.01, 5.0),
    ),
)
velocities = st.one_of(st.floats(-5.0, 5.0), finite_or_odd, st.sampled_from([0.5, -0.5]))
imbalances = st.one_of(
    st.floats(-1.0, 1.0),
    st.tuples(st.integers(0, 500), st.integers(0, 500))
    .filter(lambda bs: bs[0] + bs[1] > 0)
    .map(lambda bs: (bs[0] - bs[1]) / (bs[0] + bs[1])),
    finite_or_odd,
)


def fast_break_score(
    cfg: EngineConfig, bstate: int, feff: int, vel: float, imb: float, swdir: int, brk: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(reference (S_L, S_H, S_T, raw), fast (S_L, S_H, S_T, raw)) for one set of inputs."""
    _, pf = params(cfg)
    fast = F.break_score(pf, bstate, feff, float(vel), float(imb), swdir, brk)
    ref = break_score(
        cfg,
        C.BARRIER_NAMES[bstate],
        C.FUEL_NAMES[feff],
        vel,
        imb,
        None if swdir < 0 else C.UPDOWN_NAMES[swdir],
        C.UPDOWN_NAMES[brk],
    )
    return (ref.liquidity_score, ref.hedge_score, ref.tape_score, ref.break_score_raw), fast


def test_break_score_hand_example() -> None:
    """snap_levels.break_score <-> score.break_score on one worked case."""
    # WEAK barrier (S_L 75), AMPLIFY fuel (S_H 100), break UP, no sweep, velocity +0.25 pt/s,
    # imbalance +0.4: S_T = 25·min(1, 0.25/0.5) + 25·0.4 = 12.5 + 10 = 22.5;
    # raw = 0.45·75 + 0.35·100 + 0.20·22.5 = 33.75 + 35 + 4.5 = 73.25
    ref, fast = fast_break_score(DEFAULT, C.WEAK, C.AMPLIFY, 0.25, 0.4, -1, C.UP)
    assert all(same(a, b) for a, b in zip(ref, fast, strict=True))
    assert fast[:3] == (75.0, 100.0, 22.5)
    assert fast[3] == pytest.approx(73.25)
    # a DOWN sweep under a DOWN break makes S_T 100 whatever velocity says (NaN here);
    # WALL (0) and DAMPEN (0): raw = 0.45·0 + 0.35·0 + 0.20·100 = 20
    ref, fast = fast_break_score(DEFAULT, C.WALL, C.DAMPEN, NAN, 0.0, C.DOWN, C.DOWN)
    assert ref == fast == (0.0, 0.0, 100.0, pytest.approx(20.0))


@settings(max_examples=300, deadline=None)
@given(
    cfg=score_configs,
    bstate=st.integers(0, len(C.BARRIER_NAMES) - 1),
    feff=st.integers(0, len(C.FUEL_NAMES) - 1),
    vel=velocities,
    imb=imbalances,
    swdir=st.sampled_from([-1, C.UP, C.DOWN]),
    brk=st.sampled_from([C.UP, C.DOWN]),
)
def test_break_score_matches_reference(
    cfg: EngineConfig, bstate: int, feff: int, vel: float, imb: float, swdir: int, brk: int
) -> None:
    """snap_levels.break_score <-> score.break_score: S_L, S_H, S_T and raw, bit for bit."""
    ref, fast = fast_break_score(cfg, bstate, feff, vel, imb, swdir, brk)
    assert all(same(a, b) for a, b in zip(ref, fast, strict=True)), (ref, fast)


# ---------------------------------------------------------------------- confidence label


def test_confidence_hand_example() -> None:
    """snap_kernel._confidence <-> score.confidence_label on worked cases."""
    _, pf = params(DEFAULT)
    # (1.0 + 0.5 + 0.3) / 3 = 0.6: >= 0.4, < 0.7 -> MEDIUM on both sides
    assert C.CONFIDENCE_NAMES[K._confidence(pf, 1.0, 0.5, 0.3)] == "MEDIUM"
    assert confidence_label(DEFAULT, 1.0, 0.5, 0.3) == "MEDIUM"
    # (0.6 + 0.6 + 0.0) / 3 = 0.39999999999999997 in binary: the kernel leaves it to Python's
    # round(mean, 12), which makes it 0.4 -> MEDIUM
    assert K._confidence(pf, 0.6, 0.6, 0.0) == C.CONF_UNDECIDED
    assert confidence_label(DEFAULT, 0.6, 0.6, 0.0) == "MEDIUM"


confidences = st.one_of(
    st.floats(0.0, 1.0),
    st.integers(0, 1200).map(lambda c: min(1.0, c / 500)),
    st.integers(0, 1200).map(lambda c: min(1.0, c / 1000)),
)


@settings(max_examples=300, deadline=None)
@given(
    thresholds=st.one_of(
        st.just((0.7, 0.4)),
        st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)).map(lambda t: (max(t), min(t))),
        st.sampled_from([(0.5, 0.2), (0.3, 0.3), (1.0, 0.0)]),
    ),
    bc=confidences,
    tc=confidences,
    fc=confidences,
)
def test_confidence_matches_reference(
    thresholds: tuple[float, float], bc: float, tc: float, fc: float
) -> None:
    """snap_kernel._confidence <-> score.confidence_label (undecided only next to a threshold)."""
    cfg = EngineConfig(confidence_high=thresholds[0], confidence_medium=thresholds[1])
    _, pf = params(cfg)
    code = K._confidence(pf, bc, tc, fc)
    if code == C.CONF_UNDECIDED:
        mean = (bc + tc + fc) / 3.0
        assert min(abs(mean - thresholds[0]), abs(mean - thresholds[1])) <= 1e-9
    else:
        assert C.CONFIDENCE_NAMES[code] == confidence_label(cfg, bc, tc, fc)


# ------------------------------------------------------------------------------------ EWMA


def ewma_step(
    cfg: EngineConfig,
    lv_i: np.ndarray,
    lv_f: np.ndarray,
    slot: int,
    ts: int,
    xs: tuple[float, ...],
) -> None:
    """The kernel's five ``ewma`` calls of one level at one snap (snap_kernel._score_level)."""
    _, pf = params(cfg)
    for k, x in enumerate(xs):
        F.ewma(pf, lv_i, lv_f, slot, k, float(x), ts)


def assert_ewmas_equal(sm: object, lv_i: np.ndarray, lv_f: np.ndarray, slot: int) -> None:
    for k, name in enumerate(EW_FIELDS):
        e = getattr(sm, name)
        if e is None:
            assert lv_i[slot, C.L_EW_HAS + k] == 0, name
        else:
            assert lv_i[slot, C.L_EW_HAS + k] == 1, name
            assert same(lv_f[slot, k], e.value), (name, lv_f[slot, k], e.value)
            assert lv_i[slot, C.L_EW_TS + k] == e.last_ts_ns, name


def test_ewma_hand_example() -> None:
    """snap_levels.ewma <-> smoothing.update_smoothers on a worked score sequence."""
    lv_i = np.zeros((1, C.N_LI), dtype=np.int64)
    lv_f = np.zeros((1, 5))
    # first sample sets the value: score 50 at T0; the other four metrics get no sample (NaN)
    xs0 = (50.0, NAN, NAN, NAN, NAN)
    sm = update_smoothers(DEFAULT, None, T0, *xs0)
    ewma_step(DEFAULT, lv_i, lv_f, 0, T0, xs0)
    assert_ewmas_equal(sm, lv_i, lv_f, 0)
    # 80 at T0 + 2 s with tau_score 2 s: alpha = 1 - e^-1 = 0.63212...,
    # value = 0.63212·80 + 0.36788·50 = 50.5696 + 18.3940 = 68.9636
    xs1 = (80.0, 1.0, NAN, NAN, NAN)
    sm = update_smoothers(DEFAULT, sm, T0 + 8 * SNAP, *xs1)
    ewma_step(DEFAULT, lv_i, lv_f, 0, T0 + 8 * SNAP, xs1)
    assert_ewmas_equal(sm, lv_i, lv_f, 0)
    assert lv_f[0, C.EW_SCORE] == pytest.approx(68.96361676485673)
    assert lv_f[0, C.EW_VELOCITY] == 1.0  # velocity's first sample


ewma_values = st.one_of(
    st.floats(0.0, 100.0),  # scores
    st.floats(-5.0, 5.0),  # velocities
    st.integers(-2000, 2000).map(float),  # delta_liq
    st.floats(-1e4, 1e4),  # ratios, dealer gamma
    finite_or_odd,
)
ewma_configs = st.one_of(
    st.just(DEFAULT),
    st.builds(
        EngineConfig,
        tau_score_s=st.floats(0.05, 30.0),
        tau_velocity_s=st.floats(0.05, 30.0),
        tau_delta_liq_s=st.floats(0.05, 30.0),
        tau_replenishment_s=st.floats(0.05, 30.0),
        tau_dealer_gamma_s=st.floats(0.05, 30.0),
        ewma_dt_cap_s=st.one_of(st.floats(0.1, 1000.0), st.just(600.0)),
    ),
)


@settings(max_examples=120, deadline=None)
@given(
    cfg=ewma_configs,
    steps=st.lists(
        st.tuples(
            st.sampled_from([1, 1, 1, 2, 4, 40, 10_000, 0, -1]),  # snaps since the last step
            st.tuples(*[ewma_values] * 5),
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_ewma_matches_reference(
    cfg: EngineConfig, steps: list[tuple[int, tuple[float, ...]]]
) -> None:
    """snap_levels.ewma (x5) <-> smoothing.update_smoothers, compared after every step."""
    lv_i = np.zeros((3, C.N_LI), dtype=np.int64)
    lv_f = np.zeros((3, 5))
    sm = None
    ts = T0
    for gap, xs in steps:
        ts += gap * SNAP
        sm = update_smoothers(cfg, sm, ts, *xs)
        ewma_step(cfg, lv_i, lv_f, 1, ts, xs)
        assert_ewmas_equal(sm, lv_i, lv_f, 1)
    assert not lv_i[0].any() and not lv_i[2].any()  # other slots untouched
    assert not lv_f[0].any() and not lv_f[2].any()


# --------------------------------------------------------------------------------- trigger


class TriggerPair:
    """One level's trigger on both engines, driven the way each caller drives it."""

    def __init__(self, cfg: EngineConfig) -> None:
        self.cfg = cfg
        self.pi, self.pf = params(cfg)
        self.lv_i = np.zeros((2, C.N_LI), dtype=np.int64)
        # a fresh slot as snap_kernel._slot initialises it: neutral, nothing armed
        self.lv_i[1, C.L_ARMED] = -1
        self.lv_i[1, C.L_ARMED_TS] = C.NONE
        self.ref: TriggerState | None = None
        self.prev_ts: int | None = None

    def step(self, ts: int, score: float, dist: int, bstate: int, vol: int) -> tuple[str, str]:
        self.ref, sig = step_trigger(
            self.cfg,
            self.ref,
            ts,
            score,
            dist,
            C.BARRIER_NAMES[bstate],
            vol,
            self.prev_ts,
            self.cfg.snap_ns,
        )
        # snap_kernel._score_level: scored at the immediately preceding snap
        contiguous = self.prev_ts is not None and self.prev_ts == ts - self.cfg.snap_ns
        fast = F.trigger(
            self.pi, self.pf, self.lv_i, 1, ts, float(score), dist, bstate, vol, contiguous
        )
        self.prev_ts = ts
        return sig, C.SIGNAL_NAMES[fast]

    def assert_same_state(self) -> None:
        assert self.ref is not None
        row = self.lv_i[1]
        armed = None if row[C.L_ARMED] < 0 else C.SIGNAL_NAMES[row[C.L_ARMED]]
        assert C.SIGNAL_NAMES[row[C.L_TRIG]] == self.ref.state
        assert armed == self.ref.armed
        assert opt(row[C.L_ARMED_TS]) == self.ref.armed_ts_ns


def test_trigger_hand_example() -> None:
    """snap_levels.trigger <-> trigger.step_trigger on a worked arm / hold / fire / exit run."""
    pair = TriggerPair(DEFAULT)
    # score 85 >= break_enter 80 arms BREAK at T0; hold 3 s = 12 snaps of 250 ms, so it fires at
    # T0 + 12 snaps (the 13th step) and not before
    sigs = [pair.step(T0 + i * SNAP, 85.0, 0, C.B_NEUTRAL, 0) for i in range(13)]
    assert sigs[:12] == [("NEUTRAL", "NEUTRAL")] * 12
    assert sigs[12] == ("BREAK", "BREAK")
    pair.assert_same_state()
    # 55 < break_exit 60 arms the exit; a one-snap gap (T0 + 14 snaps skipped) disarms it and the
    # next snap re-arms at T0 + 15 snaps
    assert pair.step(T0 + 13 * SNAP, 55.0, 0, C.B_NEUTRAL, 0) == ("BREAK", "BREAK")
    assert pair.step(T0 + 15 * SNAP, 55.0, 0, C.B_NEUTRAL, 0) == ("BREAK", "BREAK")
    pair.assert_same_state()
    assert pair.lv_i[1, C.L_ARMED_TS] == T0 + 15 * SNAP


def test_candidate_hand_example() -> None:
    """snap_levels._candidate <-> trigger._candidate on worked cases."""
    pi, pf = params(DEFAULT)
    # NEUTRAL, score 15 <= reject_enter 20 and distance 0.5 pt <= touch band 1 pt -> REJECT
    assert trigger_mod._candidate(DEFAULT, "NEUTRAL", 15.0, 2 * TICK) == "REJECT"
    assert F._candidate(pi, pf, C.S_NEUTRAL, 15.0, 2 * TICK) == C.S_REJECT
    # same score 1.25 pt away: outside the touch band -> nothing
    assert trigger_mod._candidate(DEFAULT, "NEUTRAL", 15.0, 5 * TICK) is None
    assert F._candidate(pi, pf, C.S_NEUTRAL, 15.0, 5 * TICK) == -1


@st.composite
def trigger_configs(draw: st.DrawFn) -> EngineConfig:
    if draw(st.booleans()):
        return DEFAULT
    b_enter = draw(st.floats(0.0, 100.0))
    r_enter = draw(st.floats(0.0, 100.0))
    c_lo = draw(st.floats(0.0, 100.0))
    return EngineConfig(
        break_enter=b_enter,
        break_exit=draw(st.floats(0.0, b_enter)),
        reject_enter=r_enter,
        reject_exit=draw(st.floats(r_enter, 100.0)),
        contested_low=c_lo,
        contested_high=draw(st.floats(c_lo, 100.0)),
        contested_volume=draw(st.sampled_from([500, 0, 50])),
        hold_s=draw(st.sampled_from([3.0, 0.0, 0.25, 0.3, 1.0])),
        touch_band_pts=draw(st.sampled_from([1.0, 0.0, 0.25, 2.5])),
    )


def scores_for(cfg: EngineConfig) -> st.SearchStrategy[float]:
    """Scores 0-100, the thresholds themselves and their float neighbours, NaN."""
    marks = [
        cfg.break_enter,
        cfg.break_exit,
        cfg.reject_enter,
        cfg.reject_exit,
        cfg.contested_low,
        cfg.contested_high,
    ]
    near = [x for m in marks for x in (m, math.nextafter(m, -INF), math.nextafter(m, INF))]
    return st.one_of(st.floats(0.0, 100.0), st.sampled_from(near), st.just(NAN))


@st.composite
def trigger_runs(draw: st.DrawFn) -> tuple[EngineConfig, list[tuple[int, float, int, int, int]]]:
    cfg = draw(trigger_configs())
    step = st.tuples(
        st.sampled_from([1] * 8 + [2, 5]),  # snaps since the last scoring (> 1: a gap)
        scores_for(cfg),
        st.integers(0, 16).map(lambda t: t * TICK),  # distance 0-4 points
        st.integers(0, len(C.BARRIER_NAMES) - 1),
        st.one_of(st.integers(0, 1000), st.just(cfg.contested_volume)),
    )
    return cfg, draw(st.lists(step, min_size=1, max_size=60))


@settings(max_examples=150, deadline=None)
@given(run=trigger_runs())
def test_trigger_matches_reference(
    run: tuple[EngineConfig, list[tuple[int, float, int, int, int]]],
) -> None:
    """snap_levels.trigger <-> trigger.step_trigger: signal and latched/armed state every step."""
    cfg, steps = run
    pair = TriggerPair(cfg)
    ts = T0
    for gap, score, dist, bstate, vol in steps:
        ts += gap * SNAP
        ref_sig, fast_sig = pair.step(ts, score, dist, bstate, vol)
        assert fast_sig == ref_sig
        note(f"signal {ref_sig}")
        pair.assert_same_state()


@settings(max_examples=300, deadline=None)
@given(data=st.data(), cfg=trigger_configs(), state=st.sampled_from(["NEUTRAL", "BREAK", "REJECT"]))
def test_candidate_matches_reference(data: st.DataObject, cfg: EngineConfig, state: str) -> None:
    """snap_levels._candidate <-> trigger._candidate (None is -1)."""
    pi, pf = params(cfg)
    score = data.draw(scores_for(cfg))
    dist = data.draw(st.integers(0, 16).map(lambda t: t * TICK))
    ref = trigger_mod._candidate(cfg, state, score, dist)
    fast = F._candidate(pi, pf, C.SIGNAL_NAMES.index(state), float(score), dist)
    assert (None if fast < 0 else C.SIGNAL_NAMES[fast]) == ref


# ---------------------------------------------------------------------------------- runway

ID_POOL = (
    "CALL_WALL",
    "GAMMA_FLIP",
    "OR_HIGH",
    "OR_LOW",
    "PDC",
    "PDH",
    "PDL",
    "PM_HIGH",
    "PM_LOW",
    "PUT_WALL",
    "SESSION_HIGH",
    "SESSION_LOW",
    "SMA_200",
    "SMA_400",
    "VWAP",
    *(f"ROUND_{i}" for i in range(6)),
    *(f"STRIKE_{i}" for i in range(6)),
)


def both_runways(
    cfg: EngineConfig,
    universe: list[tuple[int, str]],
    level_px: int,
    direction: int,
    signal: int,
    books: np.ndarray,
) -> None:
    """Run both runways on one input and assert the same direction, obstacle and quality."""
    universe = sorted(universe)  # the universe order (price, id)
    upx = np.array([p for p, _ in universe] + [7, -7, 0], dtype=np.int64)  # padding past n
    ids = [i for _, i in universe]
    n = len(universe)
    b = books[B_VALID]
    ref = runway(
        cfg,
        level_px,
        "L",
        C.DIRECTION_NAMES[direction],
        C.SIGNAL_NAMES[signal],
        upx[:n],
        ids,
        b[K_BPX],
        b[K_BSZ],
        b[K_APX],
        b[K_ASZ],
    )
    # snap_kernel._score_level: UP for a RESISTANCE (spot <= L), DOWN for SUPPORT, flipped by REJECT
    rdir = C.UP if direction == C.RESISTANCE else C.DOWN
    if signal == C.S_REJECT:
        rdir = C.DOWN if rdir == C.UP else C.UP
    pi, _ = params(cfg)
    obs, qual = F.runway(pi, books, upx, n, level_px, rdir)
    assert C.UPDOWN_NAMES[rdir] == ref.runway_direction
    note(f"obstacle {obs >= 0}, {ref.runway_quality}")
    if obs < 0:
        assert (ref.next_obstacle_px, ref.next_obstacle_id) == (None, None)
    else:
        assert (int(upx[obs]), ids[obs]) == (ref.next_obstacle_px, ref.next_obstacle_id)
    assert C.QUALITY_NAMES[qual] == ref.runway_quality


def test_runway_hand_example() -> None:
    """snap_levels.runway <-> room_to_run.runway on a worked case."""
    lvl = 6000 * PT
    universe = [(lvl, "ROUND_6000"), (lvl + 3 * PT, "PDH"), (lvl + 3 * PT, "OR_HIGH")]
    universe += [(lvl - 2 * PT, "VWAP")]
    books = empty_book_planes()
    # asks 6000.25 x 20, 6001 x 600, 6003.5 x 900 (beyond the obstacle)
    put_sides(
        books,
        B_VALID,
        [(lvl, 10)],
        [(lvl + TICK, 20), (lvl + 4 * TICK, 600), (lvl + 14 * TICK, 900)],
    )
    # RESISTANCE, NEUTRAL -> UP; next level above 6000 is 6003, where OR_HIGH < PDH; the largest
    # ask in [6000, 6003] is 600 >= obstacle_depth 500 -> OBSTRUCTED
    both_runways(DEFAULT, universe, lvl, C.RESISTANCE, C.S_NEUTRAL, books)
    pi, _ = params(DEFAULT)
    upx = np.array(sorted(p for p, _ in universe), dtype=np.int64)
    assert F.runway(pi, books, upx, 4, lvl, C.UP) == (2, C.OBSTRUCTED)  # 2: OR_HIGH's index
    # RESISTANCE under REJECT -> DOWN; obstacle VWAP at 5998; bid 10 < 500 -> CLEAR
    both_runways(DEFAULT, universe, lvl, C.RESISTANCE, C.S_REJECT, books)
    assert F.runway(pi, books, upx, 4, lvl, C.DOWN) == (0, C.CLEAR)


@st.composite
def runway_cases(draw: st.DrawFn) -> tuple:
    cfg = EngineConfig(obstacle_depth=draw(st.sampled_from([500, 50, 1, 300])))
    center = draw(price_ticks)
    entries = draw(
        st.lists(
            st.tuples(st.integers(-30, 30), st.sampled_from(ID_POOL)),
            unique_by=lambda e: e[1],
            max_size=20,
        )
    )
    universe = [((center + d) * TICK, i) for d, i in entries]
    if universe and draw(st.booleans()):
        level_px = draw(st.sampled_from(universe))[0]  # L is a universe entry, as in the kernel
    else:
        level_px = (center + draw(st.integers(-30, 30))) * TICK + draw(
            st.sampled_from([0, 0, TICK // 2, 1])
        )
    books = empty_book_planes()
    bids, asks = draw(book_sides(center + draw(st.integers(-12, 12)), valid=False))
    put_sides(books, B_VALID, bids, asks)
    put_sides(books, 0, asks, bids)  # other planes hold something else: must not be read
    direction = draw(st.sampled_from([C.SUPPORT, C.RESISTANCE]))
    signal = draw(st.integers(0, len(C.SIGNAL_NAMES) - 1))
    return cfg, universe, level_px, direction, signal, books


@settings(max_examples=200, deadline=None)
@given(case=runway_cases())
def test_runway_matches_reference(case: tuple) -> None:
    """snap_levels.runway <-> room_to_run.runway: direction, obstacle (price, id), quality."""
    both_runways(*case)


# -------------------------------------------------------------------------------- approach


def both_approaches(cfg: EngineConfig, linear: np.ndarray, head: int, level_px: int) -> tuple:
    """(reference, fast) approach of one linear ring (oldest first) laid out circularly."""
    n = linear.shape[0]
    ring = np.empty(n, dtype=np.int64)
    ring[(head + np.arange(n)) % n] = linear  # logical i lives at (head + i) % n
    run = int(np.count_nonzero(linear != NO_SPOT))
    first = n - run  # snap_kernel._score_snap: ring.shape[0] - st[ST_RING_RUN]
    pi, _ = params(cfg)
    fast = F.approach(ring, head, first, pi[C.P_PER_MIN], level_px, K.NO_SPOT)
    ref = _approach(cfg, linear, level_px)
    return ref, fast


def test_approach_hand_example() -> None:
    """snap_levels.approach <-> signal_service._approach on a worked one-minute ring."""
    cfg = EngineConfig(approach_window_s=60)  # ring of 241 snaps, 240 per minute
    lvl = 6000 * PT
    linear = np.full(241, 6007 * PT, dtype=np.int64)
    linear[0] = 6010 * PT
    linear[-1] = 6004 * PT
    # distance 10 pt a minute ago, 4 pt now: velocity (10 - 4) / 1 min = 6.0 pt/min; the one
    # 240-snap step shrank the distance -> 1 bar
    (rv, rb), (fv, fb) = both_approaches(cfg, linear, 100, lvl)
    assert (rv, rb) == (fv, fb) == (6.0, 1)
    # only the last 121 snaps valid: first = 120; (7 - 4) pt over 120/240 min = 6.0 pt/min, and
    # snap 0 is NO_SPOT so no minute step counts -> 0 bars
    linear[:120] = NO_SPOT
    (rv, rb), (fv, fb) = both_approaches(cfg, linear, 7, lvl)
    assert (rv, rb) == (fv, fb) == (6.0, 0)


@st.composite
def approach_cases(draw: st.DrawFn) -> tuple:
    window = draw(st.sampled_from([600, 60, 120, 300]))
    cfg = EngineConfig(approach_window_s=window)
    n = cfg.window_buckets(window) + 1
    per_min = cfg.window_buckets(60)
    # valid snaps at the end of the ring: all of them for most of a session, fewer at its start
    run = draw(st.one_of(st.just(n), st.integers(1, n), st.sampled_from([1, 2, per_min + 1])))
    head = draw(st.integers(0, n - 1))
    lvl = draw(price_ticks) * TICK + draw(st.sampled_from([0, 0, 1, TICK // 2]))
    start = draw(st.integers(-60, 60))  # ticks from L at the oldest valid snap
    speed = draw(st.integers(0, 8))  # ticks per minute, toward L or away from it
    drift = -speed if (start > 0) == draw(st.booleans()) else speed
    jitter = draw(st.sampled_from([0, 0, 1, 3]))  # ticks of noise per snap
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    i = np.arange(run)
    ticks = start + (drift * i) // per_min + rng.integers(-jitter, jitter + 1, size=run)
    linear = np.full(n, NO_SPOT, dtype=np.int64)
    linear[n - run :] = lvl + ticks * TICK
    return cfg, linear, head, lvl


@settings(max_examples=150, deadline=None)
@given(case=approach_cases())
def test_approach_matches_reference(case: tuple) -> None:
    """snap_levels.approach (circular ring) <-> signal_service._approach: velocity and bars."""
    (rv, rb), (fv, fb) = both_approaches(*case)
    note(f"bars {min(rb, 3)}{'+' if rb >= 3 else ''}")
    assert same(fv, rv), (fv, rv)
    assert fb == rb


# ------------------------------------------------------------------------ walls and flip


def fast_wall_slice(ks: np.ndarray, g: np.ndarray, a: int, b: int, fwd: bool, thr: float) -> int:
    """snap_levels.wall over ks[a:b], walked ascending (fwd) or descending."""
    if fwd:
        return F.wall(ks, g, a, b, 1, thr)
    return F.wall(ks, g, b - 1, a - 1, -1, thr)


def test_wall_flip_hand_example() -> None:
    """snap_levels.wall / flip / wall_pair <-> fuel._wall / fuel._flip on worked strikes."""
    ks = np.array([5990, 6000, 6005, 6010, 6015], dtype=np.int64) * PT
    call = np.array([0.0, 50.0, 150.0, 150.0, 120.0])
    put = np.array([130.0, 130.0, 0.0, 0.0, 0.0])
    # largest call GEX above 6000 is 150 at 6005 and 6010: the tie goes to the nearest, 6005
    assert fast_wall_slice(ks, call, 2, 5, True, 100.0) == 6005 * PT
    assert _wall(ks[2:], call[2:], 100.0, True) == 6005 * PT
    # walking down from 6000: 130 at 6000 and 5990, nearest first -> 6000
    assert fast_wall_slice(ks, put, 0, 2, False, 100.0) == 6000 * PT
    assert _wall(ks[:2], put[:2], 100.0, False) == 6000 * PT
    # wall_pair around 6005 (a strike itself, so on neither side): calls above -> 6010 (150),
    # puts below -> 6000 (130, nearest of the tie)
    cw, pw = F.wall_pair(ks, call, put, 0, 5, 6005 * PT, 100.0)
    assert (cw, pw) == (6010 * PT, 6000 * PT)
    # threshold 200 beats every GEX: no wall (NONE <-> None)
    assert F.wall(ks, call, 0, 5, 1, 200.0) == C.NONE and _wall(ks, call, 200.0, True) is None
    # flip over GEX [-30, 0, 10] at 5990 / 6000 / 6010: 6000 has no sign; between 5990 and 6010,
    # frac = -30 / (-30 - 10) = 0.75 -> 5990 + floor(20 pt · 0.75) = 6005
    ks3 = np.array([5990, 6000, 6010], dtype=np.int64) * PT
    g3 = np.array([-30.0, 0.0, 10.0])
    assert F.flip(ks3, g3, 0, 3) == _flip(ks3, g3) == 6005 * PT


gex_values = st.one_of(
    st.floats(-500.0, 500.0),
    st.sampled_from([0.0, -0.0, 100.0, 150.0, -150.0, 99.99999999999999]),
    st.integers(-20, 20).map(lambda k: k * 25.0),
)


@st.composite
def strike_sets(draw: st.DrawFn, allow_nan: bool = False) -> tuple:
    """Ascending distinct strikes (5-point grid), GEX per strike and a slice [a, b)."""
    base = draw(st.integers(800, 1400)) * 5
    offs = sorted(draw(st.sets(st.integers(-40, 40), max_size=25)))
    ks = np.array([(base + 5 * o) * PT for o in offs], dtype=np.int64)
    values = st.one_of(gex_values, st.just(NAN)) if allow_nan else gex_values
    g = np.array(draw(st.lists(values, min_size=len(ks), max_size=len(ks))), dtype=np.float64)
    a = draw(st.integers(0, len(ks)))
    b = draw(st.integers(a, len(ks)))
    return ks, g, a, b


@settings(max_examples=300, deadline=None)
@given(
    strikes=strike_sets(allow_nan=True),
    fwd=st.booleans(),
    thr=st.sampled_from([100.0, 0.0, 25.0, 150.0]),
)
def test_wall_matches_reference(strikes: tuple, fwd: bool, thr: float) -> None:
    """snap_levels.wall <-> fuel._wall over one slice, nearest-first in either direction."""
    ks, g, a, b = strikes
    assert opt(fast_wall_slice(ks, g, a, b, fwd, thr)) == _wall(ks[a:b], g[a:b], thr, fwd)


@settings(max_examples=300, deadline=None)
@given(strikes=strike_sets())
def test_flip_matches_reference(strikes: tuple) -> None:
    """snap_levels.flip <-> fuel._flip over one slice of strikes (finite GEX)."""
    ks, g, a, b = strikes
    assert opt(F.flip(ks, g, a, b)) == _flip(ks[a:b], g[a:b])


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    strikes=strike_sets(allow_nan=True),
    thr=st.sampled_from([100.0, 0.0, 25.0]),
)
def test_wall_pair_matches_reference(data: st.DataObject, strikes: tuple, thr: float) -> None:
    """snap_levels.wall_pair <-> compute_fuel's two _wall calls (strictly above / below L)."""
    ks, call, a, b = strikes
    put = np.roll(call, 1)
    base = int(ks[0]) if len(ks) else 6000 * PT
    center = base + data.draw(st.integers(-20, 200)) * TICK  # on a strike or between strikes
    cw, pw = F.wall_pair(ks, call, put, a, b, center, thr)
    sl = ks[a:b]
    above, below = sl > center, sl < center
    assert opt(cw) == _wall(sl[above], call[a:b][above], thr, True)
    assert opt(pw) == _wall(sl[below], put[a:b][below], thr, False)


# ------------------------------------------------------------------------------------ fuel


@st.composite
def gamma_cases(draw: st.DrawFn) -> tuple:
    """A config, a snap_gamma view of random option inventory, spot and a level near spot."""
    cfg = EngineConfig(
        fuel_strike_range_pts=draw(st.sampled_from([15.0, 5.0, 30.0, 0.0])),
        gamma_threshold=draw(st.sampled_from([25.0, 0.0, 1.0])),
        wall_threshold=draw(st.sampled_from([100.0, 0.0, 5.0])),
        fuel_confidence_volume=draw(st.sampled_from([1000, 50])),
        universe_range_pts=draw(st.sampled_from([50.0, 20.0])),
    )
    spot_ticks = draw(price_ticks)
    spot = spot_ticks * TICK
    ts = T0 + draw(st.integers(0, 100_000)) * SNAP
    m = draw(st.integers(0, 30))
    base = spot_ticks // 20  # 5-point strike grid
    strike = np.array(draw(st.lists(st.integers(-8, 8), min_size=m, max_size=m)), np.int64)
    strike = (base + strike) * 20 * TICK
    is_call = np.array(draw(st.lists(st.booleans(), min_size=m, max_size=m)), dtype=np.bool_)
    hours = draw(st.lists(st.sampled_from([-1, 1, 3, 6, 30]), min_size=m, max_size=m))
    expiration = ts + np.array(hours, dtype=np.int64) * 3600 * 10**9
    defs = OptionDefinitions(np.arange(1000, 1000 + m, dtype=np.int64), is_call, strike, expiration)
    pos = st.one_of(st.just(0), st.integers(-80, 80), st.integers(-5000, 5000))  # contracts
    state = FuelState(
        position=np.array(draw(st.lists(pos, min_size=m, max_size=m)), dtype=np.int64),
        last_iv=np.array(
            draw(st.lists(st.floats(0.05, 0.8), min_size=m, max_size=m)), dtype=np.float64
        ),
        volume=np.array(draw(st.lists(st.integers(0, 400), min_size=m, max_size=m)), np.int64),
        bad_iv=np.zeros(m, dtype=np.int64),
        unknown_trades=0,
    )
    scope = np.array(draw(st.lists(st.booleans(), min_size=m, max_size=m)), dtype=np.bool_)
    if draw(st.booleans()):
        scope[:] = True
    view = snap_gamma(cfg, state, defs, scope, spot, ts)
    level = spot + draw(st.integers(-12, 12)) * TICK
    return cfg, view, spot, level


def gamma_window(view: GammaView, lo: int, hi: int) -> tuple[tuple, tuple[int, int, int, int]]:
    """The kernel's gamma view tuple over strikes [lo, hi] (snap_kernel._gamma_view's layout).

    Per-snap arrays outside the window are poisoned (NaN GEX, huge volumes) as the kernel leaves
    them stale: the fast functions must read inside the window only.
    """
    sa = int(np.searchsorted(view.strike, lo, side="left"))
    sb = int(np.searchsorted(view.strike, hi, side="right"))
    ia = int(np.searchsorted(view.inst_strike, lo, side="left"))
    ib = int(np.searchsorted(view.inst_strike, hi, side="right"))

    def poison(a: np.ndarray, i: int, j: int, bad: float) -> np.ndarray:
        out = np.full(a.shape[0], bad, dtype=a.dtype)
        out[i:j] = a[i:j]
        return out

    gv = (
        np.ascontiguousarray(view.inst_strike),
        poison(view.inst_gex, ia, ib, NAN),
        ia,
        ib,
        np.ascontiguousarray(view.strike),
        poison(view.strike_gex, sa, sb, NAN),
        poison(view.strike_call_gex, sa, sb, NAN),
        poison(view.strike_put_gex, sa, sb, NAN),
        poison(view.strike_volume, sa, sb, 10**15),
        sa,
        sb,
    )
    return gv, (sa, sb, ia, ib)


def assert_fuel_equal(cfg: EngineConfig, view: GammaView, gv: tuple, level: int) -> None:
    pi, pf = params(cfg)
    oi, ox = out_arrays()
    effect, net, conf = F.fuel(pi, pf, gv, level, oi, ox, 0)
    ref = compute_fuel(cfg, view, level)
    note(f"fuel {ref.effect}, walls {ref.call_wall_px is not None}/{ref.put_wall_px is not None}")
    note(f"flip {ref.gamma_flip_px is not None}")
    assert C.FUEL_NAMES[effect] == C.FUEL_NAMES[oi[C.I_FEFF, 0]] == ref.effect
    assert same(net, ref.net_dealer_gamma) and same(ox[C.X_NET, 0], ref.net_dealer_gamma)
    assert same(conf, ref.confidence) and same(ox[C.X_FCONF, 0], ref.confidence)
    assert opt(oi[C.I_CWALL, 0]) == ref.call_wall_px
    assert opt(oi[C.I_PWALL, 0]) == ref.put_wall_px
    assert opt(oi[C.I_FLIP, 0]) == ref.gamma_flip_px


def test_fuel_hand_example() -> None:
    """snap_levels.fuel <-> fuel.compute_fuel on a hand-built gamma view."""
    cfg = DEFAULT  # range 15 pt, gamma threshold 25, wall threshold 100, full volume 1000
    lvl = 6000 * PT
    # instruments (strike, call?, GEX, volume); 6020 lies outside L ± 15
    inst = [(5990, True, 10.0, 5), (6000, True, 40.0, 60), (6000, False, -90.0, 40)]
    inst += [(6010, True, 120.0, 7), (6020, True, 500.0, 9)]
    view = GammaView(
        spot_units=lvl,
        ts_ns=T0,
        inst_id=np.arange(5, dtype=np.int64),
        inst_strike=np.array([k * PT for k, _, _, _ in inst], dtype=np.int64),
        inst_is_call=np.array([c for _, c, _, _ in inst]),
        inst_gamma=np.ones(5),
        inst_gex=np.array([g for _, _, g, _ in inst]),
        inst_volume=np.array([v for _, _, _, v in inst], dtype=np.int64),
        strike=np.array([5990, 6000, 6010, 6020], dtype=np.int64) * PT,
        strike_gex=np.array([10.0, -50.0, 120.0, 500.0]),
        strike_call_gex=np.array([10.0, 40.0, 120.0, 500.0]),
        strike_put_gex=np.array([0.0, -90.0, 0.0, 0.0]),
        strike_volume=np.array([5, 100, 7, 9], dtype=np.int64),
    )
    gv, _ = gamma_window(view, 5900 * PT, 6100 * PT)
    assert_fuel_equal(cfg, view, gv, lvl)
    # net = 10 + 40 - 90 + 120 = 80 > 25 -> DAMPEN; call wall above 6000: 6010 (120 >= 100);
    # no positive put GEX below -> no put wall; flip between 5990 (+10) and 6000 (-50):
    # frac = 10 / 60, 5990 + floor(10e9 · 1/6) units = 5990 pt + 1666666666; conf = 112 / 1000
    ref = compute_fuel(cfg, view, lvl)
    assert (ref.effect, ref.net_dealer_gamma) == ("DAMPEN", 80.0)
    assert (ref.call_wall_px, ref.put_wall_px) == (6010 * PT, None)
    assert ref.gamma_flip_px == 5990 * PT + 1_666_666_666
    assert ref.confidence == 0.112


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=gamma_cases(), extra=st.tuples(*[st.sampled_from([0, 1, 20, 4000])] * 2))
def test_fuel_matches_reference(case: tuple, extra: tuple[int, int]) -> None:
    """snap_levels.fuel <-> fuel.compute_fuel: effect, net gamma, walls, flip, confidence."""
    cfg, view, _, level = case
    rng = cfg.fuel_strike_range_units
    gv, _ = gamma_window(view, level - rng - extra[0] * TICK, level + rng + extra[1] * TICK)
    assert_fuel_equal(cfg, view, gv, level)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=gamma_cases())
def test_fuel_walls_match_reference(case: tuple) -> None:
    """snap_levels.wall_pair + flip over spot ± universe range <-> fuel.fuel_walls."""
    cfg, view, spot, _ = case
    rng = cfg.universe_range_units
    _, pf = params(cfg)
    # snap_kernel._universe: the strike slice [spot - range, spot + range] of the snap's view
    gv, (sa, sb, _, _) = gamma_window(view, spot - rng, spot + rng)
    ks, sg, scg, spg = gv[4], gv[5], gv[6], gv[7]
    cw, pw = F.wall_pair(ks, scg, spg, sa, sb, spot, pf[C.Q_WALL_T])
    fl = F.flip(ks, sg, sa, sb)
    ref = fuel_walls(cfg, view)
    assert (opt(cw), opt(pw), opt(fl)) == (ref.call_wall_px, ref.put_wall_px, ref.gamma_flip_px)


# ------------------------------------------------------------------------- barrier and tape

Depth = tuple[int, Side, Side, int]  # (ts, bids, asks, flags)
Trade = tuple[int, int, int, int]  # (ts, price, size, side)


def depth_batch(rows: list[Depth]) -> DepthBatch:
    n = len(rows)
    books = np.zeros((n, 4, N_LEVELS), dtype=np.int64)
    books[:, K_BPX] = UNDEF_PRICE
    books[:, K_APX] = UNDEF_PRICE
    for r, (_, bids, asks, _) in enumerate(rows):
        for j, (p, s) in enumerate(bids):
            books[r, K_BPX, j], books[r, K_BSZ, j] = p, s
        for j, (p, s) in enumerate(asks):
            books[r, K_APX, j], books[r, K_ASZ, j] = p, s
    ts = np.array([r[0] for r in rows], dtype=np.int64)
    flags = np.array([r[3] for r in rows], dtype=np.uint8)
    return DepthBatch(ts, np.zeros(n, dtype=np.int64), flags, books)


def trade_batch(rows: list[Trade]) -> TradeBatch:
    if not rows:
        return TradeBatch.empty()
    a = np.array(rows, dtype=np.int64)
    return TradeBatch(a[:, 0].copy(), a[:, 1].copy(), a[:, 2].copy(), a[:, 3].astype(np.uint8))


def folded(cfg: EngineConfig, depth: list[Depth], trades: list[Trade], k: int) -> MarketState:
    """One MarketState with the history folded and snap k closed (both engines read it)."""
    ms = MarketState.create(cfg, T0)
    ms.fold(depth_batch(depth), trade_batch(trades))
    ms.advance_to(T0 + k * SNAP)
    return ms


def kernel_views(ms: MarketState) -> tuple:
    """(ms tuple as snap_kernel.run builds it, books, sweep ring) from kernel_arrays()."""
    meta, books, _, _, _, _, sw, _, _, _, sums, odd_px, ent = ms.kernel_arrays()
    return (meta, sums, odd_px, ent[0], ent[1], ent[2]), books, sw


def scratch() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The kernel's query scratch (qlo, qhi, qout, swout)."""
    z = np.zeros(1, dtype=np.int64)
    return z, z.copy(), np.zeros((1, N_FIELDS), dtype=np.int64), np.zeros(N_SW, dtype=np.int64)


def assert_barrier_equal(cfg: EngineConfig, ms: MarketState, level: int, spot: int) -> None:
    pi, pf = params(cfg)
    kms, books, _ = kernel_views(ms)
    qlo, qhi, qout, _ = scratch()
    oi, ox = out_arrays()
    state, delta, ratio, conf = F.barrier(
        pi, pf, kms, books, level, spot, qlo, qhi, qout, oi, ox, 0
    )
    ref = compute_barrier(cfg, ms, level, spot)
    note(f"barrier {ref.state}")
    assert C.DIRECTION_NAMES[oi[C.I_DIR, 0]] == ref.direction
    assert C.BARRIER_NAMES[state] == C.BARRIER_NAMES[oi[C.I_BSTATE, 0]] == ref.state
    assert delta == oi[C.I_DLIQ, 0] == ref.delta_liq
    assert (oi[C.I_ADDED, 0], oi[C.I_CXL, 0], oi[C.I_FILL, 0]) == (
        ref.added,
        ref.canceled,
        ref.filled,
    )
    assert (oi[C.I_DPX, 0], oi[C.I_DSZ, 0]) == (ref.defending_px, ref.defending_sz)
    assert (oi[C.I_CHURN, 0], oi[C.I_DEPTH, 0]) == (ref.churn, ref.depth_in_zone)
    assert same(ratio, ref.replenishment_ratio) and same(ox[C.X_RATIO, 0], ratio)
    assert same(conf, ref.confidence) and same(ox[C.X_BCONF, 0], conf)


def assert_tape_equal(cfg: EngineConfig, ms: MarketState, level: int, brk: int) -> None:
    pi, _ = params(cfg)
    kms, _, sw = kernel_views(ms)
    qlo, qhi, qout, swout = scratch()
    oi, ox = out_arrays()
    now = ms.now_ns
    vol, imb, swdir, conf = F.tape(pi, kms, sw, level, brk, now, qlo, qhi, qout, swout, oi, ox, 0)
    ref = compute_tape(cfg, ms, level, C.UPDOWN_NAMES[brk])
    assert (oi[C.I_BUY, 0], oi[C.I_SELL, 0]) == (ref.buy_vol, ref.sell_vol)
    assert vol == ref.buy_vol + ref.sell_vol
    assert same(imb, ref.imbalance) and same(ox[C.X_IMB, 0], imb)
    assert same(conf, ref.confidence) and same(ox[C.X_TCONF, 0], conf)
    assert swdir == oi[C.I_SWDIR, 0]
    note("sweep" if swdir >= 0 else "no sweep")
    if swdir < 0:
        assert not ref.sweep_detected
    else:
        assert ref.sweep_detected and C.UPDOWN_NAMES[swdir] == ref.sweep_direction
        assert oi[C.I_SWN, 0] == ref.sweep_prints
        assert same(ox[C.X_SWMS, 0], ref.sweep_window_ms)
        # the notional travels as exact (high, low) halves of Σ px·size
        units = int(oi[C.I_SWH, 0]) * PRICE_SCALE + int(oi[C.I_SWL, 0])
        assert same(units * cfg.contract_multiplier / PRICE_SCALE, ref.sweep_notional)


A_, B_, N_ = SIDE_ASK, SIDE_BID, SIDE_NONE


def test_barrier_hand_example() -> None:
    """snap_levels.barrier <-> barrier.compute_barrier on a worked CONSUMED bid."""
    lvl = 6000 * PT
    ask = [(lvl + 8 * TICK, 500)]
    # bid 6000 x 300 in bucket 1, x 100 in bucket 2 (removed 200) with 150 A-aggressor prints at
    # 6000 in bucket 2: filled = min(200, 150) = 150, canceled 50, added 0, delta -200 < -100 and
    # filled > canceled -> CONSUMED; ratio 0 / 201 = 0.0; confidence 200 / 500 = 0.4
    depth = [
        (T0 + SNAP - 10, [(lvl, 300)], ask, F_LAST),
        (T0 + 2 * SNAP - 10, [(lvl, 100)], ask, F_LAST),
    ]
    ms = folded(DEFAULT, depth, [(T0 + 2 * SNAP - 5, lvl, 150, A_)], 2)
    assert_barrier_equal(DEFAULT, ms, lvl, lvl + PT)  # spot 6001 > L: SUPPORT, bid defends
    ref = compute_barrier(DEFAULT, ms, lvl, lvl + PT)
    assert (ref.state, ref.added, ref.canceled, ref.filled) == ("CONSUMED", 0, 50, 150)
    assert (ref.replenishment_ratio, ref.confidence) == (0.0, 0.4)


def test_tape_hand_example() -> None:
    """snap_levels.tape <-> tape.compute_tape on worked band volumes and one sweep."""
    lvl = 6000 * PT
    t = T0 + 400 * SNAP
    # band L ± 0.5 pt; B 30 at L and A 10 at 6000.5 count, 5 at 6000.75 does not:
    # imbalance (30 - 10) / 40 = 0.5, confidence 40 / 500 = 0.08
    trades = [(t - 16 * SNAP, lvl, 30, B_), (t - 12 * SNAP, lvl + 2 * TICK, 10, A_)]
    trades += [(t - 8 * SNAP, lvl + 3 * TICK, 5, B_)]
    # a sweep: B prints 60 at 6000 and 60 at 6000.25, 30 ms apart (size 120 >= 100, two prices)
    trades += [(t - 4 * SNAP, lvl, 60, B_), (t - 4 * SNAP + 30_000_000, lvl + TICK, 60, B_)]
    depth = [(T0 + 1, [(lvl - TICK, 10)], [(lvl + 4 * TICK, 10)], F_LAST)]
    ms = folded(DEFAULT, depth, trades, 400)
    assert_tape_equal(DEFAULT, ms, lvl, C.UP)
    ref = compute_tape(DEFAULT, ms, lvl, "UP")
    assert (ref.buy_vol, ref.sell_vol) == (150, 10)  # 30 + 60 + 60 bought, 10 sold
    assert ref.imbalance == 0.875  # (150 - 10) / 160
    assert ref.confidence == 0.32  # 160 / 500
    assert (ref.sweep_direction, ref.sweep_prints, ref.sweep_window_ms) == ("UP", 2, 30.0)


@st.composite
def histories(draw: st.DrawFn) -> tuple:
    """A config, one random book + trade history folded into MarketState, a level and spot."""
    w_b, w_t = draw(st.sampled_from([(240, 60), (2, 1), (5, 2)]))
    cfg = EngineConfig(
        barrier_window_s=w_b,
        tape_window_s=w_t,
        barrier_zone_ticks=draw(st.sampled_from([2, 0, 4])),
        flow_threshold=draw(st.sampled_from([100, 10, 0])),
        r_vac=draw(st.sampled_from([0.3, 1.0])),
        r_wall=draw(st.sampled_from([1.5, 0.5])),
        weak_depth=draw(st.sampled_from([50, 300])),
        barrier_confidence_churn=draw(st.sampled_from([500, 40])),
        tape_band_pts=draw(st.sampled_from([0.5, 0.25, 1.0])),
        sweep_min_size=draw(st.sampled_from([100, 20])),
        tape_confidence_volume=draw(st.sampled_from([500, 30])),
    )
    mid = draw(price_ticks)
    span = draw(st.sampled_from([4, 30]))  # buckets the events spread over

    def stamp() -> int:  # a ts inside one of buckets 1..span
        return T0 + draw(st.integers(1, span)) * SNAP - draw(st.integers(0, SNAP - 1))

    stamps = sorted(stamp() for _ in range(draw(st.integers(1, 10))))
    bids, asks = draw(book_sides(mid, valid=True))  # the first record: a valid quoted book
    depth: list[Depth] = [(stamps[0], bids, asks, F_LAST)]
    trades: list[Trade] = []
    for ts in stamps[1:]:
        kind = draw(st.sampled_from(["size", "size", "hit", "hit", "new"]))
        if kind == "new":  # a fresh book (possibly crossed, locked or one-sided)
            bids, asks = draw(book_sides(mid + draw(st.integers(-3, 3)), valid=False))
        elif bids and asks:
            side = draw(st.sampled_from([0, 1]))
            levels = list(bids if side == 0 else asks)
            j = draw(st.integers(0, len(levels) - 1)) if kind == "size" else 0
            p, sz = levels[j]
            new_sz = (
                draw(st.integers(0, 400))
                if kind == "size"
                else max(0, sz - draw(st.integers(0, 300)))
            )
            levels[j] = (p, new_sz)
            if kind == "hit":  # an aggressor trade at the best price in the same bucket
                size = draw(st.integers(1, 300))
                trades.append((ts, p, size, A_ if side == 0 else B_))
            bids, asks = (levels, asks) if side == 0 else (bids, levels)
        flags = draw(st.sampled_from([F_LAST] * 3 + [0]))
        depth.append((ts, bids, asks, flags))
    for _ in range(draw(st.integers(0, 15))):  # scattered prints
        px = (mid + draw(st.integers(-6, 6))) * TICK
        trades.append((stamp(), px, draw(st.integers(1, 80)), draw(st.sampled_from([A_, B_, N_]))))
    for _ in range(draw(st.integers(0, 2))):  # a burst of same-side prints: a sweep candidate
        ts, px = stamp(), (mid + draw(st.integers(-6, 6))) * TICK
        side, step = draw(st.sampled_from([(B_, TICK), (A_, -TICK)]))
        for _ in range(draw(st.integers(2, 6))):
            trades.append((ts, px, draw(st.integers(5, 60)), side))
            ts += draw(st.sampled_from([0, 1_000_000, 40_000_000, 99_000_000, 150_000_000]))
            px += step * draw(st.integers(0, 1))
    trades.sort(key=lambda t: t[0])
    last = max([d[0] for d in depth] + [t[0] for t in trades])
    k = -((T0 - last) // SNAP) + draw(st.sampled_from([0, 1, 3, 8, 20, 250]))
    ms = folded(cfg, depth, trades, k)
    level = (mid + draw(st.integers(-10, 10))) * TICK + draw(
        st.sampled_from([0, 0, 0, TICK // 2, 1])
    )
    spot = level + draw(st.integers(-6, 6)) * TICK + draw(st.sampled_from([0, 0, TICK // 2]))
    return cfg, ms, level, spot


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=histories())
def test_barrier_matches_reference(case: tuple) -> None:
    """snap_levels.barrier <-> barrier.compute_barrier on one folded MarketState."""
    cfg, ms, level, spot = case
    assert_barrier_equal(cfg, ms, level, spot)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=histories(), brk=st.sampled_from([C.UP, C.DOWN]))
def test_tape_matches_reference(case: tuple, brk: int) -> None:
    """snap_levels.tape <-> tape.compute_tape on one folded MarketState (sweep included)."""
    cfg, ms, level, _ = case
    assert_tape_equal(cfg, ms, level, brk)
