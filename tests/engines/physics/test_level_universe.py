"""Level universe: ROUND grid and STRIKE range, id formatting, moving levels, sort order, the
active mask's closed interval."""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.contract.config import PRICE_SCALE, EngineConfig
from engines.contract.events import TradeBatch
from engines.physics.fuel import FuelWalls
from engines.physics.level_universe import (
    Universe,
    active_mask,
    build_universe,
    format_points,
    level_id,
    round_levels,
)
from engines.state.session_context import PriorSession, SessionContext, fold_trades

U = PRICE_SCALE
NS = 1_000_000_000
CFG = EngineConfig()
DAY = dt.date(2025, 3, 10)
T = calendar.timegm((2025, 3, 10, 15, 0, 0)) * NS
NO_STRIKES = np.zeros(0, dtype=np.int64)
NO_WALLS = (None, None, None)


def pts(x: str) -> int:
    whole, _, frac = x.partition(".")
    return int(whole) * U + int((frac + "000000000")[:9])


def empty_ctx(prior: PriorSession | None = None) -> SessionContext:
    return SessionContext.create(CFG, DAY, prior)


def ctx_with_trades(rows: list[tuple[int, str, int]]) -> SessionContext:
    ts = np.array([r[0] for r in rows], dtype=np.int64)
    px = np.array([pts(r[1]) for r in rows], dtype=np.int64)
    sz = np.array([r[2] for r in rows], dtype=np.int64)
    b = TradeBatch(ts, px, sz, np.full(len(rows), ord("B"), dtype=np.uint8))
    return fold_trades(empty_ctx(), b)


# ----- formatting -----


def test_format_points_exact_no_trailing_zeros() -> None:
    assert format_points(6_870 * U) == "6870"
    assert format_points(6_872_500_000_000) == "6872.5"
    assert format_points(6_872_250_000_000) == "6872.25"
    assert format_points(6_879_625_000_000) == "6879.625"
    assert format_points(1) == "0.000000001"
    assert format_points(0) == "0"
    assert format_points(-2_500_000_000) == "-2.5"
    assert level_id("STRIKE", 6_872_500_000_000) == "STRIKE_6872.5"


@given(st.integers(min_value=-(10**15), max_value=10**15))
@settings(max_examples=300, deadline=None)
def test_format_points_round_trips(units: int) -> None:
    from decimal import Decimal

    s = format_points(units)
    assert Decimal(s) * U == units
    assert not (("." in s) and s.endswith("0"))


# ----- ROUND and STRIKE -----


def test_rounds_around_spot() -> None:
    spot = pts("6873.25")
    # range [6823.25, 6923.25] -> multiples of 10 from 6830 to 6920: (6920 − 6830)/10 + 1 = 10
    r = round_levels(CFG, spot)
    assert r.tolist() == [pts(str(x)) for x in range(6830, 6921, 10)]
    u = build_universe(CFG, empty_ctx(), T, spot, NO_STRIKES, NO_WALLS)
    assert u.id == tuple(f"ROUND_{x}" for x in range(6830, 6921, 10))
    assert set(u.kind) == {"ROUND"}
    assert len(u) == 10


def test_round_range_is_closed() -> None:
    # spot 6870, range 50 -> both 6820 and 6920 are exactly 50 away and included: 11 levels
    r = round_levels(CFG, pts("6870"))
    assert (int(r[0]), int(r[-1]), r.shape[0]) == (pts("6820"), pts("6920"), 11)
    # spacing 2.5, range 5 around 6871 -> [6866, 6876] -> 6867.5, 6870, 6872.5, 6875
    cfg = EngineConfig(round_spacing_pts=2.5, universe_range_pts=5.0)
    assert round_levels(cfg, pts("6871")).tolist() == [
        pts("6867.5"),
        pts("6870"),
        pts("6872.5"),
        pts("6875"),
    ]


def test_strikes_within_range_dedup_and_off_grid_ids() -> None:
    spot = pts("6873.25")
    strikes = np.array(
        [pts(x) for x in ("6875", "6820", "6825", "6872.5", "6875", "6925", "6923.25")],
        dtype=np.int64,
    )
    # |6873.25 − K|: 6820 -> 53.25 out, 6825 -> 48.25 in, 6925 -> 51.75 out, 6923.25 -> 50 in
    u = build_universe(CFG, empty_ctx(), T, spot, strikes, NO_WALLS)
    got = [i for i, k in zip(u.id, u.kind, strict=True) if k == "STRIKE"]
    assert got == ["STRIKE_6825", "STRIKE_6872.5", "STRIKE_6875", "STRIKE_6923.25"]


# ----- moving levels, user levels, walls -----


def test_moving_levels_kept_out_of_range_and_user_levels() -> None:
    prior = PriorSession(high=pts("7100"), low=pts("6700.25"), close=pts("6880"))
    cfg = EngineConfig(user_levels=(6900.0, 6872.5, 6900.0, 7500.0))
    ctx = SessionContext.create(cfg, DAY, prior)
    ctx = fold_trades(
        ctx,
        TradeBatch(
            np.array([T - 2, T - 1], dtype=np.int64),
            np.array([pts("6871"), pts("6872")], dtype=np.int64),
            np.array([1, 3], dtype=np.int64),
            np.array([ord("B"), ord("A")], dtype=np.uint8),
        ),
    )
    u = build_universe(cfg, ctx, T, pts("6871.75"), NO_STRIKES, (pts("6895"), None, pts("6861.3")))
    by_id = dict(zip(u.id, u.price.tolist(), strict=True))
    kinds = dict(zip(u.id, u.kind, strict=True))
    # VWAP = (6871 + 3·6872) / 4 = 27487 / 4 = 6871.75
    assert by_id["VWAP"] == pts("6871.75")
    assert by_id["SESSION_HIGH"] == pts("6872") and by_id["SESSION_LOW"] == pts("6871")
    # PDH 7100 and USER_7500 are far outside spot ± 50 but kept (runway obstacles)
    assert by_id["PDH"] == pts("7100") and by_id["PDL"] == pts("6700.25")
    assert by_id["PDC"] == pts("6880")
    assert by_id["USER_7500"] == pts("7500")
    assert [i for i in u.id if i.startswith("USER_")] == ["USER_6872.5", "USER_6900", "USER_7500"]
    assert kinds["USER_6900"] == "USER" and kinds["VWAP"] == "VWAP"
    assert by_id["CALL_WALL"] == pts("6895") and "PUT_WALL" not in by_id
    assert by_id["GAMMA_FLIP"] == pts("6861.3")
    # the trades were at 10:00 CDT, after both PM and OR windows: no PM/OR levels
    assert "PM_HIGH" not in by_id and "OR_HIGH" not in by_id
    assert len(set(u.id)) == len(u)


def test_fuel_walls_dataclass_accepted() -> None:
    walls = FuelWalls(call_wall_px=pts("6880"), put_wall_px=pts("6860"), gamma_flip_px=None)
    u = build_universe(CFG, empty_ctx(), T, pts("6870"), NO_STRIKES, walls)
    by_id = dict(zip(u.id, u.price.tolist(), strict=True))
    assert by_id["CALL_WALL"] == pts("6880") and by_id["PUT_WALL"] == pts("6860")
    assert "GAMMA_FLIP" not in by_id


def test_sort_by_price_then_id_and_same_price_levels_distinct() -> None:
    cfg = EngineConfig(user_levels=(6870.0,))
    ctx = SessionContext.create(cfg, DAY, None)
    ctx = fold_trades(
        ctx,
        TradeBatch(
            np.array([T], dtype=np.int64),
            np.array([pts("6870")], dtype=np.int64),
            np.array([2], dtype=np.int64),
            np.array([ord("B")], dtype=np.uint8),
        ),
    )
    u = build_universe(cfg, ctx, T, pts("6870"), np.array([pts("6870")]), NO_WALLS)
    at = [i for i, p in zip(u.id, u.price.tolist(), strict=True) if p == pts("6870")]
    # one trade at 6870 makes VWAP, SESSION_HIGH, SESSION_LOW 6870 too; ids in code-point order
    assert at == [
        "ROUND_6870",
        "SESSION_HIGH",
        "SESSION_LOW",
        "STRIKE_6870",
        "USER_6870",
        "VWAP",
    ]
    keys = list(zip(u.price.tolist(), u.id, strict=True))
    assert keys == sorted(keys)
    assert u.price.dtype == np.int64


# ----- active mask -----


def test_active_mask_closed_interval_at_band() -> None:
    spot = pts("6870")
    u = Universe(
        price=np.array(
            [pts("6867.25"), pts("6867.5"), pts("6870"), pts("6872.5"), pts("6872.75")],
            dtype=np.int64,
        ),
        id=("A", "B", "C", "D", "E"),
        kind=("USER",) * 5,
    )
    # distances 2.75, 2.5, 0, 2.5, 2.75 -> band 2.5 closed: exactly 2.5 is active
    assert active_mask(CFG, u, spot).tolist() == [False, True, True, True, False]
    assert u.select(active_mask(CFG, u, spot)).id == ("B", "C", "D")
