"""A Bronze partition edited or re-ordered after ingest is detected, never replayed silently
(SPEC §8): its bytes against the sha256 ingest recorded, its rows against the partition order."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from replay.cli import app
from replay.lake.ingest import ingest
from replay.lake.partition_digest import sidecar
from replay.sample import generate_session

runner = CliRunner()
PART = "bronze/futures_trades/date=2025-11-14/part-00000.parquet"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bronze-checks")
    src = generate_session(root / "src", minutes=3)
    ingest(sorted(src.files), root / "lake")
    return root / "lake"


def _shuffled(lake: Path, tmp_path: Path) -> Path:
    bad = tmp_path / "lake"
    shutil.copytree(lake, bad)
    p = bad / PART
    t = pq.read_table(p)
    order = np.random.default_rng(1).permutation(t.num_rows)  # seeded: the same every run
    pq.write_table(t.take(pa.array(order)), p)
    return bad


def _replay(lake: Path, out: Path) -> tuple[int, str]:
    args = ["replay", "--lake", str(lake), "--date", "2025-11-14", "--out", str(out)]
    res = runner.invoke(app, args)
    assert "Traceback" not in res.output
    return res.exit_code, res.output


def test_an_edited_partition_is_refused_by_its_recorded_sha256(lake: Path, tmp_path: Path) -> None:
    bad = _shuffled(lake, tmp_path)
    code, out = _replay(bad, tmp_path / "out")
    assert code == 2 and f"{bad / PART}: changed since it was written" in out, out
    assert not (tmp_path / "out" / "gold" / "levels_signals").exists()


def test_a_reordered_partition_without_a_record_is_refused_by_its_order(
    lake: Path, tmp_path: Path
) -> None:
    bad = _shuffled(lake, tmp_path)
    sidecar(bad / PART).unlink()  # no record to compare with: the order check still holds
    code, out = _replay(bad, tmp_path / "out")
    assert code == 2 and "rows out of ts_recv order" in out and PART in out, out
