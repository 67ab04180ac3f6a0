"""Determinism of replay (SPEC §3.3): chunk sizes, processes, PYTHONHASHSEED, snap boundaries,
no look-ahead."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import databento_dbn as d
import polars as pl
import pytest

from engines.contract.config import EngineConfig
from replay.gold.layout import manifest_file
from replay.gold.verify import compare
from replay.lake.ingest import ingest
from replay.run.replay_job import ReplayJob, replay_session
from replay.sample import generate_session
from tests import dbn_factory as f
from tests.replay.conftest import ASKS, BIDS, ES, T0

DATE = dt.date(2025, 11, 14)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("det")
    generate_session(root / "src", minutes=5)
    ingest(sorted((root / "src").glob("*.dbn.zst")), root / "lake")
    return root / "lake"


def _gold_bytes(out: Path) -> bytes:
    return (out / "gold/levels_signals/date=2025-11-14/part-00000.parquet").read_bytes()


def _digest(out: Path) -> str:
    m = json.loads(manifest_file(out, DATE).read_text())
    return m["deterministic"]["digest"]


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("LEVELREPLAY_SLOW"), reason="make test-slow")
def test_gold_is_byte_identical_for_any_chunk_size(tmp_path: Path) -> None:
    """The embedded 30-minute sample (181 k events), replayed with 7, 997, 10 000 and unlimited
    events per engine call: the same Gold bytes and manifest digest every time. (One event per
    call costs ~0.5 ms of Python per event, 5 minutes here; it is tested on a 5-minute session
    in test_fast_path.) In ``make test-slow``: ``make test`` runs the short version,
    test_fast_path's chunk-size invariance on a 5-minute session."""
    lake = tmp_path / "lake"
    ingest(sorted((ROOT / "data" / "sample").glob("*.dbn.zst")), lake)
    cfg = EngineConfig()
    outs = []
    for chunk in (None, 10_000, 997, 7):
        out = tmp_path / f"c{chunk}"
        res = replay_session(ReplayJob(lake, DATE, out, cfg, chunk_events=chunk))
        assert res.rows > 0
        outs.append(out)
    ref = _gold_bytes(outs[0])
    for out in outs[1:]:
        assert _gold_bytes(out) == ref, out
        assert _digest(out) == _digest(outs[0])
        assert compare(outs[0], out) == []


@pytest.mark.slow
def test_gold_is_identical_across_processes_and_hash_seeds(lake: Path, tmp_path: Path) -> None:
    outs = []
    for seed in ("0", "1"):
        out = tmp_path / f"seed{seed}"
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run(
            [sys.executable, "-m", "replay.cli", "replay", "--lake", str(lake)]
            + ["--date", "2025-11-14", "--out", str(out), "--chunk-events", "5000"],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    assert _gold_bytes(outs[0]) == _gold_bytes(outs[1])
    assert _digest(outs[0]) == _digest(outs[1])


def _tiny_lake(root: Path, extra_trades: list | None = None) -> Path:
    """Two-sided book at 08:30:00.001 CT, trades at chosen times; ingested into a lake."""
    ms = 1_000_000
    mbp = [f.mbp10(ES, T0 + 1 * ms, 1, "A", "B", 6800.0, 10, BIDS, ASKS)]
    trades = [
        # exactly on the snap boundary T0 + 250 ms: belongs to snap 1 (T_1 = T_0 + 250 ms)
        f.trade(ES, T0 + 250 * ms, 2, 6800.25, 1, "B"),
        f.trade(ES, T0 + 251 * ms, 3, 6800.0, 1, "A"),
        *(extra_trades or []),
    ]
    span = (T0, T0 + 3600 * 10**9)
    src = root / "src"
    src.mkdir(parents=True)
    p1 = f.write_dbn(
        src / "m.mbp-10.dbn.zst", f.metadata(d.Schema.MBP_10, {"ESZ5": ES}, *span), mbp
    )
    p2 = f.write_dbn(
        src / "t.trades.dbn.zst", f.metadata(d.Schema.TRADES, {"ESZ5": ES}, *span), trades
    )
    ingest([p1, p2], root / "lake")
    return root / "lake"


def test_event_exactly_at_a_snap_belongs_to_that_snap(tmp_path: Path) -> None:
    lake = _tiny_lake(tmp_path)
    replay_session(ReplayJob(lake, DATE, tmp_path / "out", EngineConfig()))
    df = pl.read_parquet(tmp_path / "out/gold/levels_signals/date=2025-11-14/part-00000.parquet")
    spot = dict(df.group_by("snap_index").agg(pl.col("spot_px").first()).iter_rows())
    # First primary event at T0 + 1 ms -> T_0 = T0 + 250 ms (first multiple of 250 ms at or after).
    # Snap 0 (T0+250ms) sees the book and the trade at exactly T0+250ms: spot = 6800.25.
    # Snap 1 (T0+500ms) sees the trade at T0+251ms: spot = 6800.00.
    assert spot[0] == 6800_250_000_000
    assert spot[1] == 6800_000_000_000
    assert df["ts_ns"].min() == T0 + 250_000_000


def test_appending_future_events_does_not_change_earlier_rows(tmp_path: Path) -> None:
    base = _tiny_lake(tmp_path / "a")
    later = [
        f.trade(ES, T0 + 5_000_000_000 + k * 1_000_000, 10 + k, 6799.0 - 0.25 * k, 50, "A")
        for k in range(8)
    ]
    more = _tiny_lake(tmp_path / "b", later)
    replay_session(ReplayJob(base, DATE, tmp_path / "oa", EngineConfig()))
    replay_session(ReplayJob(more, DATE, tmp_path / "ob", EngineConfig()))
    a = pl.read_parquet(tmp_path / "oa/gold/levels_signals/date=2025-11-14/part-00000.parquet")
    b = pl.read_parquet(tmp_path / "ob/gold/levels_signals/date=2025-11-14/part-00000.parquet")
    # The base session ends at T0+251ms (last snap T0+500ms); the extra prints start at T0+5s, so
    # every row of the base run must appear unchanged at the start of the longer run.
    cut = T0 + 5_000_000_000
    assert a.filter(pl.col("ts_ns") < cut).equals(b.filter(pl.col("ts_ns") <= a["ts_ns"].max()))
    assert b.height > a.height


@pytest.mark.slow
def test_no_snap_reads_an_event_after_its_time(lake: Path, tmp_path: Path) -> None:
    """Cut the 5-minute sample at 08:32:00 CT; every Gold row at or before the cut must be the same
    as in the full session's replay (the full run knows the future; no row may use it)."""
    import databento as db
    import zstandard

    src = lake.parent / "src"
    cut = f.ns("2025-11-14T14:32:00+00:00")
    short = tmp_path / "short"
    short.mkdir()
    for p in sorted(src.glob("*.dbn.zst")):
        store = db.DBNStore.from_file(p)
        recs = store.to_ndarray()
        recs = recs[recs["ts_recv"] <= cut]
        body = store.metadata.encode() + recs.tobytes()
        (short / p.name).write_bytes(zstandard.ZstdCompressor().compress(body))
    ingest(sorted(short.glob("*.dbn.zst")), tmp_path / "lake_short")
    replay_session(ReplayJob(tmp_path / "lake_short", DATE, tmp_path / "os", EngineConfig()))
    replay_session(ReplayJob(lake, DATE, tmp_path / "of", EngineConfig()))
    s = pl.read_parquet(tmp_path / "os/gold/levels_signals/date=2025-11-14/part-00000.parquet")
    full = pl.read_parquet(tmp_path / "of/gold/levels_signals/date=2025-11-14/part-00000.parquet")
    s_cut = s.filter(pl.col("ts_ns") <= cut)
    assert s_cut.height > 1000
    assert s_cut.equals(full.filter(pl.col("ts_ns") <= cut))
