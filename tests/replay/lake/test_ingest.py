"""Ingest: DBN written through databento_dbn -> Bronze, column by column, plus routing, dates,
ordering, idempotence and chunk-size independence."""

from __future__ import annotations

import hashlib
from pathlib import Path

import databento_dbn as d
import pyarrow.parquet as pq
from typer.testing import CliRunner

from replay.cli import app
from replay.lake.ingest import ingest
from tests import dbn_factory as f
from tests.replay.conftest import CALL, ES, PUT, T0, Session, build_session

runner = CliRunner()


def _bronze(lake: Path, table: str, date: str) -> list[dict]:
    return pq.read_table(
        lake / "bronze" / table / f"date={date}" / "part-00000.parquet"
    ).to_pylist()


def _char(v) -> str:  # databento_dbn enums and c_chars -> the one-character string
    return v.value if hasattr(v, "value") else str(v)


def test_every_bronze_column_equals_the_source_records(session: Session, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    res = runner.invoke(
        app,
        [
            "ingest",
            *map(str, [session.definitions, session.mbp10, session.trades]),
            "--lake",
            str(lake),
        ],
    )
    assert res.exit_code == 0, res.output

    # MBP-10: 7 records; the spread (id 300) is excluded; 4 on 11-14, 1 late (16:30 CT) on 11-14,
    # 1 at 17:05 CT Friday -> Saturday -> rolled to Monday 11-17.  4 + 1 = 5 and 1.
    rows = _bronze(lake, "futures_mbp10", "2025-11-14") + _bronze(
        lake, "futures_mbp10", "2025-11-17"
    )
    assert len(rows) == 6
    for row in rows:
        src = session.mbp_records[row["src_row"]]
        assert row["instrument_id"] == src.instrument_id == ES
        for name in (
            "ts_recv",
            "ts_event",
            "publisher_id",
            "price",
            "size",
            "flags",
            "ts_in_delta",
            "sequence",
            "depth",
        ):
            assert row[name] == getattr(src, name), name
        assert row["rtype"] == 10
        assert row["action"] == _char(src.action) and row["side"] == _char(src.side)
        for i, lvl in enumerate(src.levels):
            for fld in ("bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct"):
                assert row[f"{fld}_{i:02d}"] == getattr(lvl, fld), (fld, i)
        assert row["symbol"] == "ESZ5"

    # Trades: 3 ES outright prints (2 on 11-14, 1 on 11-17), 2 option prints with definitions.
    fut = _bronze(lake, "futures_trades", "2025-11-14")
    assert [r["price"] for r in fut] == [6800 * f.PX, 6800_250_000_000]
    opt = _bronze(lake, "option_trades", "2025-11-14")
    assert [r["instrument_id"] for r in opt] == [CALL, PUT]
    for row in fut + opt:
        src = session.trade_records[row["src_row"]]
        for name in (
            "ts_recv",
            "ts_event",
            "instrument_id",
            "price",
            "size",
            "sequence",
            "ts_in_delta",
            "flags",
        ):
            assert row[name] == getattr(src, name), name
        assert row["side"] == _char(src.side) and row["action"] == "T"
    assert [r["symbol"] for r in opt] == ["ESZ5 C6800", "ESZ5 P6790"]

    defs = _bronze(lake, "definitions", "2025-11-14")
    assert [r["raw_symbol"] for r in defs] == ["ESZ5", "ESZ5 C6800", "ESZ5 P6790"]
    for row in defs:
        src = session.def_records[row["src_row"]]
        for name in (
            "ts_recv",
            "instrument_id",
            "expiration",
            "strike_price",
            "underlying_id",
            "unit_of_measure_qty",
            "min_price_increment",
        ):
            assert row[name] == getattr(src, name), name
        assert row["instrument_class"] == _char(src.instrument_class)
        assert row["underlying"] == src.underlying

    # Report: per file, rows = records - exclusions. mbp-10: 7 - 1 spread = 6;
    # trades: 8 - (spread 1 + NQ 1 + orphan option 1) = 5; definitions: 4 - 1 spread = 3.
    assert "7 records → futures_mbp10 6; excluded 1 (spread 1" in res.output
    assert (
        "8 records → futures_trades 3, option_trades 2; excluded 3 "
        "(spread 1, other instrument 1, option without definition 1, bad values 0" in res.output
    )
    log = pq.read_table(lake / "bronze" / "_ingest_log.parquet").to_pylist()
    assert [(r["schema"], r["records_in"], r["excluded_orphan_option"]) for r in log] == [
        ("definition", 4, 0),
        ("mbp-10", 7, 0),
        ("trades", 8, 1),
    ]
    assert log[2]["primary_future"] == "ESZ5"


def test_option_trades_without_definition_are_orphans(session: Session, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    reps = ingest([session.trades], lake)  # no definitions anywhere
    # ES outright recognised by symbol (3 prints); both options become orphans (3 incl. C6900).
    assert reps[0].rows["futures_trades"] == 3
    assert reps[0].rows["option_trades"] == 0
    assert reps[0].excluded_orphan_option == 3
    # Definitions ingested later do not rewrite history; a fresh trades file would use them.
    reps = ingest([session.definitions], lake)
    assert reps[0].rows["definitions"] == 3


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


def test_same_file_twice_is_a_reported_noop(session: Session, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest([session.definitions, session.trades], lake)
    before = _tree_digest(lake)
    res = runner.invoke(app, ["ingest", str(session.trades), "--lake", str(lake)])
    assert res.exit_code == 0
    assert "already ingested" in res.output and "no-op" in res.output
    assert _tree_digest(lake) == before


def test_bronze_bytes_do_not_depend_on_chunk_size_or_file_order(tmp_path: Path) -> None:
    s = build_session(tmp_path / "src")
    digests = []
    for i, (chunk, files) in enumerate(
        [
            (1, [s.definitions, s.mbp10, s.trades]),
            (3, [s.trades, s.mbp10, s.definitions]),
            (1 << 18, [s.mbp10, s.definitions, s.trades]),
        ]
    ):
        lake = tmp_path / f"lake{i}"
        ingest(files, lake, chunk_rows=chunk)
        dig = _tree_digest(lake)
        dig.pop("bronze/_ingest_log.parquet")  # records file order, by design
        digests.append(dig)
    assert digests[0] == digests[1] == digests[2]


def test_out_of_order_records_are_resorted_and_counted(tmp_path: Path) -> None:
    ms = 1_000_000
    # ts order in the file: t+5, t+1, t+3, t+2 -> descents at positions 1 (1<5) and 3 (2<3) = 2.
    recs = [
        f.trade(ES, T0 + 5 * ms, 5, 6800.0, 1, "B"),
        f.trade(ES, T0 + 1 * ms, 1, 6800.0, 2, "A"),
        f.trade(ES, T0 + 3 * ms, 3, 6800.0, 3, "B"),
        f.trade(ES, T0 + 2 * ms, 2, 6800.0, 4, "A"),
    ]
    path = f.write_dbn(
        tmp_path / "ooo.trades.dbn.zst",
        f.metadata(d.Schema.TRADES, {"ESZ5": ES}, T0, T0 + 10 * ms),
        recs,
    )
    # Through the CLI: a counted repair (SPEC §8), not an error.
    res = runner.invoke(app, ["ingest", str(path), "--lake", str(tmp_path / "cli")])
    assert res.exit_code == 0 and "re-sorted 3" in res.output, res.output
    for chunk in (1, 2, 100):
        lake = tmp_path / f"lake{chunk}"
        rep = ingest([path], lake, chunk_rows=chunk)[0]
        rows = _bronze(lake, "futures_trades", "2025-11-14")
        assert [r["size"] for r in rows] == [2, 4, 3, 1]  # sorted by ts_recv: +1, +2, +3, +5
        assert [r["src_row"] for r in rows] == [1, 3, 2, 0]
        # Running max of ts in file order: 5, 5, 5, 5 -> rows +1, +3, +2 are late = 3,
        # whatever the chunk size.
        assert rep.out_of_order_resorted == 3


def test_two_files_for_one_date_merge_into_one_sorted_partition(tmp_path: Path) -> None:
    ms = 1_000_000
    a = [f.trade(ES, T0 + k * ms, k, 6800.0, k, "B") for k in (1, 3, 5)]
    b = [f.trade(ES, T0 + k * ms, k, 6800.0, k, "A") for k in (2, 4, 6)]
    meta = f.metadata(d.Schema.TRADES, {"ESZ5": ES}, T0, T0 + 10 * ms)
    pa_ = f.write_dbn(tmp_path / "a.dbn.zst", meta, a)
    pb = f.write_dbn(tmp_path / "b.dbn.zst", meta, b)
    l1, l2 = tmp_path / "l1", tmp_path / "l2"
    ingest([pa_], l1)
    ingest([pb], l1)
    ingest([pb], l2)
    ingest([pa_], l2)
    rows = _bronze(l1, "futures_trades", "2025-11-14")
    assert [r["size"] for r in rows] == [1, 2, 3, 4, 5, 6]
    p1 = l1 / "bronze/futures_trades/date=2025-11-14/part-00000.parquet"
    p2 = l2 / "bronze/futures_trades/date=2025-11-14/part-00000.parquet"
    assert p1.read_bytes() == p2.read_bytes()


def test_primary_future_ignores_option_volume(session: Session, tmp_path: Path) -> None:
    ms = 1_000_000
    # 50 lots of a call and 1 lot of ESZ5: the primary future is still ESZ5 (options never count);
    # a file of option trades only has no primary future.
    opt = [f.trade(CALL, T0 + ms, 1, 12.5, 50, "B")]
    fut = [f.trade(ES, T0 + 2 * ms, 2, 6800.0, 1, "A")]
    syms = {"ESZ5": ES, "ESZ5 C6800": CALL}
    meta = f.metadata(d.Schema.TRADES, syms, T0, T0 + 10 * ms)
    p_opt = f.write_dbn(tmp_path / "opt.trades.dbn.zst", meta, opt)
    p_mix = f.write_dbn(tmp_path / "mix.trades.dbn.zst", meta, opt + fut)
    reps = ingest([session.definitions, p_opt, p_mix], tmp_path / "lake")
    assert [r.primary_future for r in reps] == [None, None, "ESZ5"]


def test_a_file_with_only_excluded_rows_is_logged_into_a_fresh_lake(tmp_path: Path) -> None:
    # One spread definition: 1 record - 1 spread exclusion = 0 rows; the lake gets only the log.
    rec = [f.definition(300, T0, "ESZ5-ESH6", "S")]
    p = f.write_dbn(
        tmp_path / "spread.definition.dbn.zst",
        f.metadata(d.Schema.DEFINITION, {"ESZ5-ESH6": 300}, T0, T0 + 1),
        rec,
    )
    res = runner.invoke(app, ["ingest", str(p), "--lake", str(tmp_path / "lake")])
    assert res.exit_code == 0, res.output
    assert "1 records → no rows; excluded 1 (spread 1" in res.output
    log = pq.read_table(tmp_path / "lake/bronze/_ingest_log.parquet").to_pylist()
    assert [(r["records_in"], r["excluded_spread"]) for r in log] == [(1, 1)]
