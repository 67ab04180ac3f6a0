"""EWMA smoothing: first sample, α from dt and τ, dt cap, missing inputs, per-metric τ."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from engines.contract.config import EngineConfig
from engines.physics.smoothing import Ewma, LevelSmoothers, ewma_update, update_smoothers

CFG = EngineConfig()
S = 1_000_000_000
T0 = 1_773_000_000 * S


def test_first_sample_sets_value() -> None:
    assert ewma_update(None, 10.0, T0, 2.0, 600.0) == Ewma(10.0, T0)


def test_alpha_from_dt_by_hand() -> None:
    e = ewma_update(None, 10.0, T0, 2.0, 600.0)
    e = ewma_update(e, 20.0, T0 + 250_000_000, 2.0, 600.0)
    # α = 1 − exp(−0.25/2) = 1 − 0.8824969 = 0.1175031; value = 10 + 0.1175031·(20 − 10) = 11.175031
    assert e is not None
    assert math.isclose(e.value, 11.175031, rel_tol=1e-7)
    assert e.last_ts_ns == T0 + 250_000_000


def test_dt_cap() -> None:
    e = Ewma(0.0, T0)
    # τ = 600, dt = 1200 s capped at 600 s: α = 1 − e^−1 = 0.6321206 (not 1 − e^−2 = 0.8646647)
    capped = ewma_update(e, 1.0, T0 + 1200 * S, 600.0, 600.0)
    assert capped is not None
    assert math.isclose(capped.value, 0.6321206, rel_tol=1e-7)
    uncapped = ewma_update(e, 1.0, T0 + 1200 * S, 600.0, 1e9)
    assert uncapped is not None
    assert math.isclose(uncapped.value, 0.8646647, rel_tol=1e-7)


def test_missing_inputs_keep_previous() -> None:
    e = Ewma(5.0, T0)
    assert ewma_update(e, None, T0 + S, 2.0, 600.0) is e
    assert ewma_update(e, float("nan"), T0 + S, 2.0, 600.0) is e
    assert ewma_update(e, float("inf"), T0 + S, 2.0, 600.0) is e
    assert ewma_update(None, float("nan"), T0, 2.0, 600.0) is None
    # Next real sample spans the gap: dt = 2 s, τ = 2 => α = 1 − e^−1 = 0.6321206
    nxt = ewma_update(e, 15.0, T0 + 2 * S, 2.0, 600.0)
    assert nxt is not None
    assert math.isclose(nxt.value, 5.0 + 0.6321206 * 10.0, rel_tol=1e-7)  # 11.321206


def test_non_increasing_ts_is_ignored() -> None:
    e = Ewma(5.0, T0)
    assert ewma_update(e, 100.0, T0, 2.0, 600.0) is e
    assert ewma_update(e, 100.0, T0 - S, 2.0, 600.0) is e


def test_level_smoothers_use_their_own_tau() -> None:
    s = update_smoothers(CFG, None, T0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert s.score == Ewma(0.0, T0)
    s = update_smoothers(CFG, s, T0 + S, 1.0, 1.0, 1.0, None, 1.0)
    assert isinstance(s, LevelSmoothers)
    # dt = 1 s: α = 1 − exp(−1/τ)
    assert s.score is not None and math.isclose(s.score.value, 1 - math.exp(-1 / 2.0))  # 0.393469
    assert s.velocity is not None
    assert math.isclose(s.velocity.value, 1 - math.exp(-1 / 1.5))  # 0.486583
    assert s.delta_liq is not None
    assert math.isclose(s.delta_liq.value, 1 - math.exp(-1 / 3.0))  # 0.283469
    assert s.replenishment == Ewma(0.0, T0)  # None input: unchanged
    assert s.dealer_gamma is not None
    assert math.isclose(s.dealer_gamma.value, 1 - math.exp(-1 / 5.0))  # 0.181269


@settings(max_examples=80, deadline=None)
@given(
    samples=st.lists(
        st.tuples(st.integers(1, 10_000), st.floats(-1e6, 1e6)), min_size=1, max_size=40
    )
)
def test_ewma_stays_within_sample_range(samples: list[tuple[int, float]]) -> None:
    e: Ewma | None = None
    ts = T0
    xs = []
    for gap_ms, x in samples:
        ts += gap_ms * 1_000_000
        xs.append(x)
        e = ewma_update(e, x, ts, 2.0, 600.0)
        assert e is not None
        assert min(xs) - 1e-6 <= e.value <= max(xs) + 1e-6
