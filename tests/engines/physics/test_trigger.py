"""Trigger: arming and hold in snap time, disarm on dip or gap, hysteresis, CONTESTED, touch."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engines.contract.config import EngineConfig
from engines.physics.trigger import TriggerState, step_trigger

CFG = EngineConfig()
SNAP = CFG.snap_ns  # 250 ms
T0 = 1_773_000_000_000_000_000
U = 1_000_000_000  # units per point


class Level:
    """Drives one level's trigger the way the caller does (remembers its previous scoring ts)."""

    def __init__(self, cfg: EngineConfig = CFG) -> None:
        self.cfg = cfg
        self.state: TriggerState | None = None
        self.prev_ts: int | None = None

    def step(
        self, ts: int, score: float, dist: int = 0, barrier: str = "NEUTRAL", vol: int = 0
    ) -> str:
        self.state, sig = step_trigger(
            self.cfg, self.state, ts, score, dist, barrier, vol, self.prev_ts, SNAP
        )
        self.prev_ts = ts
        return sig


def test_arms_and_fires_at_first_snap_3s_later() -> None:
    lv = Level()
    assert lv.step(T0 - SNAP, 50.0) == "NEUTRAL"
    sigs = [lv.step(T0 + i * SNAP, 85.0) for i in range(13)]  # t0 .. t0 + 3000 ms
    # armed at t0 (i = 0); 3 s / 250 ms = 12 snaps => fires at i = 12, ts = t0 + 3000 ms
    assert sigs[:12] == ["NEUTRAL"] * 12
    assert sigs[12] == "BREAK"
    assert lv.state is not None and lv.state.entered_ts_ns == T0 + 12 * SNAP
    assert lv.state.armed is None


def test_arming_state_is_recorded() -> None:
    lv = Level()
    lv.step(T0, 85.0)
    assert lv.state == TriggerState("NEUTRAL", "BREAK", T0, None)
    lv.step(T0 + SNAP, 85.0)
    assert lv.state is not None and lv.state.armed_ts_ns == T0  # still the arming snap


def test_dip_disarms() -> None:
    lv = Level()
    for i in range(6):  # t0 .. t0+1250 at 85
        assert lv.step(T0 + i * SNAP, 85.0) == "NEUTRAL"
    assert lv.step(T0 + 6 * SNAP, 79.9) == "NEUTRAL"  # dip below 80: disarmed
    assert lv.state is not None and lv.state.armed is None
    sigs = [lv.step(T0 + (7 + i) * SNAP, 85.0) for i in range(13)]  # re-armed at snap 7
    assert sigs[:12] == ["NEUTRAL"] * 12  # snap 7 + 11 = 18 is only 2750 ms after re-arming
    assert sigs[12] == "BREAK"  # snap 19 = t0 + 4750 ms = re-arm + 3000 ms


def test_skipped_snap_disarms() -> None:
    lv = Level()
    for i in range(5):  # t0 .. t0 + 1000 ms
        lv.step(T0 + i * SNAP, 85.0)
    # snap 5 (t0 + 1250) not scored (level inactive); resume at snap 6
    sigs = [lv.step(T0 + (6 + i) * SNAP, 85.0) for i in range(13)]
    assert lv.state is not None
    # re-armed at snap 6 (t0 + 1500): fires at t0 + 4500 = snap 18 = index 12, not at snap 12
    assert sigs[6] == "NEUTRAL"  # snap 12 = t0 + 3000 would have fired without the gap
    assert sigs[:12] == ["NEUTRAL"] * 12
    assert sigs[12] == "BREAK"


def test_first_call_has_no_previous_scoring() -> None:
    lv = Level()
    lv.step(T0, 85.0)
    # A gap between the very first scoring and the next: disarm, re-arm at the new snap
    lv.step(T0 + 3 * SNAP, 85.0)
    assert lv.state is not None and lv.state.armed_ts_ns == T0 + 3 * SNAP


def _latched_break(lv: Level) -> int:
    for i in range(13):
        sig = lv.step(T0 + i * SNAP, 85.0)
    assert sig == "BREAK"
    return T0 + 12 * SNAP


def test_break_exit_hysteresis() -> None:
    lv = Level()
    t = _latched_break(lv)
    # between exit (60) and enter (80): stays BREAK indefinitely
    for i in range(1, 30):
        assert lv.step(t + i * SNAP, 65.0) == "BREAK"
    t += 29 * SNAP
    # 60 is not < 60: still no exit
    for i in range(1, 20):
        assert lv.step(t + i * SNAP, 60.0) == "BREAK"
    t += 19 * SNAP
    # < 60 armed at t + 250 ms; exits at the first snap >= arming + 3 s (12 snaps later)
    sigs = [lv.step(t + (1 + i) * SNAP, 59.0) for i in range(13)]
    assert sigs[:12] == ["BREAK"] * 12
    assert sigs[12] == "NEUTRAL"


def test_new_state_first_evaluated_at_next_snap() -> None:
    lv = Level(EngineConfig(hold_s=0.0))
    # hold 0: a transition fires at its arming snap, but only one per snap
    assert lv.step(T0, 85.0, dist=0) == "BREAK"
    assert lv.step(T0 + SNAP, 10.0, dist=0) == "NEUTRAL"  # exit BREAK; REJECT not yet checked
    assert lv.step(T0 + 2 * SNAP, 10.0, dist=0) == "REJECT"  # now REJECT's entry applies


def test_reject_requires_touch_band() -> None:
    lv = Level()
    far = 1 * U + 250_000_000  # 1.25 points > touch band 1.0
    for i in range(20):
        assert lv.step(T0 + i * SNAP, 10.0, dist=far) == "NEUTRAL"
    lv = Level()
    sigs = [lv.step(T0 + i * SNAP, 20.0, dist=1 * U) for i in range(13)]  # closed: 1.0 <= 1.0
    assert sigs[:12] == ["NEUTRAL"] * 12
    assert sigs[12] == "REJECT"  # 20 <= reject_enter 20 for 3 s at the band edge
    # leaving the band for 3 s exits, even with a low score
    t = T0 + 12 * SNAP
    sigs = [lv.step(t + (1 + i) * SNAP, 5.0, dist=far) for i in range(13)]
    assert sigs[:12] == ["REJECT"] * 12
    assert sigs[12] == "NEUTRAL"


def test_reject_exit_on_score() -> None:
    lv = Level()
    for i in range(13):
        sig = lv.step(T0 + i * SNAP, 15.0)
    assert sig == "REJECT"
    t = T0 + 12 * SNAP
    for i in range(1, 20):  # 40 is not > 40: stays
        assert lv.step(t + i * SNAP, 40.0) == "REJECT"
    t += 19 * SNAP
    sigs = [lv.step(t + (1 + i) * SNAP, 41.0) for i in range(13)]
    assert sigs[-2:] == ["REJECT", "NEUTRAL"]


def test_contested() -> None:
    lv = Level()
    assert lv.step(T0, 50.0, barrier="CONSUMED", vol=500) == "CONTESTED"
    assert lv.step(T0 + SNAP, 50.0, barrier="CONSUMED", vol=499) == "NEUTRAL"  # volume < 500
    assert lv.step(T0 + 2 * SNAP, 50.0, barrier="VACUUM", vol=900) == "NEUTRAL"
    assert lv.step(T0 + 3 * SNAP, 30.0, barrier="CONSUMED", vol=500) == "CONTESTED"  # closed
    assert lv.step(T0 + 4 * SNAP, 70.0, barrier="CONSUMED", vol=500) == "CONTESTED"  # closed
    assert lv.step(T0 + 5 * SNAP, 70.1, barrier="CONSUMED", vol=500) == "NEUTRAL"
    # latched BREAK wins over CONTESTED
    lv2 = Level()
    t = _latched_break(lv2)
    assert lv2.step(t + SNAP, 65.0, barrier="CONSUMED", vol=10_000) == "BREAK"


def test_levels_do_not_share_state() -> None:
    a, b = Level(), Level()
    for i in range(13):
        sa = a.step(T0 + i * SNAP, 90.0)
        sb = b.step(T0 + i * SNAP, 50.0)
    assert (sa, sb) == ("BREAK", "NEUTRAL")


@settings(max_examples=150, deadline=None)
@given(scores=st.lists(st.sampled_from([10.0, 50.0, 59.0, 65.0, 85.0]), min_size=1, max_size=80))
def test_break_fires_only_after_13_consecutive_snaps(scores: list[float]) -> None:
    lv = Level()
    prev = "NEUTRAL"
    for i, s in enumerate(scores):
        sig = lv.step(T0 + i * SNAP, s, dist=5 * U)  # far from the level: REJECT impossible
        if sig == "BREAK" and prev != "BREAK":
            assert i >= 12
            assert all(x >= 80.0 for x in scores[i - 12 : i + 1])  # snaps t0 .. t0 + 3 s
            # ... and fires exactly at arming + 3 s: the run started at i - 12, not before
            assert i == 12 or scores[i - 13] < 80.0
        if prev == "BREAK" and sig != "BREAK":
            assert all(x < 60.0 for x in scores[i - 12 : i + 1])
        assert sig in ("BREAK", "NEUTRAL")
        prev = sig
