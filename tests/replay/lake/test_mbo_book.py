"""The book rebuilt from MBO, record by record, against books computed by hand.

Each test writes real DBN through ``databento_dbn``'s ``MBOMsg``, ingests it, and reads back the
Bronze depth and trades rows: what a replay would see.
"""

from __future__ import annotations

from pathlib import Path

import databento_dbn as d
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from replay.lake.ingest import ingest
from replay.lake.ingest_report import format_report
from replay.lake.partition_quality import read_entries
from tests import dbn_factory as f
from tests.replay.conftest import ES, T0

UNDEF = f.UNDEF
LAST, SNAP = d.F_LAST, d.F_SNAPSHOT
MS = 1_000_000


def px(points: float) -> int:
    return int(round(points * 4)) * (f.PX // 4)


class Tape:
    """MBO records in file order, one millisecond apart unless told; ``seq`` per record."""

    def __init__(self) -> None:
        self.recs: list[d.MBOMsg] = []

    def add(
        self,
        action: str,
        side: str,
        points: float | None,
        size: int,
        oid: int,
        flags: int = 0,
        iid: int = ES,
        at: int | None = None,
    ) -> int:
        i = len(self.recs)
        ts = T0 + i * MS if at is None else at
        self.recs.append(
            d.MBOMsg(
                publisher_id=1,
                instrument_id=iid,
                ts_event=ts,
                order_id=oid,
                price=UNDEF if points is None else px(points),
                size=size,
                flags=flags,
                channel_id=0,
                action=d.Action(action),
                side=d.Side(side),
                ts_recv=ts,
                ts_in_delta=0,
                sequence=1000 + i,
            )
        )
        return i

    def ingest(self, tmp: Path) -> tuple[pa.Table, pa.Table, list]:
        meta = f.metadata(d.Schema.MBO, {"ESZ5": ES}, T0, T0 + len(self.recs) * MS)
        src = f.write_dbn(tmp / "es.mbo.dbn.zst", meta, self.recs)
        reports = ingest([src], tmp / "lake")
        root = tmp / "lake" / "bronze"
        depth = pq.read_table(next((root / "futures_mbp10").rglob("*.parquet")))
        trades_files = list((root / "futures_trades").rglob("*.parquet"))
        trades = pq.read_table(trades_files[0]) if trades_files else pa.table({})
        return depth, trades, reports


def book(t: pa.Table, row: int) -> tuple[list, list]:
    """(bids, asks) of a depth row as [(points, size, count), ...], best first, levels present."""
    out: tuple[list, list] = ([], [])
    for i in range(10):
        for k, side in enumerate(("bid", "ask")):
            p = t.column(f"{side}_px_{i:02d}")[row].as_py()
            if p != UNDEF:
                sz = t.column(f"{side}_sz_{i:02d}")[row].as_py()
                ct = t.column(f"{side}_ct_{i:02d}")[row].as_py()
                out[k].append((p / f.PX, sz, ct))
    return out


def counts(tmp: Path) -> dict[str, int]:
    part = next((tmp / "lake" / "bronze" / "futures_mbp10").rglob("*.parquet"))
    (entry,) = read_entries(part).values()
    return {k: v for k, v in entry.items() if k.startswith("mbo_") and v}


def test_adds_collapse_to_one_row_per_event_and_the_empty_start_is_named(tmp_path: Path) -> None:
    t = Tape()
    t.add("A", "B", 6800.00, 4, oid=1)
    t.add("A", "B", 6800.00, 2, oid=2)
    last = t.add("A", "A", 6800.25, 3, oid=3, flags=LAST)
    depth, _, reports = t.ingest(tmp_path)
    # one event (three adds, F_LAST on the third): one row, with the last record's times
    assert depth.num_rows == 1
    assert depth.column("src_row").to_pylist() == [last]
    assert depth.column("ts_recv").to_pylist() == [T0 + last * MS]
    assert depth.column("sequence").to_pylist() == [1000 + last]
    assert depth.column("action").to_pylist() == ["A"]
    assert depth.column("side").to_pylist() == ["A"]
    # 6800.00: 4 + 2 = 6 lots in 2 orders; 6800.25: 3 lots in 1 order
    assert book(depth, 0) == ([(6800.00, 6, 2)], [(6800.25, 3, 1)])
    # the file starts with no snapshot or clear: counted once, and named in the report
    assert counts(tmp_path) == {"mbo_book_started_empty": 1}
    line = format_report(reports[0])
    assert "book started from an empty state" in line and "ESZ5" in line


def test_cancels_modifies_and_fills(tmp_path: Path) -> None:
    t = Tape()
    t.add("A", "B", 6800.00, 4, oid=1)
    t.add("A", "B", 6800.00, 2, oid=2)
    t.add("A", "A", 6800.25, 3, oid=3, flags=LAST)  # row 0
    t.add("C", "B", 6800.00, 1, oid=1, flags=LAST)  # row 1: partial cancel, 4 - 1 = 3 left
    t.add("C", "B", 6800.00, 2, oid=2, flags=LAST)  # row 2: full cancel of order 2
    t.add("M", "B", 6800.00, 2, oid=1, flags=LAST)  # row 3: size cut 3 -> 2, same price
    t.add("M", "B", 6799.75, 2, oid=1, flags=LAST)  # row 4: price moves down a tick
    t.add("F", "B", 6799.75, 1, oid=1)  # a fill: the book waits for the C below
    t.add("F", "B", 6799.75, 1, oid=999)  # a fill of an order never added: counted
    t.add("C", "B", 6799.75, 1, oid=1, flags=LAST)  # row 5: 2 - 1 = 1 left
    t.add("C", "A", 6800.25, 1, oid=77, flags=LAST)  # unknown cancel: counted, no row
    depth, _, _ = t.ingest(tmp_path)
    ask = [(6800.25, 3, 1)]
    assert [book(depth, i) for i in range(depth.num_rows)] == [
        ([(6800.00, 6, 2)], ask),
        ([(6800.00, 5, 2)], ask),  # 6 - 1
        ([(6800.00, 3, 1)], ask),  # 5 - 2, one order left
        ([(6800.00, 2, 1)], ask),  # modify: size 3 -> 2
        ([(6799.75, 2, 1)], ask),  # modify: 6800.00 empties, 6799.75 holds the order
        ([(6799.75, 1, 1)], ask),  # after the fill's cancel
    ]
    # the modify rows carry their action and the level index before the change (best = 0)
    assert depth.column("action").to_pylist() == ["A", "C", "C", "M", "M", "C"]
    assert depth.column("depth").to_pylist()[3:5] == [0, 0]
    assert counts(tmp_path) == {
        "mbo_book_started_empty": 1,
        "mbo_unknown_order_fill": 1,
        "mbo_unknown_order_cancel": 1,
    }


def test_trades_are_written_at_once_with_the_book_as_it_stands(tmp_path: Path) -> None:
    t = Tape()
    t.add("A", "B", 6800.00, 5, oid=1)
    t.add("A", "A", 6800.25, 2, oid=2, flags=LAST)  # row 0
    trade = t.add("T", "B", 6800.25, 2, oid=0)  # buyer lifts the ask: no book change yet
    t.add("F", "A", 6800.25, 2, oid=2)
    t.add("A", "B", 6800.25, 1, oid=3)  # the aggressor's remainder rests: locked inside
    t.add("C", "A", 6800.25, 2, oid=2, flags=LAST)  # row 2: the filled ask leaves
    t.add("T", "A", 6800.25, 1, oid=0, flags=LAST)  # a T that ends its event
    depth, trades, _ = t.ingest(tmp_path)
    assert depth.column("action").to_pylist() == ["A", "T", "C", "T"]
    # the T row shows the book before the fill's records: bid 6800.00 x5, ask 6800.25 x2
    assert book(depth, 1) == ([(6800.00, 5, 1)], [(6800.25, 2, 1)])
    assert depth.column("src_row").to_pylist()[1] == trade
    # event end: the ask is gone, the remainder bids 6800.25 x1 above 6800.00 x5
    assert book(depth, 2) == ([(6800.25, 1, 1), (6800.00, 5, 1)], [])
    # a T carrying F_LAST already shows the final book: no second row for that event
    assert book(depth, 3) == book(depth, 2)
    assert trades.column("action").to_pylist() == ["T", "T"]
    assert trades.column("side").to_pylist() == ["B", "A"]
    assert trades.column("price").to_pylist() == [px(6800.25)] * 2
    assert trades.column("size").to_pylist() == [2, 1]
    # the locked book inside the first event is not an event end; no event ended crossed
    assert "mbo_crossed_at_event_end" not in counts(tmp_path)


def test_clear_snapshot_mid_file_and_unknown_modify(tmp_path: Path) -> None:
    t = Tape()
    t.add("A", "B", 6800.00, 5, oid=1)
    t.add("A", "A", 6800.25, 2, oid=2, flags=LAST)  # row 0
    t.add("R", "N", None, 0, oid=0, flags=LAST)  # row 1: cleared
    t.add("A", "B", 6790.00, 7, oid=1, flags=LAST)  # row 2: order 1 again (R removed it)
    t.add("A", "B", 6789.00, 3, oid=50, flags=SNAP)  # a snapshot: replaces the book
    t.add("A", "A", 6791.00, 6, oid=51, flags=SNAP | LAST)  # row 3
    t.add("C", "B", 6790.00, 7, oid=1, flags=LAST)  # order 1 went with the snapshot: unknown
    t.add("M", "A", 6791.50, 4, oid=60, flags=LAST)  # row 4: unknown modify, applied as add
    depth, _, _ = t.ingest(tmp_path)
    assert [book(depth, i) for i in range(depth.num_rows)] == [
        ([(6800.00, 5, 1)], [(6800.25, 2, 1)]),
        ([], []),
        ([(6790.00, 7, 1)], []),
        ([(6789.00, 3, 1)], [(6791.00, 6, 1)]),
        ([(6789.00, 3, 1)], [(6791.00, 6, 1), (6791.50, 4, 1)]),
    ]
    assert counts(tmp_path) == {
        "mbo_book_started_empty": 1,
        "mbo_unknown_order_cancel": 1,
        "mbo_unknown_order_modify": 1,
    }


def test_no_row_when_the_top_ten_did_not_move_and_crossed_ends_counted(tmp_path: Path) -> None:
    t = Tape()
    t.add("A", "B", 6800.00, 5, oid=1, flags=SNAP)
    t.add("A", "A", 6800.25, 2, oid=2, flags=SNAP | LAST)  # row 0
    t.add("A", "B", 6799.00, 1, oid=3)
    t.add("C", "B", 6799.00, 1, oid=3, flags=LAST)  # added and gone in one event: no row
    t.add("A", "B", 6800.50, 1, oid=4, flags=LAST)  # row 1: bid above the ask at event end
    depth, _, _ = t.ingest(tmp_path)
    assert depth.num_rows == 2
    assert book(depth, 1) == ([(6800.50, 1, 1), (6800.00, 5, 1)], [(6800.25, 2, 1)])
    # the file began with a snapshot: no empty start; one event ended crossed
    assert counts(tmp_path) == {"mbo_crossed_at_event_end": 1}


def test_a_deep_book_grows_past_its_first_arrays(tmp_path: Path) -> None:
    """300 price levels and 5,000 orders: beyond the builder's first level and order arrays
    (64 levels, 4,096 orders), so the kernel stops, the arrays grow and it resumes."""
    t = Tape()
    rng = np.random.Generator(np.random.PCG64(5))
    sizes = rng.integers(1, 9, 5000)
    for i in range(5000):
        level = i % 300
        t.add("A", "B", 6800.00 - 0.25 * level, int(sizes[i]), oid=10 + i)
    t.add("A", "A", 6800.25, 1, oid=1, flags=LAST)
    depth, _, _ = t.ingest(tmp_path)
    bids, _ = book(depth, 0)
    # level j holds orders j, j + 300, ... (< 5000): 17 orders for j < 200 (5000 = 16·300 + 200)
    want = [
        (6800.00 - 0.25 * j, int(sizes[j::300].sum()), 17 if j < 200 else 16) for j in range(10)
    ]
    assert bids == want


@pytest.mark.parametrize("chunk_rows", [1, 3, 1 << 18])
def test_rows_do_not_depend_on_chunking(tmp_path: Path, chunk_rows: int) -> None:
    """Events spanning chunk boundaries give the same rows (the book is kept between chunks)."""
    t = Tape()
    t.add("A", "B", 6800.00, 4, oid=1)
    t.add("A", "B", 6800.00, 2, oid=2)
    t.add("A", "A", 6800.25, 3, oid=3, flags=LAST)
    t.add("T", "B", 6800.25, 1, oid=0)
    t.add("C", "A", 6800.25, 1, oid=3)
    t.add("A", "A", 6800.50, 1, oid=4, flags=LAST)
    meta = f.metadata(d.Schema.MBO, {"ESZ5": ES}, T0, T0 + 10 * MS)
    src = f.write_dbn(tmp_path / "es.mbo.dbn.zst", meta, t.recs)
    ingest([src], tmp_path / "lake", chunk_rows=chunk_rows)
    depth = pq.read_table(next((tmp_path / "lake" / "bronze" / "futures_mbp10").rglob("*.pa*")))
    assert depth.column("src_row").to_pylist() == [2, 3, 5]
    assert book(depth, 2) == ([(6800.00, 6, 2)], [(6800.25, 2, 1), (6800.50, 1, 1)])


def test_parquet_export_gives_the_rows_of_its_dbn(tmp_path: Path) -> None:
    """Databento's own ``to_parquet`` of an MBO file is found by content (rtype 160) and
    rebuilds the same rows as the DBN it came from."""
    import databento as db

    t = Tape()
    t.add("A", "B", 6800.00, 4, oid=1)
    t.add("A", "A", 6800.25, 3, oid=3, flags=LAST)
    t.add("T", "B", 6800.25, 1, oid=0)
    t.add("C", "A", 6800.25, 1, oid=3, flags=LAST)
    meta = f.metadata(d.Schema.MBO, {"ESZ5": ES}, T0, T0 + 10 * MS)
    src = f.write_dbn(tmp_path / "es.mbo.dbn.zst", meta, t.recs)
    pq_src = tmp_path / "es.mbo.parquet"
    db.DBNStore.from_file(src).to_parquet(pq_src, price_type="fixed", pretty_ts=False)
    tables = []
    for name, path in (("dbn", src), ("parquet", pq_src)):
        (rep,) = ingest([path], tmp_path / name)
        assert (rep.format, rep.schema, rep.rows["futures_mbp10"]) == (name, "mbo", 3)
        part = next((tmp_path / name / "bronze" / "futures_mbp10").rglob("*.parquet"))
        tables.append(pq.read_table(part).drop_columns(["src_key"]))
    assert tables[0].equals(tables[1])


def _mbp10_file(tmp: Path) -> Path:
    rec = f.mbp10(ES, T0 + 5 * MS, 1, "A", "B", 6800.0, 1, [(6800.0, 1)], [(6800.25, 1)])
    meta = f.metadata(d.Schema.MBP_10, {"ESZ5": ES}, T0, T0 + 10 * MS)
    return f.write_dbn(tmp / "es.mbp-10.dbn.zst", meta, [rec])


def _trades_file(tmp: Path) -> Path:
    rec = f.trade(ES, T0 + 5 * MS, 1, 6800.25, 1, "B")
    meta = f.metadata(d.Schema.TRADES, {"ESZ5": ES}, T0, T0 + 10 * MS)
    return f.write_dbn(tmp / "es.trades.dbn.zst", meta, [rec])


@pytest.mark.parametrize("first", ["mbp-10", "trades", "mbo"])
def test_one_kind_of_futures_source_per_date(tmp_path: Path, first: str) -> None:
    """MBO beside MBP-10 or trades of the same date would hold the market twice: the second
    kind is refused, naming the partition, and the lake keeps the first."""
    from replay.lake.ingest import IngestFailed

    t = Tape()
    t.add("A", "B", 6800.00, 4, oid=1)
    t.add("A", "A", 6800.25, 3, oid=3, flags=LAST)
    t.add("T", "B", 6800.25, 1, oid=0)
    meta = f.metadata(d.Schema.MBO, {"ESZ5": ES}, T0, T0 + 10 * MS)
    mbo = f.write_dbn(tmp_path / "es.mbo.dbn.zst", meta, t.recs)
    files = {"mbp-10": _mbp10_file(tmp_path), "trades": _trades_file(tmp_path), "mbo": mbo}
    second = "mbp-10" if first == "mbo" else "mbo"
    lake = tmp_path / "lake"
    ingest([files[first]], lake)
    before = sorted(p.read_bytes() for p in (lake / "bronze").rglob("*.parquet"))
    with pytest.raises(IngestFailed) as err:
        ingest([files[second]], lake)
    text = str(err.value)
    table = "futures_trades" if first == "trades" else "futures_mbp10"
    assert f"{table} of date=2025-11-14 already holds rows of" in text
    assert ("MBO files" if first == "mbo" else "MBP-10 or trades files") in text
    assert sorted(p.read_bytes() for p in (lake / "bronze").rglob("*.parquet")) == before


def test_manifest_and_info_say_the_depth_came_from_mbo(tmp_path: Path) -> None:
    import datetime as dt
    import json

    from engines.contract.config import EngineConfig
    from replay.run.info import lake_info
    from replay.run.replay_job import ReplayJob, replay_session

    t = Tape()
    for i in range(40):  # two minutes of a two-sided book, an event and a print every 3 s
        at = T0 + i * 3_000 * MS
        t.add("A", "B", 6800.00 + 0.25 * (i % 3), 2, oid=100 + i, at=at)
        t.add("A", "A", 6801.00 + 0.25 * (i % 3), 2, oid=200 + i, flags=LAST, at=at)
        t.add("T", "B", 6801.00 + 0.25 * (i % 3), 1, oid=0, at=at)
    t.ingest(tmp_path)
    res = replay_session(
        ReplayJob(tmp_path / "lake", dt.date(2025, 11, 14), tmp_path / "out", EngineConfig())
    )
    man = json.loads(res.manifest.read_text())["deterministic"]
    rebuilt = {i["table"]: i.get("rebuilt_from") for i in man["inputs"]}
    assert rebuilt["futures_mbp10"] == "mbo" and rebuilt["futures_trades"] == "mbo"
    info = "\n".join(lake_info(tmp_path / "lake"))
    assert "futures_mbp10" in info and "(rebuilt from MBO)" in info
