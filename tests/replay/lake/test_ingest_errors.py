"""Bad input through the CLI (SPEC §8): exit 2, one clear message naming the file, what was wrong
and what was expected, no traceback, and no partition left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import databento_dbn as d
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from typer.testing import CliRunner

from replay.cli import app
from tests import dbn_factory as f
from tests.replay.conftest import ES, T0, Session

runner = CliRunner()


def _run(paths: list[Path], lake: Path):
    res = runner.invoke(app, ["ingest", *map(str, paths), "--lake", str(lake)])
    out = res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), out
    assert "Traceback" not in out
    return res.exit_code, out


def _partitions(lake: Path) -> list[str]:
    """Every file of the lake but its lock files (empty, taken and released by each ingest)."""
    root = lake / "bronze"
    if not root.exists():
        return []
    locks = root / "_staging" / "locks"
    files = (p for p in root.rglob("*") if p.is_file() and p.parent != locks)
    return sorted(str(p.relative_to(root)) for p in files)


def _expect_refusal(paths: list[Path], lake: Path, *needles: str) -> str:
    before = _partitions(lake)
    code, out = _run(paths, lake)
    assert code == 2, out
    for n in needles:
        assert n in out, (n, out)
    assert _partitions(lake) == before  # nothing partial, nothing staged
    return out


def test_truncated_uncompressed_file(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "cut.trades.dbn"
    data = session.trades.read_bytes()
    bad.write_bytes(data[: len(data) - 20])  # 48-byte records: the last one loses 20 bytes
    out = _expect_refusal([bad], tmp_path / "lake", "cut.trades.dbn", "truncated", "record 7")
    assert "whole trades records of 48 bytes" in out


def test_truncated_zstd_file(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "cut.mbp-10.dbn.zst"
    data = session.mbp10.read_bytes()
    bad.write_bytes(data[: len(data) // 2 + 10])
    _expect_refusal([bad], tmp_path / "lake", "cut.mbp-10.dbn.zst", "truncated")


def test_corrupt_zstd_file(session: Session, tmp_path: Path) -> None:
    # A valid zstd frame header followed by garbage blocks.
    raw = session.mbp10.read_bytes()
    bad = tmp_path / "corrupt.dbn.zst"
    bad.write_bytes(raw[:12] + bytes((b ^ 0x5A) for b in raw[12:]))
    out = _expect_refusal([bad], tmp_path / "lake", "corrupt.dbn.zst")
    assert "zstd" in out or "DBN" in out


def test_file_that_is_not_dbn(tmp_path: Path) -> None:
    bad = tmp_path / "notes.dbn"
    bad.write_text("symbol,price\nESZ5,6800\n")
    _expect_refusal(
        [bad], tmp_path / "lake", "notes.dbn", "not a DBN file", "expected Databento DBN"
    )


def test_wrong_dataset(tmp_path: Path) -> None:
    recs = [f.trade(ES, T0, 1, 6800.0, 1, "B")]
    bad = f.write_dbn(
        tmp_path / "xnas.trades.dbn.zst",
        f.metadata(d.Schema.TRADES, {"ESZ5": ES}, T0, T0 + 1, dataset="XNAS.ITCH"),
        recs,
    )
    _expect_refusal([bad], tmp_path / "lake", "xnas.trades.dbn.zst", "'XNAS.ITCH'", "'GLBX.MDP3'")


def test_unsupported_schema(tmp_path: Path) -> None:
    rec = d.MBP1Msg(
        publisher_id=1,
        instrument_id=ES,
        ts_event=T0,
        price=6800 * f.PX,
        size=1,
        action=d.Action("A"),
        side=d.Side("B"),
        depth=0,
        ts_recv=T0,
        flags=d.F_LAST,
        sequence=1,
    )
    bad = f.write_dbn(
        tmp_path / "es.mbp-1.dbn.zst", f.metadata(d.Schema.MBP_1, {"ESZ5": ES}, T0, T0 + 1), [rec]
    )
    _expect_refusal(
        [bad],
        tmp_path / "lake",
        "es.mbp-1.dbn.zst",
        "schema mbp-1 is not supported",
        "mbp-10, mbo, trades, definition",
    )


def _parquet_trades(
    path: Path, drop: str | None = None, retype: tuple[str, pa.DataType] | None = None
) -> Path:
    cols = {
        "ts_event": pa.array([T0], pa.uint64()),
        "rtype": pa.array([0], pa.uint8()),
        "publisher_id": pa.array([1], pa.uint16()),
        "instrument_id": pa.array([ES], pa.uint32()),
        "action": pa.array(["T"]),
        "side": pa.array(["B"]),
        "depth": pa.array([0], pa.uint8()),
        "price": pa.array([6800 * f.PX], pa.int64()),
        "size": pa.array([1], pa.uint32()),
        "flags": pa.array([0], pa.uint8()),
        "ts_in_delta": pa.array([0], pa.int32()),
        "sequence": pa.array([1], pa.uint32()),
        "symbol": pa.array(["ESZ5"]),
        "ts_recv": pa.array([T0], pa.uint64()),
    }
    if drop:
        cols.pop(drop)
    if retype:
        name, typ = retype
        cols[name] = pa.array([6800.0], typ)
    pq.write_table(pa.table(cols), path)
    return path


def test_parquet_ok_then_missing_and_mistyped_columns(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    good = _parquet_trades(tmp_path / "good.parquet")
    code, out = _run([good], lake)
    assert code == 0, out
    missing = _parquet_trades(tmp_path / "missing.parquet", drop="sequence")
    _expect_refusal([missing], lake, "missing.parquet", "column 'sequence' is missing", "uint32")
    mistyped = _parquet_trades(tmp_path / "float.parquet", retype=("price", pa.float64()))
    _expect_refusal(
        [mistyped], lake, "float.parquet", "column 'price' has type double", "int64 fixed-point"
    )


def test_bad_files_among_good_ones_write_nothing_and_the_good_ones_commit(
    session: Session, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    bad = tmp_path / "cut.trades.dbn"
    data = session.trades.read_bytes()
    bad.write_bytes(data[:-5])
    junk = tmp_path / "junk.dbn"
    junk.write_bytes(b"not a DBN file")
    code, out = _run([session.definitions, bad, junk, session.mbp10], lake)
    # Each file is its own unit: the two bad ones are reported, the two good ones committed.
    assert code == 2, out
    assert "cut.trades.dbn: FAILED, nothing committed:" in out
    assert "junk.dbn: FAILED, nothing committed:" in out
    assert "2 of 4 file(s) failed" in out
    # the committed files are named by their paths as given (two folders may hold one name)
    assert f"committed: {session.definitions}, {session.mbp10}" in " ".join(out.split())
    assert (lake / "bronze" / "futures_mbp10").is_dir()
    assert not (lake / "bronze" / "futures_trades").exists()
    staged = lake / "bronze" / "_staging"
    assert [p.name for p in staged.iterdir()] == ["locks"]  # no staged rows, only the locks


def test_missing_path_and_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    env = dict(os.environ)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "replay.cli",
            "ingest",
            str(tmp_path / "nope.dbn.zst"),
            "--lake",
            str(tmp_path / "lake"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert "nope.dbn.zst: no such file" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("name", ["empty.dbn"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    p = tmp_path / name
    p.write_bytes(b"")
    _expect_refusal([p], tmp_path / "lake", name, "empty")


def test_zstd_of_something_else(tmp_path: Path) -> None:
    p = tmp_path / "csv.dbn.zst"
    p.write_bytes(zstandard.ZstdCompressor().compress(b"a,b,c\n1,2,3\n"))
    _expect_refusal([p], tmp_path / "lake", "csv.dbn.zst", "DBN header")
