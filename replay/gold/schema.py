"""The Gold Arrow schema and record batches, built from the engines' column table (SPEC §3.1).

``engines/columns/gold_columns.py`` is the one definition of the Gold columns; this module turns it
into
the explicit Arrow schema (field order, types, nullability) and turns engine ``RowBlock``s into
record batches of that schema, refusing any string outside a column's closed enum set.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from engines.columns.gold_columns import ENUMS, GOLD_COLUMNS
from engines.columns.rows import Coded, RowBlock
from replay.common.errors import InternalError

ARROW_TYPES: dict[str, pa.DataType] = {
    "int64": pa.int64(),
    "int32": pa.int32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "string": pa.string(),
    "date32": pa.date32(),
}

GOLD = pa.schema([pa.field(c.name, ARROW_TYPES[c.type], nullable=c.nullable) for c in GOLD_COLUMNS])
"""Gold ``levels.signals`` timeline (SPEC §3.1): one row per snap × active level."""

GOLD_ENUMS = ENUMS
"""Closed sets of the string enums; ``record_batch`` refuses anything else."""


def _strings(name: str, col: Coded) -> pa.Array:
    allowed = GOLD_ENUMS.get(name)
    if allowed is not None and not set(col.names) <= set(allowed):
        bad = sorted(set(col.names) - set(allowed))
        raise InternalError(f"Gold column {name}: values {bad} not in {sorted(allowed)}")
    codes = pa.array(col.codes, mask=col.codes < 0)
    return pc.take(pa.array(col.names, type=pa.string()), codes)


def record_batch(block: RowBlock) -> pa.RecordBatch:
    """One Gold record batch of a block's rows (every column, in schema order)."""
    arrays = []
    for field in GOLD:
        v = block.columns[field.name]
        if isinstance(v, Coded):
            arrays.append(_strings(field.name, v))
            continue
        valid = block.valid.get(field.name)
        mask = None if valid is None else ~valid
        arrays.append(pa.array(v, type=field.type, mask=mask))
    return pa.RecordBatch.from_arrays(arrays, schema=GOLD)
