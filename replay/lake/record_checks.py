"""Undefined or impossible values in market records (SPEC §8): such a record is excluded at
ingest, as if absent, and counted — never passed on to change Gold silently.

Checked, in this order (a record is counted once, under the first problem found):
- ``ts_recv`` of 0 or ``UINT64_MAX`` (-1 once read as int64): no trade date can be derived, so
  these are counted in the file's report and the ingest log, not in any partition;
- prices: a trade (or an MBP-10 ``T``/``F`` record) at ``price`` <= 0 or ``INT64_MAX``
  (undefined); any negative book price (``INT64_MAX`` marks an empty level and is valid);
- an aggressor ``side`` other than A, B or N.
Sizes are not checked: every uint32 is a valid size (``UINT32_MAX`` included), summed in int64.
"""

from __future__ import annotations

import numpy as np

UNDEF_PRICE = np.iinfo(np.int64).max
SIDES = np.array([ord("A"), ord("B"), ord("N")], dtype=np.uint8)
BAD_TIMESTAMP = "excluded_bad_timestamp"
BAD_PRICE = "excluded_bad_price"
BAD_SIDE = "excluded_bad_side"
COUNTERS = (BAD_TIMESTAMP, BAD_PRICE, BAD_SIDE)
_TRADE_ACTIONS = np.array([ord("T"), ord("F")], dtype=np.uint8)
_BOOK_PRICES = tuple(f"{s}_px_{i:02d}" for s in ("bid", "ask") for i in range(10))


def _bad_trade_price(px: np.ndarray) -> np.ndarray:
    return (px <= 0) | (px == UNDEF_PRICE)


def problems(schema: str, cols: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """(counter, mask) per problem, disjoint: a record is in the first mask that holds it."""
    ts = cols["ts_recv"]
    bad_ts = ts <= 0
    px = cols["price"]
    if schema == "mbp-10":
        bad_px = (px < 0) | (np.isin(cols["action"], _TRADE_ACTIONS) & _bad_trade_price(px))
        for name in _BOOK_PRICES:
            bad_px |= cols[name] < 0
    else:
        bad_px = _bad_trade_price(px)
    bad_side = ~np.isin(cols["side"], SIDES)
    bad_px &= ~bad_ts
    bad_side &= ~(bad_ts | bad_px)
    return [(BAD_TIMESTAMP, bad_ts), (BAD_PRICE, bad_px), (BAD_SIDE, bad_side)]
