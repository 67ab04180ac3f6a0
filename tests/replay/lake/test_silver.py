"""Silver: MBP-10 as per-record slot changes, equal to Bronze for every record and every path."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import databento_dbn as d
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engines.contract.config import EngineConfig
from engines.contract.events import UNDEF_PRICE
from replay.gold.layout import gold_file, manifest_file
from replay.lake.ingest import ingest
from replay.lake.layout import partition_file
from replay.lake.reader import iter_depth
from replay.lake.schemas import SCHEMAS
from replay.lake.silver import (
    SilverWriter,
    build_silver,
    iter_silver_depth,
    silver_file,
    silver_stamp,
)
from replay.run.replay_job import ReplayJob, replay_session
from replay.run.session import iter_session_depth, resolve_session
from tests import dbn_factory as f
from tests.replay.conftest import ASKS, BIDS, ES, MS, T0, Session

DATE = dt.date(2025, 11, 14)
P = 1_000_000_000  # fixed-point units per point


def _bronze_table(iid: list[int], books: np.ndarray) -> pa.Table:
    """A futures_mbp10 Bronze table with the given instruments and (n, 4, 10) books."""
    n = len(iid)
    cols: dict[str, object] = {}
    for field in SCHEMAS["futures_mbp10"]:
        cols[field.name] = (
            pa.nulls(n, field.type).fill_null(0)
            if field.type != pa.string()
            else (pa.array(["x"] * n))
        )
    cols["ts_recv"] = pa.array(np.arange(n, dtype=np.int64) + T0)
    cols["instrument_id"] = pa.array(iid, pa.uint32())
    for j, plane in enumerate(("bid_px", "ask_px", "bid_sz", "ask_sz")):
        for k in range(10):
            typ = SCHEMAS["futures_mbp10"].field(f"{plane}_{k:02d}").type
            cols[f"{plane}_{k:02d}"] = pa.array(books[:, j, k], typ)
    return pa.table(cols, schema=SCHEMAS["futures_mbp10"])


def _book(bid0: int, bsz0: int) -> np.ndarray:
    b = np.zeros((4, 10), np.int64)
    b[0] = UNDEF_PRICE
    b[1] = UNDEF_PRICE
    b[0, 0], b[2, 0] = bid0 * P, bsz0
    b[1, 0], b[3, 0] = (bid0 + 1) * P, 7
    return b


def test_masks_are_the_changed_slots_per_instrument(tmp_path: Path) -> None:
    # rows: A(6800, 10), B(5000, 3), A(6800, 12), A(6800, 12)
    books = np.stack([_book(6800, 10), _book(5000, 3), _book(6800, 12), _book(6800, 12)])
    table = _bronze_table([1, 2, 1, 1], books)
    pq.write_table(table, tmp_path / "b.parquet")
    w = SilverWriter(tmp_path / "s.parquet")
    w.write(table)
    w.close("ab" * 32)
    t = pq.read_table(tmp_path / "s.parquet")
    # Slot bit = plane*10 + level. From the empty book the first A row sets bid px 0 (bit 0),
    # ask px 0 (bit 10), bid sz 0 (bit 20), ask sz 0 (bit 30); B's first row likewise (its own
    # book); A's second row changes only bid sz 0 (10 -> 12): bit 20; the repeat changes nothing.
    first = (1 << 0) | (1 << 10) | (1 << 20) | (1 << 30)
    assert t.column("chg_mask").to_pylist() == [first, first, 1 << 20, 0]
    assert t.column("chg_vals").to_pylist() == [
        [6800 * P, 6801 * P, 10, 7],
        [5000 * P, 5001 * P, 3, 7],
        [12],
        [],
    ]
    assert silver_stamp(tmp_path / "s.parquet") == "ab" * 32
    got = [
        b.levels for *_, b in iter_silver_depth(tmp_path / "s.parquet", tmp_path / "b.parquet", 1)
    ]
    assert np.array_equal(np.concatenate(got), books[[0, 2, 3]])


def test_random_books_round_trip_whatever_the_write_slicing(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    n = 3000
    iid = rng.choice([7, 9, 11], size=n).tolist()
    books = np.stack([_book(6800, 1)] * n)
    for r in range(n):  # random walks of a few slots, sometimes a whole side shift
        books[r, 2, rng.integers(0, 10)] = rng.integers(0, 50)
        if rng.random() < 0.05:
            books[r, 0] = np.sort(rng.integers(6700, 6800, 10))[::-1] * P
    bronze = tmp_path / "b.parquet"
    pq.write_table(_bronze_table(iid, books), bronze, row_group_size=700)
    for i, cuts in enumerate(([n], [1, 999, 2000], [1500, 1500])):
        path = tmp_path / f"s{i}.parquet"
        w = SilverWriter(path)
        a = 0
        for c in cuts:
            w.write(_bronze_table(iid[a : a + c], books[a : a + c]))
            a += c
        w.close("00" * 32)
        for inst, rows in ((7, 256), (9, 1000), (11, 1 << 16)):  # batches never line up
            got = [b.levels for *_, b in iter_silver_depth(path, bronze, inst, rows=rows)]
            assert np.array_equal(np.concatenate(got), books[np.array(iid) == inst])
    # (bytes differ with the slicing: each write is a row group; ingest always writes whole
    # 512 Ki-row groups, and test_ingest checks the Silver bytes across chunk sizes)


def _keyed_equal(lake: Path) -> None:
    inputs = resolve_session(lake, DATE)
    assert inputs.silver_path is not None
    a = list(iter_session_depth(inputs))
    b = list(iter_depth(inputs.depth_path, inputs.primary_id))  # type: ignore[arg-type]
    cat = np.concatenate
    for name in ("ts", "seq", "src_key", "src_row"):
        assert np.array_equal(
            cat([getattr(k, name) for k in a]), cat([getattr(k, name) for k in b])
        )
    for name in ("ts_recv", "sequence", "flags", "levels"):
        x = cat([getattr(k.batch, name) for k in a])
        y = cat([getattr(k.batch, name) for k in b])
        assert x.dtype == y.dtype and np.array_equal(x, y), name


def test_built_silver_equals_bronze(session: Session, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest([session.definitions, session.mbp10, session.trades], lake)
    assert resolve_session(lake, DATE).silver_path is None  # not built by ingest itself
    assert build_silver(lake, DATE) == silver_file(lake, DATE)
    assert build_silver(lake, dt.date(2025, 11, 13)) is None  # no MBP-10 that day
    sha = json.loads(
        (partition_file(lake, "futures_mbp10", DATE).parent / "_part-00000.sha256.json").read_text()
    )["sha256"]
    assert silver_stamp(silver_file(lake, DATE)) == sha
    _keyed_equal(lake)


def test_silver_of_a_merged_partition_and_staleness(tmp_path: Path) -> None:
    # Two MBP-10 files for one date: the second ingest merges into the partition (k-way path).
    # Silver built before it no longer matches Bronze and is ignored; rebuilt, it follows the
    # merged Bronze, not either file alone.
    meta = f.metadata(d.Schema.MBP_10, {"ESZ5": ES}, T0, T0 + 100 * MS)
    a = [f.mbp10(ES, T0 + k * MS, k, "A", "B", 6800.0, k, BIDS, ASKS) for k in (1, 3, 5)]
    b = [
        f.mbp10(ES, T0 + k * MS, k, "C", "B", 6800.0, 1, [(6800.0, 3 + k)] + BIDS[1:], ASKS)
        for k in (2, 4, 6)
    ]
    pa_ = f.write_dbn(tmp_path / "a.mbp-10.dbn.zst", meta, a)
    pb = f.write_dbn(tmp_path / "b.mbp-10.dbn.zst", meta, b)
    lake = tmp_path / "lake"
    ingest([pa_], lake)
    build_silver(lake, DATE)
    assert resolve_session(lake, DATE).silver_path is not None
    ingest([pb], lake)
    assert resolve_session(lake, DATE).silver_path is None  # stale: stamp != new Bronze sha256
    build_silver(lake, DATE)
    _keyed_equal(lake)
    lv = np.concatenate([k.batch.levels for k in iter_session_depth(resolve_session(lake, DATE))])
    # bid size at level 0 by ts: +1 10, +2 5, +3 10, +4 7, +5 10, +6 9 (BIDS[0] has size 10)
    assert lv[:, 2, 0].tolist() == [10, 5, 10, 7, 10, 9]


@pytest.mark.slow
def test_gold_is_the_same_with_or_without_silver_and_stale_silver_is_ignored(
    tmp_path: Path,
) -> None:
    from replay.sample import generate_session

    generate_session(tmp_path / "src", minutes=6)
    lake = tmp_path / "lake"
    ingest(sorted((tmp_path / "src").glob("*.dbn.zst")), lake)
    build_silver(lake, DATE)
    cfg = EngineConfig()
    outs = {}
    for name, use in (("silver", True), ("bronze", False)):
        res = replay_session(ReplayJob(lake, DATE, tmp_path / name, cfg, use_silver=use))
        man = json.loads(manifest_file(tmp_path / name, DATE).read_text())
        assert man["run"]["depth_source"] == name
        outs[name] = (gold_file(tmp_path / name, DATE).read_bytes(), res.digest)
        tables = [i["table"] for i in man["deterministic"]["inputs"]]
        assert ("silver_mbp10" in tables) == use  # Silver is an input only when it is read
        outs[name + "-outputs"] = (res.outputs_digest,)
    assert outs["silver"][0] == outs["bronze"][0]  # same Gold bytes
    assert outs["silver-outputs"] == outs["bronze-outputs"]
    assert outs["silver"][1] != outs["bronze"][1]  # ... from different inputs
    # Silver stamped for other Bronze bytes is not used: the replay reads Bronze.
    sv = silver_file(lake, DATE)
    w = SilverWriter(sv)
    w.close("11" * 32)
    res = replay_session(ReplayJob(lake, DATE, tmp_path / "stale", cfg))
    man = json.loads(manifest_file(tmp_path / "stale", DATE).read_text())
    assert man["run"]["depth_source"] == "bronze"
    assert gold_file(tmp_path / "stale", DATE).read_bytes() == outs["bronze"][0]
    assert res.digest == outs["bronze"][1]


def test_cli_builds_silver_and_refuses_a_date_without_mbp10(
    session: Session, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from replay.cli import app

    runner = CliRunner()
    lake = tmp_path / "lake"
    res = runner.invoke(app, ["ingest", str(session.mbp10), "--lake", str(lake), "--silver"])
    assert res.exit_code == 0, res.output
    # the file holds two trade dates (the 17:05 CT record belongs to Monday 11-17): both built
    assert f"silver 2025-11-14 → {silver_file(lake, DATE)}" in res.output
    assert silver_file(lake, dt.date(2025, 11, 17)).is_file()
    res = runner.invoke(app, ["silver", "--lake", str(lake), "--date", "2025-11-13"])
    assert res.exit_code == 2 and "no MBP-10 partition for 2025-11-13" in res.output
    assert "Traceback" not in res.output
