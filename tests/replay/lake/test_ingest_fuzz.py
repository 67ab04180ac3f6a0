"""Fuzzing ingest with mutated DBN and Parquet inputs (SPEC §8), for a bounded number of examples:
the only outcomes are a clean ingest (exit 0: the mutation produced valid records) or the clean
error (exit 2 naming the file) — never a traceback, a hang or a partial partition."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from replay.cli import app
from tests.replay.conftest import build_session

runner = CliRunner()
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure reproduces
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

Mutation = tuple[str, int, int]  # (kind, position, value)
mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "cut", "insert", "zero"]),
        st.integers(0, 1 << 20),
        st.integers(0, 255),
    ),
    min_size=1,
    max_size=4,
)


def _mutate(data: bytes, muts: list[Mutation]) -> bytes:
    b = bytearray(data)
    for kind, pos, val in muts:
        i = pos % max(len(b), 1)
        if kind == "flip" and b:
            b[i] ^= val or 1
        elif kind == "cut":
            del b[i:]
        elif kind == "insert":
            b[i:i] = bytes([val]) * (1 + val % 7)
        elif kind == "zero" and b:
            b[i : i + 8] = bytes(min(8, len(b) - i))
    return bytes(b)


def _ingest_outcome(path: Path, root: Path) -> None:
    lake = root / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    res = runner.invoke(app, ["ingest", str(path), "--lake", str(lake)])
    assert "Traceback" not in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code in (0, 2), res.output
    if res.exit_code == 2:
        assert path.name in res.output
    for part in lake.rglob("part-00000.parquet") if lake.exists() else []:
        pq.read_metadata(part)  # whatever was committed is whole


@SETTINGS
@given(muts=mutations)
def test_mutated_dbn(tmp_path_factory: pytest.TempPathFactory, muts: list[Mutation]) -> None:
    root = tmp_path_factory.mktemp("fuzz-dbn")
    s = build_session(root / "src")
    data = s.trades.read_bytes()  # uncompressed DBN: mutations reach the records
    bad = root / "mutated.trades.dbn"
    bad.write_bytes(_mutate(data, muts))
    _ingest_outcome(bad, root)


@SETTINGS
@given(muts=mutations)
def test_mutated_parquet(tmp_path_factory: pytest.TempPathFactory, muts: list[Mutation]) -> None:
    root = tmp_path_factory.mktemp("fuzz-parquet")
    s = build_session(root / "src")
    lake = root / "seed"
    runner.invoke(app, ["ingest", str(s.definitions), str(s.trades), "--lake", str(lake)])
    t = pq.read_table(next(lake.rglob("futures_trades/*/part-00000.parquet")))
    t = t.drop_columns(["src_key", "src_row"])
    for name in ("ts_recv", "ts_event"):
        t = t.set_column(t.schema.get_field_index(name), name, t.column(name).cast(pa.uint64()))
    good = root / "export.trades.parquet"
    pq.write_table(t, good, compression="none")  # uncompressed: mutations reach the values
    bad = root / "mutated.trades.parquet"
    bad.write_bytes(_mutate(good.read_bytes(), muts))
    _ingest_outcome(bad, root)
