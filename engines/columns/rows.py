"""Snap results as column blocks: what every engine hands its sink (SPEC §3.1 rows, §5.9).

A ``RowBlock`` holds the rows of one or more whole snaps, column-wise in the Gold column table's
order (``engines/columns/gold_columns.py``): numbers as numpy arrays with an optional validity mask,
strings as integer codes into a small tuple of names (``Coded``; code -1 is null), so a block is
built and read without a Python object per row. The fast engine decodes its kernel slots into
blocks (``engines/fast/fast_rows.py``); the reference engine builds them from its ``LevelRow``s
here.
Sinks (the Gold writer, the API's collector, live mode's per-snap publisher) never see which.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engines.columns.gold_columns import GOLD_COLUMNS, LEVEL_COLUMNS

_EPOCH = dt.date(1970, 1, 1)
NP_TYPES: dict[str, type] = {
    "int64": np.int64,
    "int32": np.int32,
    "float64": np.float64,
    "bool": np.bool_,
    "date32": np.int32,  # days since 1970-01-01
}


@dataclass(frozen=True)
class Coded:
    """A string column as codes into ``names`` (-1: null)."""

    codes: np.ndarray  # int64 (n,)
    names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    def values(self) -> list[str | None]:
        """The strings, one per row (tests and small payloads only)."""
        return [None if c < 0 else self.names[c] for c in self.codes.tolist()]


Column = np.ndarray | Coded


@dataclass(frozen=True)
class RowBlock:
    """Rows of whole snaps in Gold order; ``valid`` holds a mask for columns with nulls."""

    columns: dict[str, Column]
    valid: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns["ts_ns"])

    def slice(self, start: int, stop: int) -> RowBlock:
        cols: dict[str, Column] = {
            k: Coded(v.codes[start:stop], v.names) if isinstance(v, Coded) else v[start:stop]
            for k, v in self.columns.items()
        }
        return RowBlock(cols, {k: m[start:stop] for k, m in self.valid.items()})

    def snap_bounds(self) -> list[tuple[int, int]]:
        """(start, stop) of each snap's rows, in order."""
        k = self.columns["snap_index"]
        assert isinstance(k, np.ndarray)
        cuts = np.flatnonzero(k[1:] != k[:-1]) + 1
        edges = [0, *cuts.tolist(), len(self)]
        return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def days_since_epoch(date: dt.date) -> int:
    return (date - _EPOCH).days


def session_columns(n: int, date: dt.date, instrument: str) -> dict[str, Column]:
    """The per-session constant columns of ``n`` rows."""
    return {
        "session_date": np.full(n, days_since_epoch(date), dtype=np.int32),
        "instrument": Coded(np.zeros(n, dtype=np.int64), (instrument,)),
    }


def _coded(values: Sequence[str | None]) -> Coded:
    names: dict[str, int] = {}  # first-appearance order: never iterated into output order
    codes = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        codes[i] = -1 if v is None else names.setdefault(v, len(names))
    return Coded(codes, tuple(names))


class LevelRowBlocks:
    """Collects the reference engine's snap results into RowBlocks (the Gold columns by name)."""

    def __init__(self, date: dt.date, instrument: str):
        self._date = date
        self._instrument = instrument
        self._snap: dict[str, list] = {c.name: [] for c in GOLD_COLUMNS if c.decode != "session"}
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def add(
        self, ts_ns: int, snap_index: int, spot: int, bid: int, ask: int, rows: Sequence
    ) -> None:
        """One snap's ``LevelRow``s (already in Gold order)."""
        c = self._snap
        for r in rows:
            c["ts_ns"].append(ts_ns)
            c["snap_index"].append(snap_index)
            c["spot_px"].append(spot)
            c["bid_px"].append(bid)
            c["ask_px"].append(ask)
            for col in LEVEL_COLUMNS:
                c[col.name].append(getattr(r, col.name))
        self._n += len(rows)

    def take(self) -> RowBlock:
        """The rows collected so far, as one block (the collector starts empty again)."""
        cols: dict[str, Column] = {}
        valid: dict[str, np.ndarray] = {}
        const = session_columns(self._n, self._date, self._instrument)
        for col in GOLD_COLUMNS:
            if col.decode == "session":
                cols[col.name] = const[col.name]
                continue
            vals = self._snap[col.name]
            if col.type == "string":
                cols[col.name] = _coded(vals)
                continue
            mask = np.fromiter((v is not None for v in vals), dtype=np.bool_, count=len(vals))
            if not mask.all():
                valid[col.name] = mask
                vals = [0 if v is None else v for v in vals]
            cols[col.name] = np.array(vals, dtype=NP_TYPES[col.type]).reshape(len(vals))
        self._snap = {k: [] for k in self._snap}
        self._n = 0
        return RowBlock(cols, valid)
