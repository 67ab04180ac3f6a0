"""Purged, embargoed splits (SPEC §10.3): exact hand-computed folds, purging with closed
intervals, the embargo only after a test span and across sessions, snaps never straddling folds,
unsorted input, and the user errors."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from replay.common.errors import UserError
from replay.labels.splits import purged_splits

S = 1_000_000_000  # ns per second
T0 = 1_763_150_000 * S  # an arbitrary epoch origin (2025-11-14), so ts_ns look like real ones

# (ts_s, label_end_s) per row; rows 1 and 2 share the snap at 20 s.
HAND = [(10, 15), (20, 25), (20, 32), (30, 50), (40, 52), (50, 55), (60, 65)]


def frame(rows: list[tuple[int, int]], horizon: int = 60, t0: int = T0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ts_ns": [t0 + a * S for a, _ in rows],
            "label_end_ns": [t0 + b * S for _, b in rows],
            "horizon_s": [horizon] * len(rows),
        },
        schema={"ts_ns": pl.Int64, "label_end_ns": pl.Int64, "horizon_s": pl.Int32},
    )


def folds(labels, n_splits: int, embargo_s: float) -> list[tuple[list[int], list[int]]]:
    out = []
    for train, test in purged_splits(labels, n_splits, embargo_s):
        assert train.dtype == np.int64 and test.dtype == np.int64
        out.append((train.tolist(), test.tolist()))
    return out


# Distinct ts (s): 10 20 30 40 50 60 -> n_splits=3 -> blocks {10,20} {30,40} {50,60}.
# Fold 0: test rows 0,1,2; span [10, max(15,25,32)=32].
#   row 3 (30..50): 30 <= 32 and 50 >= 10 -> purged. Rows 4,5,6 start after 32 -> kept.
# Fold 1: test rows 3,4; span [30, max(50,52)=52].
#   row 0 (..15), row 1 (..25): end < 30 -> kept. row 2 (20..32): 20 <= 52, 32 >= 30 -> purged.
#   row 5 (50..55): 50 <= 52, 55 >= 30 -> purged. row 6 (60..): 60 > 52 -> kept.
# Fold 2: test rows 5,6; span [50, 65].
#   rows 0,1,2 end 15,25,32 < 50 -> kept. row 3 ends at 50 == s0: closed intervals touch ->
#   purged. row 4 (40..52): 52 >= 50 -> purged.
EXPECTED_E0 = [([4, 5, 6], [0, 1, 2]), ([0, 1, 6], [3, 4]), ([0, 1, 2], [5, 6])]


def test_hand_computed_no_embargo() -> None:
    assert folds(frame(HAND), 3, 0) == EXPECTED_E0


def test_hand_computed_with_embargo() -> None:
    # embargo 10 s. Fold 0: drop 32 < ts <= 42 -> row 4 (40). Fold 1: drop 52 < ts <= 62 ->
    # row 6 (60); rows 0,1 lie before the span: never embargoed. Fold 2: nothing after 65.
    assert folds(frame(HAND), 3, 10.0) == [
        ([5, 6], [0, 1, 2]),
        ([0, 1], [3, 4]),
        ([0, 1, 2], [5, 6]),
    ]


def test_embargo_boundary_is_inclusive_and_exact() -> None:
    # Fold 0, s1 = 32 s. Embargo 8 s: 32 < 40 <= 40 -> row 4 dropped (end of window included).
    # Embargo 7.999999999 s = 7_999_999_999 ns: 40 s is 1 ns past the window -> row 4 kept.
    assert folds(frame(HAND), 3, 8)[0] == ([5, 6], [0, 1, 2])
    assert folds(frame(HAND), 3, 7.999999999)[0] == ([4, 5, 6], [0, 1, 2])


def test_pyarrow_table_gives_the_same_folds() -> None:
    assert folds(frame(HAND).to_arrow(), 3, 0) == EXPECTED_E0


def utc_ns(y: int, mo: int, d: int, h: int, mi: int) -> int:
    return int(dt.datetime(y, mo, d, h, mi, tzinfo=dt.UTC).timestamp()) * S


def test_embargo_crosses_session_boundaries() -> None:
    # Session 1 ends Fri 2025-11-14 21:00 UTC, session 2 starts Sun 2025-11-16 23:00 UTC.
    # Rows 0-2: 20:57, 20:58, 20:59 on the 14th; rows 3-5: 23:00, 23:01, 23:02 on the 16th;
    # each label ends 60 s later. 6 distinct ts, n_splits=2 -> fold 0 = session 1, fold 1 = 2.
    s1_ts = [utc_ns(2025, 11, 14, 20, m) for m in (57, 58, 59)]
    s2_ts = [utc_ns(2025, 11, 16, 23, m) for m in (0, 1, 2)]
    ts = s1_ts + s2_ts
    labels = pl.DataFrame(
        {"ts_ns": ts, "label_end_ns": [t + 60 * S for t in ts], "horizon_s": [60] * 6}
    )
    # Fold 0 span ends at 21:00 on the 14th; 23:00 on the 16th is 50 h (180_000 s) later.
    # Fold 1 span starts at 23:00 on the 16th; session 1 ends before it and lies before the
    # span, so it is never purged nor embargoed: train = [0, 1, 2] for every embargo.
    assert folds(labels, 2, 3600) == [([3, 4, 5], [0, 1, 2]), ([0, 1, 2], [3, 4, 5])]
    # 50 h: window (21:00 14th, 23:00 16th] -> row 3 dropped, 23:01 and 23:02 kept.
    assert folds(labels, 2, 50 * 3600) == [([4, 5], [0, 1, 2]), ([0, 1, 2], [3, 4, 5])]
    # 3 days reaches past 23:02 on the 16th -> all of session 2 dropped.
    assert folds(labels, 2, 3 * 86_400) == [([], [0, 1, 2]), ([0, 1, 2], [3, 4, 5])]
    # "2 days" (48 h) stops 2 h short of session 2.
    assert folds(labels, 2, 2 * 86_400)[0] == ([3, 4, 5], [0, 1, 2])


def test_snaps_never_straddle_folds_and_folds_are_array_split_blocks() -> None:
    rng = np.random.default_rng(7)
    distinct = np.sort(rng.choice(10_000, size=23, replace=False)).astype(np.int64) * S
    counts = rng.integers(1, 5, size=len(distinct))  # 1-4 rows per snap
    ts = np.repeat(distinct, counts)
    rng.shuffle(ts)
    end = ts + rng.integers(0, 300, size=len(ts)) * S
    labels = pl.DataFrame({"ts_ns": ts, "label_end_ns": end, "horizon_s": [300] * len(ts)})
    for n in range(2, len(distinct) + 1):
        tests = [test for _, test in purged_splits(labels, n, 5.0)]
        fold_of = np.full(len(ts), -1)
        for k, test in enumerate(tests):
            assert np.all(np.diff(test) > 0)
            assert np.all(fold_of[test] == -1)  # folds are disjoint
            fold_of[test] = k
        assert np.all(fold_of >= 0)  # and cover every row
        for t in distinct:  # a snap's rows share one fold
            assert len(set(fold_of[ts == t].tolist())) == 1
        blocks = np.array_split(distinct, n)
        for k, test in enumerate(tests):
            assert np.array_equal(np.unique(ts[test]), blocks[k])


def test_train_never_meets_the_test_span() -> None:
    rng = np.random.default_rng(11)
    ts = rng.integers(0, 1000, size=200).astype(np.int64) * S
    end = ts + rng.integers(0, 50, size=200) * S
    labels = pl.DataFrame({"ts_ns": ts, "label_end_ns": end, "horizon_s": [30] * 200})
    for train, test in purged_splits(labels, 5, 20):
        assert not set(train.tolist()) & set(test.tolist())
        s0, s1 = ts[test].min(), end[test].max()
        assert not np.any((ts[train] <= s1) & (end[train] >= s0))
        assert not np.any((ts[train] > s1) & (ts[train] <= s1 + 20 * S))


def test_unsorted_frame_indices_refer_to_the_given_order() -> None:
    perm = [4, 6, 2, 0, 5, 3, 1]  # shuffled row j is HAND row perm[j]
    shuffled = frame([HAND[i] for i in perm])
    new_pos = {orig: j for j, orig in enumerate(perm)}
    expected = [
        (sorted(new_pos[i] for i in train), sorted(new_pos[i] for i in test))
        for train, test in EXPECTED_E0
    ]
    # e.g. fold 0 tests HAND rows 0,1,2 = shuffled positions 3,6,2 -> [2, 3, 6];
    # trains on HAND rows 4,5,6 = positions 0,4,1 -> [0, 1, 4].
    assert expected[0] == ([0, 1, 4], [2, 3, 6])
    assert folds(shuffled, 3, 0) == expected


def test_deterministic() -> None:
    a = folds(frame(HAND), 3, 10)
    b = folds(frame(HAND), 3, 10)
    assert a == b


def test_two_horizons_rejected() -> None:
    labels = pl.concat([frame(HAND, horizon=60), frame(HAND, horizon=300)])
    with pytest.raises(UserError, match="one horizon") as e:
        purged_splits(labels, 3, 0)
    assert "[60, 300]" in str(e.value)
    assert "pl.col('horizon_s') == H" in str(e.value)


@pytest.mark.parametrize("n", [1, 0, -2])
def test_n_splits_too_small(n: int) -> None:
    with pytest.raises(UserError, match="n_splits >= 2"):
        purged_splits(frame(HAND), n, 0)


def test_n_splits_more_than_distinct_ts() -> None:
    # 7 rows but only 6 distinct ts_ns: 6 splits work, 7 do not.
    assert len(list(purged_splits(frame(HAND), 6, 0))) == 6
    with pytest.raises(UserError, match="6 distinct ts_ns") as e:
        purged_splits(frame(HAND), 7, 0)
    assert "n_splits=7" in str(e.value)


@pytest.mark.parametrize("n", [2.0, "3", True])
def test_n_splits_not_an_int(n) -> None:
    with pytest.raises(UserError, match="n_splits must be an integer"):
        purged_splits(frame(HAND), n, 0)


@pytest.mark.parametrize("embargo", [-1, -0.5, math.nan, math.inf, "10"])
def test_bad_embargo(embargo) -> None:
    with pytest.raises(UserError, match="embargo_s"):
        purged_splits(frame(HAND), 3, embargo)


@pytest.mark.parametrize("column", ["ts_ns", "label_end_ns", "horizon_s"])
def test_missing_column(column: str) -> None:
    with pytest.raises(UserError, match=f"no column '{column}'"):
        purged_splits(frame(HAND).drop(column), 3, 0)


def test_nulls_non_integers_and_backwards_labels_rejected() -> None:
    nulls = frame(HAND).with_columns(pl.lit(None, pl.Int64).alias("label_end_ns"))
    with pytest.raises(UserError, match="'label_end_ns' has null"):
        purged_splits(nulls, 3, 0)
    floats = frame(HAND).with_columns(pl.col("ts_ns").cast(pl.Float64))
    with pytest.raises(UserError, match="'ts_ns' is Float64, not an integer"):
        purged_splits(floats, 3, 0)
    backwards = frame([(10, 15), (20, 19), (30, 35)])
    with pytest.raises(UserError, match="row 1 ends before it starts"):
        purged_splits(backwards, 2, 0)
    with pytest.raises(UserError, match="labels must be a table"):
        purged_splits([(1, 2, 60)], 2, 0)


def test_huge_embargo_does_not_overflow() -> None:
    # 1e300 s saturates: every row after each span is embargoed, nothing overflows.
    assert folds(frame(HAND), 3, 1e300) == [
        ([], [0, 1, 2]),
        ([0, 1], [3, 4]),
        ([0, 1, 2], [5, 6]),
    ]
    assert folds(frame(HAND), 3, 10**30) == folds(frame(HAND), 3, 1e300)
