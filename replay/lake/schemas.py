"""Bronze Arrow schemas, defined once (SPEC §2.3).

Columns keep DBN field names and wire integer types; prices are int64 fixed-point (1e-9) with
INT64_MAX = undefined; timestamps are int64 ns since the epoch (UTC). ``action``, ``side`` and
``instrument_class`` are one-character strings, as Databento's own Parquet export writes them.
Two provenance columns make the partition order a total order that does not depend on the order
files were ingested in: ``src_key`` (first 8 bytes of the source file's sha256, as int64) and
``src_row`` (the record's index in its source file). Partitions are sorted by
(``ts_recv``, ``sequence``, ``src_key``, ``src_row``).
"""

from __future__ import annotations

import pyarrow as pa

TABLES = ("futures_mbp10", "futures_trades", "option_trades", "definitions")
STREAM_RANK = {"definitions": 0, "futures_mbp10": 1, "futures_trades": 2, "option_trades": 3}
SORT_KEY = ("ts_recv", "sequence", "src_key", "src_row")
DEF_SORT_KEY = ("ts_recv", "src_key", "src_row")

_HEADER = [
    pa.field("ts_recv", pa.int64(), nullable=False),
    pa.field("ts_event", pa.int64(), nullable=False),
    pa.field("rtype", pa.uint8(), nullable=False),
    pa.field("publisher_id", pa.uint16(), nullable=False),
    pa.field("instrument_id", pa.uint32(), nullable=False),
]
_BODY = [
    pa.field("action", pa.string(), nullable=False),
    pa.field("side", pa.string(), nullable=False),
    pa.field("depth", pa.uint8(), nullable=False),
    pa.field("price", pa.int64(), nullable=False),
    pa.field("size", pa.uint32(), nullable=False),
    pa.field("flags", pa.uint8(), nullable=False),
    pa.field("ts_in_delta", pa.int32(), nullable=False),
    pa.field("sequence", pa.uint32(), nullable=False),
]
_PROVENANCE = [
    pa.field("symbol", pa.string(), nullable=True),
    pa.field("src_key", pa.int64(), nullable=False),
    pa.field("src_row", pa.int64(), nullable=False),
]


def _levels() -> list[pa.Field]:
    out = []
    for i in range(10):
        out += [
            pa.field(f"bid_px_{i:02d}", pa.int64(), nullable=False),
            pa.field(f"ask_px_{i:02d}", pa.int64(), nullable=False),
            pa.field(f"bid_sz_{i:02d}", pa.uint32(), nullable=False),
            pa.field(f"ask_sz_{i:02d}", pa.uint32(), nullable=False),
            pa.field(f"bid_ct_{i:02d}", pa.uint32(), nullable=False),
            pa.field(f"ask_ct_{i:02d}", pa.uint32(), nullable=False),
        ]
    return out


FUTURES_MBP10 = pa.schema(_HEADER + _BODY + _levels() + _PROVENANCE)
TRADES = pa.schema(_HEADER + _BODY + _PROVENANCE)

DEFINITIONS = pa.schema(
    [
        pa.field("ts_recv", pa.int64(), nullable=False),
        pa.field("ts_event", pa.int64(), nullable=False),
        pa.field("rtype", pa.uint8(), nullable=False),
        pa.field("publisher_id", pa.uint16(), nullable=False),
        pa.field("instrument_id", pa.uint32(), nullable=False),
        pa.field("raw_symbol", pa.string(), nullable=False),
        pa.field("instrument_class", pa.string(), nullable=False),
        pa.field("security_update_action", pa.string(), nullable=False),
        pa.field("expiration", pa.int64(), nullable=False),
        pa.field("activation", pa.int64(), nullable=False),
        pa.field("strike_price", pa.int64(), nullable=False),
        pa.field("min_price_increment", pa.int64(), nullable=False),
        pa.field("display_factor", pa.int64(), nullable=False),
        pa.field("unit_of_measure_qty", pa.int64(), nullable=False),
        pa.field("high_limit_price", pa.int64(), nullable=False),
        pa.field("low_limit_price", pa.int64(), nullable=False),
        pa.field("contract_multiplier", pa.int32(), nullable=False),
        pa.field("underlying_id", pa.uint32(), nullable=False),
        pa.field("maturity_year", pa.uint16(), nullable=False),
        pa.field("maturity_month", pa.uint8(), nullable=False),
        pa.field("maturity_day", pa.uint8(), nullable=False),
        pa.field("underlying", pa.string(), nullable=False),
        pa.field("asset", pa.string(), nullable=False),
        pa.field("security_type", pa.string(), nullable=False),
        pa.field("cfi", pa.string(), nullable=False),
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("currency", pa.string(), nullable=False),
        pa.field("strike_price_currency", pa.string(), nullable=False),
        pa.field("src_key", pa.int64(), nullable=False),
        pa.field("src_row", pa.int64(), nullable=False),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "futures_mbp10": FUTURES_MBP10,
    "futures_trades": TRADES,
    "option_trades": TRADES,
    "definitions": DEFINITIONS,
}

INGEST_LOG = pa.schema(
    [
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("file_name", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("size_bytes", pa.int64(), nullable=False),
        pa.field("format", pa.string(), nullable=False),
        pa.field("dbn_version", pa.int32(), nullable=True),
        pa.field("dataset", pa.string(), nullable=True),
        pa.field("schema", pa.string(), nullable=False),
        pa.field("records_in", pa.int64(), nullable=False),
        pa.field("rows_futures_mbp10", pa.int64(), nullable=False),
        pa.field("rows_futures_trades", pa.int64(), nullable=False),
        pa.field("rows_option_trades", pa.int64(), nullable=False),
        pa.field("rows_definitions", pa.int64(), nullable=False),
        pa.field("excluded_spread", pa.int64(), nullable=False),
        pa.field("excluded_other_instrument", pa.int64(), nullable=False),
        pa.field("excluded_orphan_option", pa.int64(), nullable=False),
        pa.field("excluded_bad_timestamp", pa.int64(), nullable=False),
        pa.field("excluded_bad_price", pa.int64(), nullable=False),
        pa.field("excluded_bad_side", pa.int64(), nullable=False),
        pa.field("out_of_order_resorted", pa.int64(), nullable=False),
        pa.field("duplicate_records", pa.int64(), nullable=False),
        pa.field("overlap_records", pa.int64(), nullable=False),
        pa.field("ts_recv_min", pa.int64(), nullable=True),
        pa.field("ts_recv_max", pa.int64(), nullable=True),
        pa.field("dates", pa.list_(pa.string()), nullable=False),
        pa.field("primary_future", pa.string(), nullable=True),
    ]
)
