"""PDH/PDL/PDC come from the same contract's previous trade date, at most 4 calendar days back
(SPEC §5.7), and the partition read is an input of the session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import databento_dbn as d
import pytest

from engines.state.session_context import PriorSession
from replay.lake.ingest import ingest
from replay.run.session import prior_session
from tests import dbn_factory as f
from tests.replay.conftest import ES, T0

ESH6 = 101
MS = 1_000_000
UNITS = 1_000_000_000
FRI = dt.date(2025, 11, 14)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Friday 2025-11-14: ESZ5 trades 6800.25, 6805.00, 6799.50 (in that order), ESH6 6850.00."""
    root = tmp_path_factory.mktemp("prior")
    trades = [
        f.trade(ES, T0 + 1 * MS, 1, 6800.25, 1, "B"),
        f.trade(ES, T0 + 2 * MS, 2, 6805.00, 2, "B"),
        f.trade(ESH6, T0 + 3 * MS, 3, 6850.00, 1, "A"),
        f.trade(ES, T0 + 4 * MS, 4, 6799.50, 1, "A"),
    ]
    meta = f.metadata(d.Schema.TRADES, {"ESZ5": ES, "ESH6": ESH6}, T0, T0 + 3600 * UNITS)
    ingest([f.write_dbn(root / "t.trades.dbn.zst", meta, trades)], root / "lake")
    return root / "lake"


def test_the_previous_session_of_the_same_contract(lake: Path) -> None:
    # Monday 11-17 is 3 days after Friday: PDH 6805.00, PDL 6799.50, PDC the last, 6799.50
    prior, info = prior_session(lake, FRI + dt.timedelta(days=3), ES)
    assert prior == PriorSession(high=6805 * UNITS, low=6799_500_000_000, close=6799_500_000_000)
    assert (
        info is not None and info.path == "bronze/futures_trades/date=2025-11-14/part-00000.parquet"
    )
    assert info.rows == 4 and len(info.sha256) == 64
    # ESH6's own previous session: its single trade at 6850.00
    esh6, _ = prior_session(lake, FRI + dt.timedelta(days=3), ESH6)
    assert esh6 == PriorSession(6850 * UNITS, 6850 * UNITS, 6850 * UNITS)


def test_none_after_a_gap_or_a_roll_or_on_the_first_day(lake: Path) -> None:
    assert prior_session(lake, FRI + dt.timedelta(days=4), ES)[0] is not None  # Tue: 4 days
    assert prior_session(lake, FRI + dt.timedelta(days=5), ES) == (None, None)  # Wed: 5 days
    assert prior_session(lake, FRI + dt.timedelta(days=3), 102) == (None, None)  # a new contract
    assert prior_session(lake, FRI, ES) == (None, None)  # nothing before the first day


def test_day_two_of_a_generated_lake_has_day_one_extremes(tmp_path: Path) -> None:
    """End to end: Monday's PDH/PDL rows sit at Friday's high/low of the primary future (read
    back from Friday's Bronze trades), and Friday's trades partition is an input of Monday."""
    import json

    import numpy as np
    import polars as pl
    import pyarrow.parquet as pq

    from engines.contract.config import EngineConfig
    from replay.gold.layout import gold_file, manifest_file
    from replay.run.replay_job import ReplayJob, replay_session
    from replay.sample import generate_session

    generate_session(tmp_path / "src", minutes=5, days=2)
    ingest(sorted((tmp_path / "src").glob("*.dbn.zst")), tmp_path / "lake")
    mon = FRI + dt.timedelta(days=3)
    cfg = EngineConfig(monitor_band_pts=60.0)  # every level is active: PDH/PDL rows exist
    replay_session(ReplayJob(tmp_path / "lake", mon, tmp_path / "out", cfg))
    fri = pq.read_table(tmp_path / "lake/bronze/futures_trades/date=2025-11-14/part-00000.parquet")
    ids = fri.column("instrument_id").to_numpy()
    primary = int(np.bincount(ids, weights=fri.column("size").to_numpy()).argmax())
    px = fri.column("price").to_numpy()[ids == primary]
    g = pl.read_parquet(gold_file(tmp_path / "out", mon))
    levels = dict(
        g.filter(pl.col("level_kind").is_in(["PDH", "PDL"]))
        .select("level_kind", "level_px")
        .unique()
        .iter_rows()
    )
    assert levels == {"PDH": int(px.max()), "PDL": int(px.min())}
    inputs = json.loads(manifest_file(tmp_path / "out", mon).read_text())["deterministic"]["inputs"]
    assert "bronze/futures_trades/date=2025-11-14/part-00000.parquet" in [i["path"] for i in inputs]
