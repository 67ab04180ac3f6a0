"""Runway: direction (reversed under REJECT), next obstacle, tie-break, obstruction in [L, obs]."""

from __future__ import annotations

import numpy as np

from engines.contract.config import EngineConfig
from engines.contract.events import UNDEF_PRICE
from engines.physics.room_to_run import runway

CFG = EngineConfig()
U = 1_000_000_000
TICK = 250_000_000

# Universe sorted by (price, id): two levels share 6880 (ties go to the smallest id)
LEVELS = [
    (6860 * U, "ROUND_6860"),
    (6870 * U, "ROUND_6870"),
    (6872 * U + 500_000_000, "USER_6872.5"),
    (6880 * U, "ROUND_6880"),
    (6880 * U, "CALL_WALL"),
    (6890 * U, "ROUND_6890"),
]
LEVELS.sort()
PX = np.array([p for p, _ in LEVELS], dtype=np.int64)
IDS = [i for _, i in LEVELS]


def _book(
    bids: list[tuple[float, int]], asks: list[tuple[float, int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    def side(rows: list[tuple[float, int]]) -> tuple[np.ndarray, np.ndarray]:
        px = np.full(10, UNDEF_PRICE, dtype=np.int64)
        sz = np.zeros(10, dtype=np.int64)
        for j, (p, s) in enumerate(rows):
            px[j] = round(p * U)
            sz[j] = s
        return px, sz

    bp, bs = side(bids)
    ap, az = side(asks)
    return bp, bs, ap, az


def _run(level_pts: float, lid: str, direction: str, signal: str, book, levels=(PX, IDS)):  # type: ignore[no-untyped-def]
    bp, bs, ap, az = book
    return runway(
        CFG, round(level_pts * U), lid, direction, signal, levels[0], levels[1], bp, bs, ap, az
    )


BOOK = _book(
    bids=[(6872.25 - 0.25 * j, 100) for j in range(10)],  # 6872.25 .. 6870.00
    asks=[(6872.5 + 0.25 * j, 100) for j in range(10)],  # 6872.50 .. 6874.75
)


def test_resistance_up_to_next_level_by_hand() -> None:
    r = _run(6872.5, "USER_6872.5", "RESISTANCE", "NEUTRAL", BOOK)
    # UP from 6872.5: next level strictly above is 6880 (two ids; smallest "CALL_WALL")
    assert r.runway_direction == "UP"
    assert (r.next_obstacle_id, r.next_obstacle_px) == ("CALL_WALL", 6880 * U)
    assert r.runway_pts == 7.5  # 6880 − 6872.5
    assert r.runway_quality == "CLEAR"  # max ask size 100 < 500


def test_support_down_and_reject_reverses() -> None:
    r = _run(6880.0, "ROUND_6880", "SUPPORT", "NEUTRAL", BOOK)
    # DOWN from 6880: the other 6880 level is not strictly beyond; next is 6872.5
    assert (r.runway_direction, r.next_obstacle_id) == ("DOWN", "USER_6872.5")
    assert r.runway_pts == 7.5
    rr = _run(6880.0, "ROUND_6880", "SUPPORT", "REJECT", BOOK)
    # REJECT at support: price bounces UP; next above 6880 is 6890
    assert (rr.runway_direction, rr.next_obstacle_id, rr.runway_pts) == ("UP", "ROUND_6890", 10.0)
    rres = _run(6872.5, "USER_6872.5", "RESISTANCE", "REJECT", BOOK)
    assert (rres.runway_direction, rres.next_obstacle_id) == ("DOWN", "ROUND_6870")
    assert rres.runway_pts == 2.5  # 6872.5 − 6870


def test_obstructed_on_opposing_side_closed_interval() -> None:
    # UP from 6870 to 6872.5: a 500-lot ask exactly at the obstacle price counts (closed interval)
    book = _book(
        bids=[(6869.75, 900)],  # bids never obstruct an UP runway
        asks=[(6870.25, 499), (6872.5, 500), (6873.0, 2000)],
    )
    r = _run(6870.0, "ROUND_6870", "RESISTANCE", "NEUTRAL", book)
    assert r.next_obstacle_px == 6872 * U + 500_000_000
    assert r.runway_quality == "OBSTRUCTED"  # 500 >= obstacle_depth 500 at one price
    book2 = _book(bids=[(6869.75, 900)], asks=[(6870.25, 499), (6872.75, 2000)])
    assert _run(6870.0, "ROUND_6870", "RESISTANCE", "NEUTRAL", book2).runway_quality == "CLEAR"
    # DOWN from 6872.5 to 6870: bids in [6870, 6872.5]; 6869.75 is beyond the obstacle
    book3 = _book(bids=[(6872.25, 499), (6869.75, 5000)], asks=[(6872.5, 5000)])
    assert _run(6872.5, "USER_6872.5", "SUPPORT", "NEUTRAL", book3).runway_quality == "CLEAR"
    book4 = _book(bids=[(6872.25, 499), (6870.0, 600)], asks=[(6872.5, 5000)])
    assert _run(6872.5, "USER_6872.5", "SUPPORT", "NEUTRAL", book4).runway_quality == "OBSTRUCTED"


def test_no_obstacle_reads_visible_book_beyond_level() -> None:
    r = _run(6890.0, "ROUND_6890", "RESISTANCE", "NEUTRAL", BOOK)
    assert (r.next_obstacle_id, r.next_obstacle_px, r.runway_pts) == (None, None, None)
    assert r.runway_quality == "CLEAR"
    big = _book(bids=[(6889.75, 10)], asks=[(6895.0, 800)])
    assert _run(6890.0, "ROUND_6890", "RESISTANCE", "NEUTRAL", big).runway_quality == "OBSTRUCTED"
    lone = (np.array([6890 * U], dtype=np.int64), ["ROUND_6890"])
    r2 = _run(6890.0, "ROUND_6890", "SUPPORT", "NEUTRAL", big, lone)
    assert (r2.runway_direction, r2.next_obstacle_id, r2.runway_quality) == ("DOWN", None, "CLEAR")


def test_empty_levels_are_ignored() -> None:
    # UNDEF price with a stale size must not count
    bp, bs, ap, az = _book(bids=[], asks=[(6871.0, 10)])
    az[5] = 10_000  # ask_px[5] is UNDEF_PRICE
    r = runway(CFG, 6870 * U, "ROUND_6870", "RESISTANCE", "NEUTRAL", PX, IDS, bp, bs, ap, az)
    assert r.runway_quality == "CLEAR"
