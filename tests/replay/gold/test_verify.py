"""`verify` tells Gold drift from provenance-only differences, refuses what is not a complete Gold
run (exit 2), and the Gold table is readable as a hive-partitioned dataset (SPEC §3.2, §3.3)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from engines.contract.config import EngineConfig
from replay.cli import app
from replay.common.hashing import sha256_file
from replay.gold.layout import gold_file, manifest_file, table_dir
from replay.gold.manifest import build_manifest, outputs_digest
from replay.gold.schema import GOLD
from replay.gold.verify import DRIFT, PROVENANCE, NotAGoldRun, compare
from replay.lake.ingest import ingest
from replay.run.replay_job import ReplayJob, replay_session
from replay.sample import generate_session

DATE = dt.date(2025, 11, 14)
KEY = "gold/levels_signals/date=2025-11-14/part-00000.parquet"
runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("verify")
    generate_session(root / "src", minutes=3, days=2)
    ingest(sorted((root / "src").glob("*.dbn.zst")), root / "lake")
    for d in (DATE, DATE + dt.timedelta(days=3)):  # 2025-11-14 (Fri) and 2025-11-17 (Mon)
        replay_session(ReplayJob(root / "lake", d, root / "a", EngineConfig()))
    return root / "lake", root / "a"


def _rewrite_gold(out: Path, column: str, row: int, delta: float) -> None:
    """Change one value and re-record the file in its manifest (a consistent, drifted run)."""
    path = gold_file(out, DATE)
    t = pq.read_table(path)
    vals = t.column(column).to_pylist()
    vals[row] += delta
    t = t.set_column(t.schema.get_field_index(column), column, pa.array(vals)).cast(GOLD)
    pq.write_table(t, path, row_group_size=8)  # several row groups
    m = json.loads(manifest_file(out, DATE).read_text())
    det = m["deterministic"]
    det["outputs"][KEY] = sha256_file(path)
    det["outputs_digest"] = outputs_digest(det["outputs"])
    manifest_file(out, DATE).write_text(json.dumps(build_manifest(det, m["run"])))


def test_identical_runs_exit_0(run: tuple[Path, Path], tmp_path: Path) -> None:
    lake, out = run
    replay_session(ReplayJob(lake, DATE, tmp_path / "b", EngineConfig(), chunk_events=501))
    assert (
        compare(out / "gold/_manifests/levels_signals/date=2025-11-14.json", tmp_path / "b") == []
    )
    res = runner.invoke(app, ["verify", str(gold_file(out, DATE)), str(tmp_path / "b")])
    assert res.exit_code == 0 and "identical" in res.output


def test_drift_names_file_row_group_row_column_values_snap_and_level(
    run: tuple[Path, Path], tmp_path: Path
) -> None:
    _, out = run
    shutil.copytree(out, tmp_path / "b")
    _rewrite_gold(tmp_path / "b", "break_score_raw", 17, 1.0)
    t = pq.read_table(gold_file(out, DATE))
    old = t.column("break_score_raw")[17].as_py()
    ts, level = t.column("ts_ns")[17].as_py(), t.column("level_id")[17].as_py()
    stamp = dt.datetime.fromtimestamp(ts / 1e9, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    diffs = compare(out, tmp_path / "b")
    assert [d.kind for d in diffs] == [DRIFT]  # 11-17 is identical; only 11-14 drifted
    # the row group is A's (one group: 3 minutes is far below 32 Ki rows)
    text = str(diffs[0])
    assert f"{KEY}: row group 0, row 17 (17 in the group), column break_score_raw" in text
    assert f"{old!r} vs {old + 1.0!r}" in text and stamp in text and f"level {level}" in text
    res = runner.invoke(app, ["verify", str(out), str(tmp_path / "b")])
    assert res.exit_code == 1 and "Gold drift" in res.output and "row 17" in res.output


def test_provenance_only_names_the_config_key(run: tuple[Path, Path], tmp_path: Path) -> None:
    """display_ratio scales the payload only (SPEC §5.0): the Gold bytes stay, the config not."""
    lake, out = run
    cfg = EngineConfig(display_ratio=0.5)
    replay_session(ReplayJob(lake, DATE, tmp_path / "b", cfg))
    diffs = compare(out / "gold/_manifests/levels_signals/date=2025-11-14.json", tmp_path / "b")
    assert [d.kind for d in diffs] == [PROVENANCE]
    assert "Gold identical" in str(diffs[0]) and "display_ratio 1.0 vs 0.5" in str(diffs[0])
    res = runner.invoke(app, ["verify", str(out), str(tmp_path / "b")])
    assert res.exit_code == 1 and "provenance only" in res.output
    assert "session 2025-11-17 is not in" in res.output  # B has one session only


def test_not_a_gold_run_or_an_incomplete_one_exits_2(
    run: tuple[Path, Path], tmp_path: Path
) -> None:
    _, out = run
    (tmp_path / "x.txt").write_text("hello")
    for bad in (tmp_path / "x.txt", tmp_path / "missing", tmp_path):
        res = runner.invoke(app, ["verify", str(out), str(bad)])
        assert res.exit_code == 2 and "Traceback" not in res.output, bad
    shutil.copytree(out, tmp_path / "b")
    pq.write_table(pq.read_table(gold_file(out, DATE)).slice(0, 5), gold_file(tmp_path / "b", DATE))
    with pytest.raises(NotAGoldRun, match="incomplete session 2025-11-14"):
        compare(out, tmp_path / "b")  # a Gold file its manifest does not record
    manifest_file(tmp_path / "b", DATE).write_text("{not json")
    res = runner.invoke(app, ["verify", str(out), str(tmp_path / "b")])
    assert res.exit_code == 2 and "unreadable manifest" in res.output


def test_gold_reads_as_a_hive_dataset(run: tuple[Path, Path]) -> None:
    """Nothing but Parquet in the table: polars and pyarrow.dataset read every session."""
    _, out = run
    rows = {
        p.stem.removeprefix("date="): json.loads(p.read_text())["deterministic"]["rows"]
        for p in (out / "gold/_manifests/levels_signals").glob("*.json")
    }
    df = pl.scan_parquet(table_dir(out), hive_partitioning=True).collect()
    by_date = dict(df.group_by("date").len().iter_rows())
    assert {str(k): v for k, v in by_date.items()} == rows and len(rows) == 2
    t = ds.dataset(table_dir(out), format="parquet", partitioning="hive").to_table()
    assert t.num_rows == sum(rows.values())
