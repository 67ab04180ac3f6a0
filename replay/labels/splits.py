"""Purged, embargoed cross-validation splits over the labels of one horizon (SPEC §10.3).

A label looks ahead: the row at ``ts_ns`` is decided by prices up to ``label_end_ns``. A training
row whose window overlaps a test fold leaks the test fold's prices into training, so it is purged;
a row starting just after the fold is embargoed, because features near a boundary are correlated.

Decisions, and why:

- Input: a polars DataFrame (or a pyarrow Table, via ``pl.from_arrow``) with integer ``ts_ns``,
  ``label_end_ns`` and ``horizon_s``, no nulls, ``label_end_ns >= ts_ns``. One horizon only:
  horizons have different windows, so mixing them would purge by the wrong span; the caller
  filters with ``pl.col('horizon_s') == H``.
- Indices are 0-based positions in the frame as given (sorted ascending, ``np.int64``); the frame
  need not be sorted, so a caller can index its own frame without reordering it.
- Folds cut the sorted distinct ``ts_ns`` (possibly several sessions) like ``numpy.array_split``
  (the first ``len % n`` blocks one larger), so a snap's rows always share a fold.
- Test span ``[s0, s1]``: the fold's first ``ts_ns`` and its rows' largest ``label_end_ns``.
  Purge: drop a training row if ``ts_ns <= s1 and label_end_ns >= s0`` (closed intervals meet,
  touching counts). Embargo: drop one with ``s1 < ts_ns <= s1 + embargo_ns``, where
  ``embargo_ns = round(embargo_s * 1e9)``; only after the span (rows before are purged, never
  embargoed), and by clock time, so it crosses session boundaries.
- Integer arithmetic throughout (no float ns), so boundaries compare exactly and the result is
  deterministic. One vectorised pass per fold, no loop per row.
- Arguments are validated when ``purged_splits`` is called, not at the first ``next()``, so a bad
  call fails where it is made.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from replay.common.errors import UserError

COLUMNS = ("ts_ns", "label_end_ns", "horizon_s")
_U64 = 1 << 64


def purged_splits(
    labels: pl.DataFrame | Any, n_splits: int, embargo_s: float
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(train, test)`` row indices for folds ``k = 0 .. n_splits - 1``.

    ``test`` is every row of fold ``k``; ``train`` is every other row minus the purged and the
    embargoed ones. Both are ascending ``np.int64`` positions in ``labels`` as given.
    """
    n = _n_splits(n_splits)
    embargo_ns = _embargo_ns(embargo_s)
    ts, end = _columns(_frame(labels))
    distinct, inverse = np.unique(ts, return_inverse=True)
    if n > len(distinct):
        raise UserError(
            f"n_splits={n} is more than the {len(distinct)} distinct ts_ns in the labels",
            expected=f"2 <= n_splits <= {len(distinct)}",
        )
    sizes = [len(b) for b in np.array_split(np.arange(len(distinct)), n)]
    fold_of_row = np.repeat(np.arange(n), sizes)[inverse.reshape(-1)]
    return _folds(ts, end, fold_of_row, n, embargo_ns)


def _folds(
    ts: np.ndarray, end: np.ndarray, fold_of_row: np.ndarray, n: int, embargo_ns: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for k in range(n):
        test = fold_of_row == k
        s0 = int(ts[test].min())
        s1 = int(end[test].max())
        purged = (ts <= s1) & (end >= s0)
        after = ts > s1
        # ts - s1 for ts > s1 lies in (0, 2**64): exact in uint64 (two's complement wrap-around),
        # and embargo_ns is clamped to that range, so no int64 overflow for any input.
        gap = ts.view(np.uint64) - np.uint64(s1 % _U64)
        embargoed = after & (gap <= np.uint64(min(embargo_ns, _U64 - 1)))
        train = ~test & ~purged & ~embargoed
        yield (
            np.flatnonzero(train).astype(np.int64, copy=False),
            np.flatnonzero(test).astype(np.int64, copy=False),
        )


def _n_splits(n_splits: Any) -> int:
    if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral):
        raise UserError(f"n_splits must be an integer, got {n_splits!r}", expected="int >= 2")
    if n_splits < 2:
        raise UserError(f"n_splits={n_splits} is too small", expected="n_splits >= 2")
    return int(n_splits)


def _embargo_ns(embargo_s: Any) -> int:
    if isinstance(embargo_s, bool) or not isinstance(embargo_s, numbers.Real):
        raise UserError(f"embargo_s must be a number, got {embargo_s!r}", expected="seconds >= 0")
    if not math.isfinite(float(embargo_s)) or embargo_s < 0:
        raise UserError(
            f"embargo_s={embargo_s!r} is not a finite number >= 0", expected="seconds >= 0"
        )
    if isinstance(embargo_s, numbers.Integral):
        return int(embargo_s) * 1_000_000_000
    ns = float(embargo_s) * 1e9
    return _U64 - 1 if ns >= _U64 else round(ns)  # beyond any int64 gap: same as unbounded


def _frame(labels: Any) -> pl.DataFrame:
    if isinstance(labels, pl.DataFrame):
        return labels
    if isinstance(labels, pa.Table | pa.RecordBatch):
        frame = pl.from_arrow(labels)
        assert isinstance(frame, pl.DataFrame)
        return frame
    raise UserError(
        f"labels must be a table, got {type(labels).__name__}",
        expected="a polars DataFrame or a pyarrow Table of level_outcomes",
    )


def _columns(df: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    for name in COLUMNS:
        if name not in df.columns:
            raise UserError(
                f"labels have no column {name!r}",
                expected=f"level_outcomes columns {', '.join(COLUMNS)}",
            )
        if not df.schema[name].is_integer():
            raise UserError(
                f"labels column {name!r} is {df.schema[name]}, not an integer",
                expected="int64 nanoseconds" if name != "horizon_s" else "int seconds",
            )
        if df[name].null_count():
            raise UserError(f"labels column {name!r} has null values", expected="no nulls")
    horizons = df["horizon_s"].unique().sort().to_list()
    if len(horizons) > 1:
        raise UserError(
            f"purged_splits takes the labels of one horizon, got horizons_s {horizons}",
            expected="one horizon: filter with pl.col('horizon_s') == H",
        )
    try:
        ts = np.ascontiguousarray(df["ts_ns"].cast(pl.Int64, strict=True).to_numpy())
        end = np.ascontiguousarray(df["label_end_ns"].cast(pl.Int64, strict=True).to_numpy())
    except pl.exceptions.InvalidOperationError as e:
        raise UserError(
            "labels ts_ns/label_end_ns do not fit in int64", expected="int64 nanoseconds"
        ) from e
    bad = np.flatnonzero(end < ts)
    if len(bad):
        raise UserError(
            f"labels row {int(bad[0])} ends before it starts "
            f"(label_end_ns {int(end[bad[0]])} < ts_ns {int(ts[bad[0]])})",
            expected="label_end_ns >= ts_ns",
        )
    return ts, end
