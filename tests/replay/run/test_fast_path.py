"""The fast engine (numba snap kernel) against the reference engine: same Gold bytes, same
manifest digest (both are produced by one code version, so ``code_digest`` agrees)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import databento_dbn as d
import pytest

from engines.contract.config import EngineConfig
from replay.gold.layout import manifest_file
from replay.lake.ingest import ingest
from replay.run.replay_job import ReplayJob, replay_session
from replay.sample import generate_session
from tests import dbn_factory as f
from tests.replay.conftest import ASKS, BIDS, ES, T0
from tests.replay.run.test_replay_determinism import _tiny_lake

DATE = dt.date(2025, 11, 14)
ROOT = Path(__file__).resolve().parents[3]
MS = 1_000_000


def _gold(out: Path) -> bytes:
    return (out / "gold/levels_signals/date=2025-11-14/part-00000.parquet").read_bytes()


def _digest(out: Path) -> str:
    m = json.loads(manifest_file(out, DATE).read_text())
    return m["deterministic"]["digest"]


def _assert_engines_agree(lake: Path, tmp: Path, chunk_events: int | None = None) -> int:
    cfg = EngineConfig()
    ref = replay_session(ReplayJob(lake, DATE, tmp / "ref", cfg, engine="reference"))
    fast = replay_session(
        ReplayJob(lake, DATE, tmp / "fast", cfg, engine="fast", chunk_events=chunk_events)
    )
    assert (fast.rows, fast.snaps, fast.events) == (ref.rows, ref.snaps, ref.events)
    assert _gold(tmp / "fast") == _gold(tmp / "ref")
    assert fast.digest == ref.digest
    return ref.rows


def _ingested(src: Path, lake: Path) -> Path:
    ingest(sorted(src.glob("*.dbn.zst")), lake)
    return lake


@pytest.mark.slow
def test_embedded_sample(tmp_path: Path) -> None:
    lake = _ingested(ROOT / "data" / "sample", tmp_path / "lake")
    assert _assert_engines_agree(lake, tmp_path) > 0


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("LEVELREPLAY_SLOW"), reason="make test-slow")
def test_generated_hour(tmp_path: Path) -> None:
    """In ``make test-slow``; ``make test`` runs the embedded 30-minute sample above."""
    generate_session(tmp_path / "src", seed=11, minutes=60)
    lake = _ingested(tmp_path / "src", tmp_path / "lake")
    assert _assert_engines_agree(lake, tmp_path) > 10_000


def test_event_on_a_snap_boundary_without_option_trades(tmp_path: Path) -> None:
    lake = _tiny_lake(tmp_path)
    assert _assert_engines_agree(lake, tmp_path) > 0


def test_mbp10_only_session_trades_from_t_records(tmp_path: Path) -> None:
    bids2 = [(px, sz + 5) for px, sz in BIDS]
    recs = [
        f.mbp10(ES, T0 + 1 * MS, 1, "A", "B", 6800.0, 10, BIDS, ASKS),
        f.mbp10(ES, T0 + 250 * MS, 2, "T", "B", 6800.25, 3, BIDS, ASKS),
        f.mbp10(ES, T0 + 400 * MS, 3, "T", "A", 6800.0, 2, bids2, ASKS),
        f.mbp10(ES, T0 + 1300 * MS, 4, "C", "A", 6800.5, 1, bids2, ASKS[1:] + ASKS[-1:]),
        f.mbp10(ES, T0 + 5_000 * MS, 5, "T", "B", 6800.25, 7, bids2, ASKS),
    ]
    src = tmp_path / "src"
    src.mkdir()
    meta = f.metadata(d.Schema.MBP_10, {"ESZ5": ES}, T0, T0 + 3600 * 10**9)
    f.write_dbn(src / "m.mbp-10.dbn.zst", meta, recs)
    lake = _ingested(src, tmp_path / "lake")
    assert _assert_engines_agree(lake, tmp_path) > 0


@pytest.mark.slow
def test_fast_path_chunk_size_invariance(tmp_path: Path) -> None:
    generate_session(tmp_path / "src", minutes=5)
    lake = _ingested(tmp_path / "src", tmp_path / "lake")
    cfg = EngineConfig()
    digests, golds = set(), set()
    for chunk in (None, 997, 1):
        out = tmp_path / f"c{chunk}"
        replay_session(ReplayJob(lake, DATE, out, cfg, engine="fast", chunk_events=chunk))
        digests.add(_digest(out))
        golds.add(_gold(out))
    assert len(digests) == 1 and len(golds) == 1
