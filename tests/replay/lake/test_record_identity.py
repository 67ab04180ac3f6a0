"""Record identity at ingest (SPEC §8): a copy of a record is dropped and counted, two fills that
are equal in every byte are both kept, and a file re-exported as Parquet is stored once."""

from __future__ import annotations

import json
from pathlib import Path

import databento
import databento_dbn as d
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from replay.api import replay_to
from replay.lake.ingest import ingest
from replay.lake.record_identity import DUPLICATE, OVERLAP, RUN, Deduper
from replay.sample import generate_session
from tests import dbn_factory as f
from tests.replay.conftest import ES, T0

MS = 1_000_000
DATE = "2025-11-14"
META = f.metadata(d.Schema.TRADES, {"ESZ5": ES}, T0, T0 + 100 * MS)


def _part(lake: Path, table: str = "futures_trades", date: str = DATE) -> Path:
    return lake / "bronze" / table / f"date={date}" / "part-00000.parquet"


def _sizes(lake: Path) -> list[int]:
    return pq.read_table(_part(lake)).column("size").to_pylist()


def _fill(ms: int, seq: int, size: int, side: str = "B") -> d.TradeMsg:
    return f.trade(ES, T0 + ms * MS, seq, 6800.0, size, side)


def test_two_equal_fills_of_one_packet_are_kept_a_copy_elsewhere_is_dropped(
    tmp_path: Path,
) -> None:
    # Packet A (1 ms, seq 1): two fills equal in every byte (two 1-lot resting orders) and a
    # 3-lot; packet B (2 ms, seq 2) one 5-lot; packet C (3 ms, seq 3) a 7-lot; then a copy of one
    # 1-lot fill appended at the end (its own packet run: the row before it is at 3 ms).
    recs = [_fill(1, 1, 1), _fill(1, 1, 1), _fill(1, 1, 3), _fill(2, 2, 5), _fill(3, 3, 7)]
    path = f.write_dbn(tmp_path / "t.dbn.zst", META, [*recs, _fill(1, 1, 1)])
    for chunk in (1, 2, 4, 100):
        lake = tmp_path / f"lake{chunk}"
        rep = ingest([path], lake, chunk_rows=chunk)[0]
        # kept: 1, 1, 3 | 5 | 7 = 5 rows; the copy (src_row 5) dropped, whatever the chunking
        assert _sizes(lake) == [1, 1, 3, 5, 7]
        assert pq.read_table(_part(lake)).column("src_row").to_pylist() == [0, 1, 2, 3, 4]
        assert (rep.duplicate_records, rep.overlap_records) == (1, 0)
        assert rep.rows["futures_trades"] == 5  # 6 routed - 1 dropped
        assert rep.out_of_order_resorted == 1  # the copy came after the 3 ms row: late
    # The same fills without the copy: no late row, so the fast path (no merge) writes them all.
    clean = f.write_dbn(tmp_path / "clean.dbn.zst", META, recs)
    rep = ingest([clean], tmp_path / "clean")[0]
    assert _sizes(tmp_path / "clean") == [1, 1, 3, 5, 7]
    assert (rep.duplicate_records, rep.out_of_order_resorted) == (0, 0)


def test_a_copy_inserted_before_its_original_keeps_the_whole_packet(tmp_path: Path) -> None:
    # A copy of the 3-lot of packet A (1 ms, seq 1) placed first, before a 0.5 ms trade; the
    # packet itself (1, 1, 3) follows. Units of group (1 ms, seq 1): {3} (row 0) and {1, 1, 3}
    # (rows 2-4); the larger unit ranks first, so the lone copy (row 0) is the one dropped and
    # the packet keeps its own order 1, 1, 3.
    recs = [_fill(1, 1, 3), _fill(0, 0, 9), _fill(1, 1, 1), _fill(1, 1, 1), _fill(1, 1, 3)]
    path = f.write_dbn(tmp_path / "t.dbn.zst", META, recs)
    rep = ingest([path], tmp_path / "lake")[0]
    t = pq.read_table(_part(tmp_path / "lake"))
    assert t.column("size").to_pylist() == [9, 1, 1, 3]
    assert t.column("src_row").to_pylist() == [1, 2, 3, 4]
    assert rep.duplicate_records == 1


def test_a_file_and_its_parquet_export_are_stored_once_in_any_order(tmp_path: Path) -> None:
    recs = [_fill(1, 1, 1), _fill(1, 1, 1), _fill(1, 1, 3), _fill(2, 2, 5), _fill(3, 3, 7)]
    dbn = f.write_dbn(tmp_path / "t.dbn.zst", META, recs)
    export = tmp_path / "t.parquet"
    databento.DBNStore.from_file(dbn).to_parquet(export, price_type="fixed")
    parts = []
    for name, order in (("ab", [dbn, export]), ("ba", [export, dbn])):
        lake = tmp_path / name
        reps = [ingest([p], lake)[0] for p in order]
        # 5 records each, all shared: 5 stored, the fill pair still a pair
        assert _sizes(lake) == [1, 1, 3, 5, 7]
        assert [r.overlap_records for r in reps] == [0, 5]
        parts.append(_part(lake).read_bytes())
        footer = json.loads(
            pq.ParquetFile(_part(lake)).metadata.metadata[b"levelreplay.ingest_quality"]
        )
        # counted once, on the entry of the file whose copies were dropped
        assert sorted(e[OVERLAP] for e in footer.values()) == [0, 5]
    assert parts[0] == parts[1]  # the smallest src_key's copy is kept whatever the order


def _table(rows: list[tuple[int, int, int, int, int]]) -> pa.Table:
    """(ts_recv, src_key, src_row, _run, price) rows, already in key order."""
    cols = list(zip(*rows, strict=True))
    return pa.table(
        {
            "ts_recv": pa.array(cols[0], pa.int64()),
            "sequence": pa.array([1] * len(rows), pa.uint32()),
            "src_key": pa.array(cols[1], pa.int64()),
            "src_row": pa.array(cols[2], pa.int64()),
            RUN: pa.array(cols[3], pa.int64()),
            "price": pa.array(cols[4], pa.int64()),
        }
    )


def _dedup(rows: list[tuple[int, int, int, int, int]], cut: int) -> tuple[list, dict]:
    out: list[pa.Table] = []
    dd = Deduper(("ts_recv", "sequence"), out.append)
    t = _table(rows)
    dd.feed(t.slice(0, cut))  # a group split between two batches is held back, then whole
    dd.feed(t.slice(cut))
    dd.finish()
    kept = pa.concat_tables(out)
    return list(zip(kept["src_key"].to_pylist(), kept["src_row"].to_pylist(), strict=True)), (
        dd.drops.counts
    )


def test_units_hold_multisets_across_files() -> None:
    # One group (ts 10, seq 1). File 1 (src_key 1): one packet run with price 7 twice (two
    # fills). File 2 (src_key 2): price 7 three times in one run, then price 8.
    # Identities: file 1 holds (7, rank 0), (7, rank 1);
    # file 2 holds (7, 0), (7, 1), (7, 2), (8, 0).
    # Kept: file 1's two 7s, then file 2's third 7 (rank 2) and its 8; dropped: file 2's ranks
    # 0 and 1 (overlap with file 1): 2 rows.
    rows = [
        (10, 1, 0, -1, 7),
        (10, 1, 1, -1, 7),
        (10, 2, 0, 0, 7),
        (10, 2, 1, 0, 7),
        (10, 2, 2, 0, 7),
        (10, 2, 3, 0, 8),
        (11, 1, 2, -1, 7),  # the next group: one unit, untouched
    ]
    for cut in range(1, len(rows)):
        kept, drops = _dedup(rows, cut)
        assert kept == [(1, 0), (1, 1), (2, 2), (2, 3), (1, 2)]
        assert drops == {(2, OVERLAP, 1): 2}


def test_a_copy_in_the_same_file_is_a_duplicate_even_when_another_file_holds_it() -> None:
    # Group (ts 10): file 1 holds price 7 once; file 2 holds it in run 0 and again in run 5 (a
    # copy). Ranked units: file 1; file 2 run 0; file 2 run 5 (sizes 1, 1, 1: earlier run first).
    # File 2 run 0's 7 is an overlap (file 1 held it); run 5's is a duplicate (file 2 held it).
    # So ingesting file 2 alone first (duplicate 1) then file 1 (overlap 1) counts the same.
    rows = [(10, 1, 0, -1, 7), (10, 2, 0, 0, 7), (10, 2, 5, 5, 7)]
    kept, drops = _dedup(rows, 1)
    assert kept == [(1, 0)]
    assert drops == {(2, OVERLAP, 1): 1, (2, DUPLICATE, 1): 1}


def test_gold_of_a_lake_with_exports_and_copies_equals_the_clean_lake(tmp_path: Path) -> None:
    res = generate_session(tmp_path / "s", minutes=5)
    src = {p.name.split(".")[1]: p for p in res.out_dir.glob("*.dbn.zst")}
    clean = tmp_path / "clean"
    ingest([src["definition"], src["mbp-10"], src["trades"]], clean)
    # The messy lake: every market file also as its Parquet export, and a trades file with
    # 100 of its future's records copied (seeded) to the end.
    messy = tmp_path / "messy"
    exports = []
    for kind in ("mbp-10", "trades"):
        exports.append(tmp_path / f"{kind}.parquet")
        databento.DBNStore.from_file(src[kind]).to_parquet(exports[-1], price_type="fixed")
    store = databento.DBNStore.from_file(src["trades"])
    records = list(store)
    kept_ids = set(pq.read_table(_part(clean)).column("instrument_id").to_pylist())
    ours = [i for i, r in enumerate(records) if r.instrument_id in kept_ids]  # not the spread's
    pick = np.random.default_rng(12).choice(ours, size=100, replace=False)
    copied = f.write_dbn(
        tmp_path / "copied.trades.dbn.zst", store.metadata, records + [records[i] for i in pick]
    )
    ingest([src["definition"], src["mbp-10"], *exports, copied], messy)
    a = replay_to(clean, DATE, tmp_path / "gold-clean")
    b = replay_to(messy, DATE, tmp_path / "gold-messy")
    ma = json.loads(a.manifest.read_text())["deterministic"]
    mb = json.loads(b.manifest.read_text())["deterministic"]
    assert a.rows > 0 and ma["outputs_digest"] == mb["outputs_digest"]
    stored = sum(
        pq.ParquetFile(_part(clean, t)).metadata.num_rows
        for t in ("futures_mbp10", "futures_trades", "option_trades")
        if _part(clean, t).is_file()  # 5 minutes may hold no option trade
    )
    # every stored record of both exports (spreads are excluded, not stored) is shared with a
    # DBN file: informational (stored once); the 100 copies are duplicates: a problem, repaired
    assert mb["data_notes"]["ingest_overlap_records"] == stored
    assert mb["data_quality"]["ingest_duplicate_records"] == 100
    assert ma["data_notes"]["ingest_overlap_records"] == 0
