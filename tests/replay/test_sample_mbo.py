"""``levelreplay sample --schema mbo``: the simulated session's orders, which ingest must rebuild
into the very books the MBP-10 schema of the same seed holds, so both replay to one Gold."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import databento as db
import numpy as np
import pyarrow.parquet as pq
import pytest

from engines.contract.config import EngineConfig
from replay.lake.ingest import ingest
from replay.run.replay_job import ReplayJob, replay_session
from replay.sample import generate_session

DATE = dt.date(2025, 11, 14)
LEVELS = [f"{s}_{k}_{i:02d}" for i in range(10) for s in ("bid", "ask") for k in ("px", "sz", "ct")]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("mbo-sample")
    out = {}
    for schema in ("mbp-10", "mbo"):
        src = root / f"src-{schema}"
        generate_session(src, minutes=8, seed=7, schema=schema)
        ingest(sorted(src.glob("*.dbn.zst")), root / f"lake-{schema}")
        replay_session(
            ReplayJob(root / f"lake-{schema}", DATE, root / f"gold-{schema}", EngineConfig())
        )
        out[schema] = root
    return out


def _gold(root: Path, schema: str) -> bytes:
    return (root / f"gold-{schema}/gold/levels_signals/date={DATE}/part-00000.parquet").read_bytes()


def test_mbo_file_holds_orders_and_no_depth_or_trades_file(both: dict[str, Path]) -> None:
    root = both["mbo"]
    names = sorted(p.name.split(".")[1] for p in (root / "src-mbo").glob("*.dbn.zst"))
    assert names == ["definition", "mbo", "opt-trades"]
    store = db.DBNStore.from_file(root / "src-mbo" / "glbx-mdp3-20251114.mbo.dbn.zst")
    assert store.schema == db.Schema.MBO
    recs = store.to_ndarray()
    acts = set(recs["action"].tolist())
    assert {b"A", b"C", b"M", b"T", b"F"} <= acts
    # one event per MBP-10 record: as many F_LAST records as the MBP-10 file has non-T records
    mbp = db.DBNStore.from_file(root / "src-mbp-10" / "glbx-mdp3-20251114.mbp-10.dbn.zst")
    depth = mbp.to_ndarray()
    n_book = int(np.count_nonzero(depth["action"] != b"T"))
    assert int(np.count_nonzero(recs["flags"] & 128)) == n_book
    assert int(np.count_nonzero(recs["action"] == b"T")) == len(depth) - n_book


def test_the_rebuilt_books_are_the_simulated_books(both: dict[str, Path]) -> None:
    root = both["mbo"]
    part = f"bronze/futures_mbp10/date={DATE}/part-00000.parquet"
    a = pq.read_table(root / "lake-mbp-10" / part, columns=["ts_recv", "sequence", *LEVELS])
    b = pq.read_table(root / "lake-mbo" / part, columns=["ts_recv", "sequence", *LEVELS])
    assert a.num_rows == b.num_rows > 10_000
    assert a.equals(b)
    trades = f"bronze/futures_trades/date={DATE}/part-00000.parquet"
    cols = ["ts_recv", "sequence", "price", "size", "side", "flags"]
    assert pq.read_table(root / "lake-mbp-10" / trades, columns=cols).equals(
        pq.read_table(root / "lake-mbo" / trades, columns=cols)
    )


def test_both_schemas_replay_to_byte_identical_gold(both: dict[str, Path]) -> None:
    root = both["mbo"]
    assert _gold(root, "mbo") == _gold(root, "mbp-10")
    man = json.loads(
        (root / f"gold-mbo/gold/_manifests/levels_signals/date={DATE}.json").read_text()
    )
    dq = man["deterministic"]["data_quality"]
    # the generated file starts mid-stream (no snapshot): the outright's and the spread's books
    # both started empty, and nothing else in the order stream was inconsistent
    assert {k: v for k, v in dq.items() if k.startswith("ingest_mbo_") and v} == {
        "ingest_mbo_book_started_empty": 2
    }
    plain = json.loads(
        (root / f"gold-mbp-10/gold/_manifests/levels_signals/date={DATE}.json").read_text()
    )
    assert not any(k.startswith("ingest_mbo_") for k in plain["deterministic"]["data_quality"])
