"""EngineConfig: SPEC defaults, exact unit conversion, TOML round trip, strict validation."""

from __future__ import annotations

import pytest

from engines.contract.config import ConfigError, EngineConfig, points_to_units


def test_defaults_are_the_spec_constants_in_exact_units() -> None:
    c = EngineConfig()
    assert c.snap_ns == 250_000_000  # 250 ms
    assert c.ring_buckets == 960  # W_b = 240 s / 0.25 s
    assert c.window_buckets(60) == 240 and c.window_buckets(3) == 12
    assert c.tick_units == 250_000_000  # 0.25 points × 1e9
    assert c.zone_units == 500_000_000  # 2 ticks
    assert c.tape_band_units == 500_000_000  # 0.50 points
    assert c.monitor_band_units == 2_500_000_000 and c.touch_band_units == 1_000_000_000
    assert c.fuel_strike_range_units == 15_000_000_000
    assert c.hold_ns == 3_000_000_000
    assert (c.w_liquidity, c.w_hedge, c.w_tape) == (0.45, 0.35, 0.20)
    # 0.1 is not representable in binary; Decimal(repr) keeps 0.1 points = 100_000_000 units
    assert points_to_units(0.1) == 100_000_000
    assert points_to_units(6879.625) == 6_879_625_000_000


def test_toml_round_trip_and_overrides() -> None:
    c = EngineConfig()
    assert EngineConfig.from_toml_text(c.to_toml()) == c
    o = EngineConfig.from_toml_text("[engine]\nbreak_enter = 85\nuser_levels = [6900, 6872.5]\n")
    assert o.break_enter == 85.0 and o.user_levels == (6900.0, 6872.5)
    assert o.sha256() != c.sha256()
    assert EngineConfig.from_toml_text("").sha256() == c.sha256()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[engine]\nbreak_entr = 70\n", "unknown key(s) break_entr"),
        ("[engines]\nx = 1\n", "unknown table or key(s) engines"),
        ("[engine]\nbreak_enter = 170\n", "'break_enter' = 170.0 is out of range: expected 0..100"),
        ("[engine]\nsnap_interval_ms = 0\n", "snap_interval_ms"),
        ("[engine]\ntape_window_s = 61.1\n", "expected an integer"),
        # 240 s = 240000 ms and 240000 % 700 = 600: W_b is not whole snaps
        ("[engine]\nsnap_interval_ms = 700\n", "whole number of snaps of snap_interval_ms = 700"),
        ('[engine]\nfuel_expiry = "weekly"\n', "expected '0dte' or 'all'"),
        ("[engine]\nw_tape = true\n", "expected a number"),
        ("[engine]\nbreak_exit = 90\n", "expected <= break_enter"),
        ("[engine\n", "not valid TOML"),
    ],
)
def test_bad_config_is_refused_with_the_key_named(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as exc:
        EngineConfig.from_toml_text(text, source="my.toml")
    assert needle in str(exc.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        # non-finite numbers: NaN passes no comparison, inf passes every "> 0"
        ("[engine]\nrate = nan\n", "my.toml: key 'rate' = nan is out of range: expected a finite"),
        ("[engine]\nhold_s = inf\n", "my.toml: key 'hold_s' = inf is out of range: expected a fin"),
        ("[engine]\nuser_levels = [6800.0, nan]\n", "key 'user_levels'"),
        # one price unit is 1e-9 points: a smaller tick rounds to 0 units (division by zero)
        ("[engine]\ntick_size_pts = 1e-12\n", "key 'tick_size_pts' = 1e-12 is out of range"),
        # a snap longer than a minute, or windows of more than a day: memory and overflow
        ("[engine]\nsnap_interval_ms = 1000000000000\n", "key 'snap_interval_ms'"),
        ("[engine]\nbarrier_window_s = 100000000\n", "key 'barrier_window_s'"),
        ("[engine]\nuniverse_range_pts = 1e9\n", "key 'universe_range_pts'"),
        ("[engine]\nround_spacing_pts = 0.1\n", "key 'round_spacing_pts' = 0.1 is out of range"),
        ("[engine]\nrate = 3.0\n", "key 'rate' = 3.0 is out of range"),
        ("[engine]\nobstacle_depth = 10000000000000\n", "key 'obstacle_depth'"),
    ],
)
def test_every_key_is_range_checked(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as exc:
        EngineConfig.from_toml_text(text, source="my.toml")
    assert needle in str(exc.value)


def test_a_consistency_error_blames_the_key_the_user_set() -> None:
    # snap 7 ms: 240 s = 240 000 ms is not a whole number of 7 ms snaps (240000 % 7 = 5); the
    # user set snap_interval_ms, not barrier_window_s, so the message leads with the former.
    with pytest.raises(ConfigError) as exc:
        EngineConfig.from_toml_text("[engine]\nsnap_interval_ms = 7\n", source="my.toml")
    msg = str(exc.value)
    assert msg.startswith("my.toml: key 'snap_interval_ms' = 7 is out of range"), msg
    assert "barrier_window_s = 240" in msg
    # ... and the window when the user set it: 61 000 ms % 400 = 200 (tape is checked before
    # velocity, whose 3 000 % 400 = 200 fails too)
    with pytest.raises(ConfigError) as exc:
        EngineConfig.from_toml_text("[engine]\ntape_window_s = 61\nsnap_interval_ms = 400\n")
    assert "key 'tape_window_s' = 61" in str(exc.value)
