"""The ``levels.signals`` JSON payload (SPEC §5.9), built from Gold rows by the column table.

Each Gold column with a ``payload`` path in ``engines/columns/gold_columns.py`` lands at that path;
nothing
here names a column. Prices leave int64 units only here, converted to index points and multiplied
by the ``PriceConverter`` ratio (``display_ratio``, default 1.0, SPEC §5.0); ``pts`` values are
scaled by the same ratio, ``ms`` times are ns // 1e6. Floats are finite in the JSON: NaN and ±inf
become null. A path segment ending in ``?`` is an object that is null when all its members are.
Live mode publishes exactly these bytes, and ``payloads_from_gold`` rebuilds them from any Gold.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engines.columns.gold_columns import GOLD_COLUMNS, GoldColumn
from engines.columns.rows import Coded, RowBlock
from engines.contract.config import PRICE_SCALE

_EPOCH = dt.date(1970, 1, 1)

_SNAP = tuple(c for c in GOLD_COLUMNS if c.payload is not None and c.scope == "snap")
_LEVEL = tuple(c for c in GOLD_COLUMNS if c.payload is not None and c.scope == "level")


@dataclass(frozen=True)
class PriceConverter:
    """Index points of ES -> display points (e.g. another index) at the payload boundary only."""

    ratio: float = 1.0

    def px(self, units: int | None) -> float | None:
        if units is None:
            return None
        return units / PRICE_SCALE * self.ratio


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _value(col: GoldColumn, v: Any, conv: PriceConverter) -> Any:
    if col.unit == "px":
        return conv.px(v)
    if col.unit == "ms":
        return v // 1_000_000
    if col.unit == "pts":
        return None if v is None else _finite(v * conv.ratio)
    if col.type == "float64":
        return _finite(v)
    return v


def _split(path: str) -> tuple[tuple[str, ...], str]:
    *parents, leaf = path.split(".")
    return tuple(p.rstrip("?") for p in parents), leaf


def _optionals(paths: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """Key paths of the objects marked ``?`` (null when all their members are), in first-seen
    order, each once."""
    out: dict[tuple[str, ...], None] = {}
    for path in paths:
        parts = path.split(".")
        for i, p in enumerate(parts[:-1]):
            if p.endswith("?"):
                out[tuple(q.rstrip("?") for q in parts[: i + 1])] = None
                break
    return tuple(out)


_SNAP_PLACES = tuple((c, *_split(c.payload or "")) for c in _SNAP)
_LEVEL_PLACES = tuple((c, *_split(c.payload or "")) for c in _LEVEL)
_SNAP_OPTIONAL = _optionals(c.payload or "" for c in _SNAP)
_LEVEL_OPTIONAL = _optionals(c.payload or "" for c in _LEVEL)


def _build(
    row: Mapping[str, Any],
    places: tuple[tuple[GoldColumn, tuple[str, ...], str], ...],
    optional: tuple[tuple[str, ...], ...],
    conv: PriceConverter,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col, parents, leaf in places:
        obj = out
        for p in parents:
            obj = obj.setdefault(p, {})
        obj[leaf] = _value(col, row[col.name], conv)
    for keys in optional:
        parent = out
        for k in keys[:-1]:
            parent = parent[k]
        inner = parent[keys[-1]]
        if isinstance(inner, dict) and all(v is None for v in inner.values()):
            parent[keys[-1]] = None
    return out


def block_rows(block: RowBlock) -> list[dict[str, Any]]:
    """A block's rows as dicts of Python values, equal to ``record_batch(block).to_pylist()``
    (nulls as None, dates as ``datetime.date``) without building Arrow arrays: the per-snap path
    of live mode builds one payload per snap."""
    names, cols = [], []
    for c in GOLD_COLUMNS:
        v = block.columns[c.name]
        if isinstance(v, Coded):
            vals: list[Any] = [v.names[i] if i >= 0 else None for i in v.codes.tolist()]
        elif c.type == "date32":
            vals = [_EPOCH + dt.timedelta(days=d) for d in v.tolist()]
        else:
            vals = v.tolist()
        valid = block.valid.get(c.name)
        if valid is not None:
            vals = [x if ok else None for x, ok in zip(vals, valid.tolist(), strict=True)]
        names.append(c.name)
        cols.append(vals)
    return [dict(zip(names, r, strict=True)) for r in zip(*cols, strict=True)]


def level_payload(row: Mapping[str, Any], conv: PriceConverter | None = None) -> dict[str, Any]:
    """One level of the payload from one Gold row (a mapping of column name to value)."""
    return _build(row, _LEVEL_PLACES, _LEVEL_OPTIONAL, conv or PriceConverter())


def snap_payload(rows: Sequence[Mapping[str, Any]], conv: PriceConverter | None = None) -> dict:
    """The payload object of one snap's Gold rows (levels in the service's order: distance,
    then id)."""
    c = conv or PriceConverter()
    out = _build(rows[0], _SNAP_PLACES, _SNAP_OPTIONAL, c)
    levels = sorted(rows, key=lambda r: (abs(r["distance_pts"]), r["level_id"]))
    out["levels"] = [level_payload(r, c) for r in levels]
    return out


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """Canonical JSON bytes (sorted keys, no NaN) for NATS and tests."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def payloads_from_gold(
    rows: Iterable[Mapping[str, Any]], conv: PriceConverter | None = None
) -> Iterator[dict[str, Any]]:
    """The payload of every snap of Gold rows in file order (rows grouped by ``snap_index``)."""
    snap: list[Mapping[str, Any]] = []
    for r in rows:
        if snap and r["snap_index"] != snap[0]["snap_index"]:
            yield snap_payload(snap, conv)
            snap = []
        snap.append(r)
    if snap:
        yield snap_payload(snap, conv)
