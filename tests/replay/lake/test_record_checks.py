"""Undefined or impossible values (SPEC §8): the record is excluded, as if absent, and counted in
the file's report, the ingest log and the manifest of the session it belongs to."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import databento_dbn as d
import pyarrow.parquet as pq

from replay.lake.ingest import ingest
from replay.lake.layout import partition_file
from replay.run.session import resolve_session
from tests import dbn_factory as f
from tests.replay.conftest import ASKS, BIDS, ES, MS, T0

DATE = dt.date(2025, 11, 14)
INT64_MAX = 2**63 - 1
SIDE_OFFSET = 29  # byte of `side` in a 48-byte TradeMsg (after `action`)


def _with_side(rec: d.TradeMsg, side: str) -> bytes:
    raw = bytearray(bytes(rec))
    assert raw[SIDE_OFFSET] == ord("B")
    raw[SIDE_OFFSET] = ord(side)
    return bytes(raw)


def _trade(k: int, price: float | None = 6800.0, size: int = 1, ts: int | None = None):
    rec = f.trade(ES, T0 + k * MS, k, 6800.0, size, "B")
    if ts is not None:
        rec.ts_recv = ts
    if price is None:
        rec.price = INT64_MAX
    elif price != 6800.0:
        rec.price = int(price * 1e9)
    return rec


def test_bad_trade_values_are_excluded_and_counted(tmp_path: Path) -> None:
    recs = [
        _trade(1),  # kept
        _trade(2, price=0.0),  # price 0
        _trade(3, price=-5.0),  # negative
        _trade(4, price=None),  # INT64_MAX: undefined
        _with_side(_trade(5), "X"),  # aggressor side X
        _trade(6, ts=0),  # ts_recv 0
        _trade(7, ts=2**64 - 1),  # ts_recv UINT64_MAX
        _trade(8, size=2**32 - 1),  # UINT32_MAX: a valid size, kept
    ]
    meta = f.metadata(d.Schema.TRADES, {"ESZ5": ES}, T0, T0 + 10 * MS)
    path = f.write_dbn(tmp_path / "bad.trades.dbn", meta, recs, compress=False)
    lake = tmp_path / "lake"
    rep = ingest([path], lake)[0]
    # 8 records: 2 kept; timestamp 2, price 3, side 1 = 6 excluded
    assert (rep.records_in, rep.rows["futures_trades"], rep.excluded) == (8, 2, 6)
    assert (rep.excluded_bad_timestamp, rep.excluded_bad_price, rep.excluded_bad_side) == (2, 3, 1)
    kept = pq.read_table(partition_file(lake, "futures_trades", DATE)).to_pylist()
    assert [r["size"] for r in kept] == [1, 2**32 - 1]
    assert (rep.ts_recv_min, rep.ts_recv_max) == (T0 + MS, T0 + 8 * MS)  # not 0, not -1
    log = pq.read_table(lake / "bronze" / "_ingest_log.parquet").to_pylist()[0]
    assert (log["excluded_bad_timestamp"], log["excluded_bad_price"]) == (2, 3)
    q = resolve_session(lake, DATE).ingest_quality
    # the dated problems reach the session's manifest; undated timestamps cannot
    assert (q["ingest_excluded_bad_price"], q["ingest_excluded_bad_side"]) == (3, 1)


def test_a_negative_book_price_excludes_the_record(tmp_path: Path) -> None:
    bad_bids = [*BIDS[:3], (-1.0, 5), *BIDS[4:]]  # level 3 bid at -1.00
    recs = [
        f.mbp10(ES, T0 + 1 * MS, 1, "A", "B", 6800.0, 1, BIDS, ASKS),
        f.mbp10(ES, T0 + 2 * MS, 2, "A", "B", 6800.0, 1, bad_bids, ASKS),
        f.mbp10(ES, T0 + 3 * MS, 3, "T", "A", -2.0, 1, BIDS, ASKS),  # a trade at -2.00
    ]
    meta = f.metadata(d.Schema.MBP_10, {"ESZ5": ES}, T0, T0 + 10 * MS)
    path = f.write_dbn(tmp_path / "bad.mbp-10.dbn.zst", meta, recs)
    lake = tmp_path / "lake"
    rep = ingest([path], lake)[0]
    assert (rep.rows["futures_mbp10"], rep.excluded_bad_price) == (1, 2)
    assert resolve_session(lake, DATE).ingest_quality["ingest_excluded_bad_price"] == 2


def test_a_uint32_max_size_is_valid_and_both_engines_agree(tmp_path: Path) -> None:
    """One ESZ5 trade of 4 294 967 295 lots: kept, summed in int64 (the session VWAP's volume
    passes 4e9, where the fast kernel's division used to give up), same Gold in both engines."""
    from replay.run.replay_job import ReplayJob, replay_session
    from replay.sample import generate_session
    from replay.sample.scenario import instrument_id

    src = generate_session(tmp_path / "src", minutes=3)
    es = instrument_id("ESZ5")
    ts = f.ns("2025-11-14T14:31:00.000000001+00:00")
    meta = f.metadata(d.Schema.TRADES, {"ESZ5": es}, ts, ts + 1)
    big = f.write_dbn(
        tmp_path / "big.trades.dbn", meta, [f.trade(es, ts, 1, 6790.0, 2**32 - 1, "B")]
    )
    lake = tmp_path / "lake"
    ingest([*sorted(src.files), big], lake)
    digests = {
        engine: replay_session(
            ReplayJob(lake, DATE, tmp_path / engine, engine=engine)
        ).outputs_digest
        for engine in ("reference", "fast")
    }
    assert digests["reference"] == digests["fast"]
    vwap = pq.read_table(
        tmp_path / "fast/gold/levels_signals/date=2025-11-14/part-00000.parquet",
        filters=[("level_id", "=", "VWAP")],
        columns=["level_px"],
    ).column(0)
    # after the big print the VWAP sits within a tick (0.25 = 250 000 000 units) of 6790.00:
    # it dwarfs every other lot of the session
    assert abs(vwap[-1].as_py() - 6_790_000_000_000) < 250_000_000
