"""The ``level_outcomes`` table (SPEC §10.1): one explicit Arrow schema and the outcome enum,
defined once for the kernel (codes), the writer (strings) and every reader."""

from __future__ import annotations

import pyarrow as pa

OUTCOMES = ("BREAK", "REJECT", "TIMEOUT", "CENSORED", "FAR")
"""Closed set; the kernel returns the index into this tuple."""
BREAK, REJECT, TIMEOUT, CENSORED, FAR = range(len(OUTCOMES))

GOLD_KEYS = (
    "ts_ns",
    "session_date",
    "level_id",
    "level_kind",
    "level_px",
    "direction",
    "distance_pts",
    "signal",
)
"""Columns copied from the Gold row a label belongs to (and joined on: ts_ns, level_id)."""

LEVEL_OUTCOMES = pa.schema(
    [
        pa.field("ts_ns", pa.int64(), nullable=False),
        pa.field("session_date", pa.date32(), nullable=False),
        pa.field("level_id", pa.string(), nullable=False),
        pa.field("level_kind", pa.string(), nullable=False),
        pa.field("level_px", pa.int64(), nullable=False),
        pa.field("direction", pa.string(), nullable=False),
        pa.field("distance_pts", pa.float64(), nullable=False),
        pa.field("signal", pa.string(), nullable=False),
        pa.field("horizon_s", pa.int32(), nullable=False),
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("t_hit_ms", pa.float64(), nullable=True),
        pa.field("mfe_pts", pa.float64(), nullable=True),
        pa.field("mae_pts", pa.float64(), nullable=True),
        pa.field("fwd_ret_pts", pa.float64(), nullable=True),
        pa.field("label_end_ns", pa.int64(), nullable=False),
    ]
)
"""Sorted by (ts_ns, level_px, level_id, horizon_s): Gold's order, horizons ascending."""
