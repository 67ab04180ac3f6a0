"""EngineConfig: SPEC defaults, exact unit conversion, TOML round trip, strict validation."""

from __future__ import annotations

import pytest

from engines.config import ConfigError, EngineConfig, points_to_units


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
        ("[engine]\nsnap_interval_ms = 700\n", "whole multiple of snap_interval_ms"),
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
