"""Bronze rows <-> DBN record bytes, the payload of the market subjects (SPEC §6).

A message on ``market.futures.mbp10`` (and the other record subjects) carries DBN v3 records back
to back, the C layout ``databento_dbn`` publishes (``MBP10Msg._dtypes`` …), as a Databento live
feed would. ``publish`` builds them from Bronze columns (which keep DBN's field names and wire
types); ``live`` views them with ``np.frombuffer`` and builds Bronze-shaped Arrow tables with the
very functions ingest uses, so the engines receive exactly what an offline replay gives them.
Round trip: Bronze -> DBN -> Bronze gives the same values in every column the engines read.
"""

from __future__ import annotations

import databento_dbn
import numpy as np
import pyarrow as pa

from replay.lake.dbn_source import DEF_CHAR_FIELDS, DEF_STRING_FIELDS, Chunk, record_columns
from replay.lake.ingest import char_array, definition_table, market_table
from replay.lake.schemas import SCHEMAS

DTYPES: dict[str, np.dtype] = {
    "futures_mbp10": np.dtype(databento_dbn.MBP10Msg._dtypes),
    "futures_trades": np.dtype(databento_dbn.TradeMsg._dtypes),
    "option_trades": np.dtype(databento_dbn.TradeMsg._dtypes),
    "definitions": np.dtype(databento_dbn.InstrumentDefMsg._dtypes),
}
_CHARS = ("action", "side", *DEF_CHAR_FIELDS)


def encode(table: str, rows: pa.Table) -> np.ndarray:
    """Bronze rows of ``table`` as DBN records (a structured array; ``.tobytes()`` is the wire)."""
    dtype = DTYPES[table]
    out = np.zeros(rows.num_rows, dtype=dtype)
    out["length"] = dtype.itemsize // 4
    names = set(rows.column_names)
    for name in dtype.names or ():
        if name not in names:
            continue  # length (set above), reserved bytes (zero)
        col = rows.column(name)
        if name in _CHARS:
            out[name] = _codes(col).view("S1")
        elif name in DEF_STRING_FIELDS:
            out[name] = np.asarray([s.encode("ascii") for s in col.to_pylist()], dtype="S")
        else:
            out[name] = col.to_numpy()
    return out


def _codes(col: pa.ChunkedArray) -> np.ndarray:
    """One-character strings -> their ASCII codes (empty -> 0)."""
    arr = col.combine_chunks()
    n = len(arr)
    offs = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if n else np.zeros(0, np.uint8)
    out = np.zeros(n, dtype=np.uint8)
    has = offs[1:] > offs[:-1]
    out[has] = data[offs[:-1][has]]
    return out


def decode(table: str, payload: bytes, first_index: int) -> pa.Table:
    """DBN records of ``table`` -> a Bronze-shaped table (``src_key`` 0, ``src_row`` = the merged
    order index of each record, ``symbol`` null), built by ingest's own functions."""
    arr = np.frombuffer(payload, dtype=DTYPES[table])
    n = arr.shape[0]
    chunk = Chunk(record_columns(arr), np.full(n, -1, np.int32), [], first_index)
    if table == "definitions":
        return definition_table(chunk, np.arange(n), 0)
    return market_table(table, chunk, np.arange(n), 0)


def decode_columns(
    table: str, payload: bytes, first_index: int, columns: tuple[str, ...]
) -> pa.Table:
    """Only ``columns`` of ``decode``'s table (same names, types and values), for the hot path:
    a window's MBP-10 needs 46 of its 77 columns, and building the others cost more than the
    engines' work on it."""
    arr = np.frombuffer(payload, dtype=DTYPES[table])
    n = arr.shape[0]
    schema = SCHEMAS[table]
    arrays = []
    for name in columns:
        f = schema.field(name)
        if name == "src_key":
            arrays.append(pa.array(np.zeros(n, dtype=np.int64)))
        elif name == "src_row":
            arrays.append(pa.array(np.arange(first_index, first_index + n, dtype=np.int64)))
        elif name in _CHARS:
            arrays.append(char_array(arr[name].view(np.uint8)))
        else:
            arrays.append(
                pa.array(np.ascontiguousarray(arr[name]).astype(f.type.to_pandas_dtype()))
            )
    return pa.Table.from_arrays(arrays, schema=pa.schema([schema.field(c) for c in columns]))
