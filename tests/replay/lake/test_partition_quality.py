"""Ingest's data-quality counts live in each partition's footer (SPEC §3.2), not in the log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import databento_dbn as d

from replay.lake.ingest import ingest
from replay.lake.layout import partition_file
from replay.lake.partition_quality import read_entries
from replay.run.session import resolve_session
from tests import dbn_factory as f
from tests.replay.conftest import ES, MS, NQ, SPREAD, T0, Session

DATE = dt.date(2025, 11, 14)
NEXT = dt.date(2025, 11, 17)  # Monday: the Friday 17:00 CT open rolls forward
SYMS = {"ESZ5": ES, "ESZ5-ESH6": SPREAD, "NQZ5": NQ}
DAY2 = f.ns("2025-11-17T14:30:00+00:00")


def _trades(path: Path, recs: list) -> Path:
    return f.write_dbn(path, f.metadata(d.Schema.TRADES, SYMS, T0, DAY2 + 10 * MS), recs)


def test_session_counts_come_from_its_own_partitions(session: Session, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest([session.definitions, session.mbp10, session.trades], lake)
    # The hand-built session on 2025-11-14 excludes, per table:
    #   futures_mbp10: 1 spread book record;
    #   futures_trades: 1 spread trade, 1 NQ trade (other instrument);
    #   option_trades: 1 trade of an option without a definition (orphan);
    #   definitions: 1 spread definition.
    entries = read_entries(partition_file(lake, "futures_trades", DATE))
    assert list(entries.values()) == [
        {
            "duplicate_records": 0,
            "excluded_bad_price": 0,
            "excluded_bad_side": 0,
            "excluded_orphan_option": 0,
            "excluded_other_instrument": 1,
            "excluded_spread": 1,
            "out_of_order_resorted": 0,
            "overlap_records": 0,
        }
    ]
    q = resolve_session(lake, DATE).ingest_quality
    # spread 1 + 1 + 1 = 3 over mbp-10, trades and definitions; NQ 1; the orphan option 1
    assert q == {
        "ingest_duplicate_records": 0,
        "ingest_excluded_bad_price": 0,
        "ingest_excluded_bad_side": 0,
        "ingest_excluded_orphan_option": 1,
        "ingest_excluded_other_instrument": 1,
        "ingest_excluded_spread": 3,
        "ingest_out_of_order_resorted": 0,
        "ingest_overlap_records": 0,
    }
    # The Monday session (the Friday evening open) read the same files and excluded nothing.
    assert set(resolve_session(lake, NEXT).ingest_quality.values()) == {0}


def test_a_file_spanning_two_dates_counts_each_on_its_own_date(tmp_path: Path) -> None:
    # One file: on 11-14 an ES trade and a spread trade; on 11-17 an ES trade and an NQ trade.
    # The ingest log has one row for the file (spread 1, other 1, both dates); each partition
    # keeps only its own date's counts.
    p = _trades(
        tmp_path / "two-days.trades.dbn.zst",
        [
            f.trade(ES, T0 + MS, 1, 6800.0, 1, "B"),
            f.trade(SPREAD, T0 + 2 * MS, 2, -60.0, 1, "B"),
            f.trade(ES, DAY2 + MS, 3, 6801.0, 1, "A"),
            f.trade(NQ, DAY2 + 2 * MS, 4, 21000.0, 1, "A"),
        ],
    )
    lake = tmp_path / "lake"
    ingest([p], lake)
    q1 = resolve_session(lake, DATE).ingest_quality
    q2 = resolve_session(lake, NEXT).ingest_quality
    assert (q1["ingest_excluded_spread"], q1["ingest_excluded_other_instrument"]) == (1, 0)
    assert (q2["ingest_excluded_spread"], q2["ingest_excluded_other_instrument"]) == (0, 1)


def test_counts_and_bytes_do_not_depend_on_ingest_order(tmp_path: Path) -> None:
    # a: ES at +1, +5 ms and a spread; b: ES at +3, +2 ms (one late row) and an NQ trade.
    a = _trades(
        tmp_path / "a.trades.dbn.zst",
        [
            f.trade(ES, T0 + 1 * MS, 1, 6800.0, 1, "B"),
            f.trade(ES, T0 + 5 * MS, 5, 6800.0, 1, "B"),
            f.trade(SPREAD, T0 + 6 * MS, 6, -60.0, 1, "B"),
        ],
    )
    b = _trades(
        tmp_path / "b.trades.dbn.zst",
        [
            f.trade(ES, T0 + 3 * MS, 3, 6800.0, 2, "A"),
            f.trade(ES, T0 + 2 * MS, 2, 6800.0, 2, "A"),
            f.trade(NQ, T0 + 4 * MS, 4, 21000.0, 1, "A"),
        ],
    )
    parts = []
    for name, order in (("ab", [a, b]), ("ba", [b, a])):
        lake = tmp_path / name
        for p in order:
            ingest([p], lake)  # two ingests: the second merges into the first's partition
        parts.append(partition_file(lake, "futures_trades", DATE).read_bytes())
        q = resolve_session(lake, DATE).ingest_quality
        # spread 1 (a) + other 1 (b) + late 1 (b: +2 after +3)
        assert q["ingest_excluded_spread"] == 1
        assert q["ingest_excluded_other_instrument"] == 1
        assert q["ingest_out_of_order_resorted"] == 1
        assert len(read_entries(partition_file(lake, "futures_trades", DATE))) == 2
    assert parts[0] == parts[1]


def test_a_table_with_every_record_excluded_still_counts(tmp_path: Path) -> None:
    """Option trades ingested before their definitions are all excluded (orphans): no
    option_trades partition exists to carry the count, so it goes beside it and the session
    still reports it."""
    call, put = 201, 202
    syms = {"ESZ5": ES, "ESZ5 C6800": call, "ESZ5 P6790": put}
    recs = [
        f.trade(ES, T0 + MS, 1, 6800.0, 1, "B"),
        f.trade(call, T0 + 2 * MS, 2, 12.5, 3, "B"),
        f.trade(put, T0 + 3 * MS, 3, 7.25, 4, "A"),
    ]
    p = f.write_dbn(
        tmp_path / "early.trades.dbn.zst",
        f.metadata(d.Schema.TRADES, syms, T0, T0 + 10 * MS),
        recs,
    )
    lake = tmp_path / "lake"
    rep = ingest([p], lake)[0]
    assert (rep.rows["option_trades"], rep.excluded_orphan_option) == (0, 2)
    assert not partition_file(lake, "option_trades", DATE).exists()
    # 2 orphan option trades (the call and the put), no partition to hold them: still counted
    assert resolve_session(lake, DATE).ingest_quality["ingest_excluded_orphan_option"] == 2
