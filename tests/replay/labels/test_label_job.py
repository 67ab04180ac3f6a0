"""``levelreplay label`` end to end on generated sessions: the table and its manifest, the same
bytes for any batch size and executor, labels that need nothing past T + H, MBP-10 ``T`` records
as the trades when a session has no trades stream, and stale labels named (SPEC §10.1)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import struct
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
import zstandard
from typer.testing import CliRunner

from replay.api import read_outcomes, replay_to
from replay.cli import app
from replay.labels.config import LabelConfig
from replay.labels.job import CURRENT, STALE, LabelJob, label_session, label_state
from replay.labels.layout import outcomes_file, outcomes_manifest
from replay.labels.outcomes import label_rows
from replay.labels.schema import LEVEL_OUTCOMES, OUTCOMES
from replay.lake.ingest import ingest
from replay.sample import generate_session

DAY = dt.date(2025, 11, 14)
T0 = 1_763_130_600 * 10**9  # 2025-11-14 08:30 CT: the sample's first snap
runner = CliRunner()


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labels")
    generate_session(root / "src", minutes=10)
    return root / "src"


@pytest.fixture(scope="module")
def run(src: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(lake, out): the 10-minute session ingested, replayed and labelled with the CLI."""
    root = tmp_path_factory.mktemp("run")
    ingest(sorted(src.glob("*.dbn.zst")), root / "lake")
    replay_to(root / "lake", DAY, root / "out")
    args = ["label", "--lake", str(root / "lake"), "--gold", str(root / "out")]
    res = runner.invoke(app, [*args, "--date", DAY.isoformat()])
    assert res.exit_code == 0, res.output
    return root / "lake", root / "out"


def _bronze_trades(lake: Path, table: str = "futures_trades") -> pl.DataFrame:
    p = lake / f"bronze/{table}/date={DAY}/part-00000.parquet"
    return pl.read_parquet(p)


def test_one_row_per_gold_row_and_horizon_in_gold_order(run: tuple[Path, Path]) -> None:
    _, out = run
    gold = pl.read_parquet(out / f"gold/levels_signals/date={DAY}/part-00000.parquet")
    lab = read_outcomes(out, DAY)
    assert pq.read_schema(outcomes_file(out, DAY)).equals(LEVEL_OUTCOMES)
    assert lab.height == 4 * gold.height  # horizons 30, 60, 120, 300
    assert lab["horizon_s"].head(4).to_list() == [30, 60, 120, 300]
    keys = ["ts_ns", "level_px", "level_id", "horizon_s"]
    assert lab.select(keys).equals(lab.select(keys).sort(keys))
    joined = gold.join(lab.filter(pl.col("horizon_s") == 60), on=["ts_ns", "level_id"])
    assert joined.height == gold.height  # joins Gold on (ts_ns, level_id)
    assert set(lab["outcome"].unique()) <= set(OUTCOMES)
    far = lab.filter(pl.col("outcome") == "FAR")
    assert far.height and far["mfe_pts"].null_count() == far.height
    assert (far["label_end_ns"] == far["ts_ns"]).all()
    done = lab.filter(pl.col("outcome").is_in(["BREAK", "REJECT"]))
    assert done["t_hit_ms"].null_count() == 0
    assert (done["label_end_ns"] - done["ts_ns"] == (done["t_hit_ms"] * 1e6).round()).all()
    det = pl.read_json(outcomes_manifest(out, DAY)).to_dicts()[0]["deterministic"]
    gman = pl.read_json(out / f"gold/_manifests/levels_signals/date={DAY}.json").to_dicts()[0]
    assert det["gold_outputs_digest"] == gman["deterministic"]["outputs_digest"]
    assert det["labels_sha256"] == LabelConfig().sha256()


def test_rows_are_what_the_kernel_says_from_bronze_trades(run: tuple[Path, Path]) -> None:
    """A sample of rows relabelled from the Bronze partition read directly."""
    lake, out = run
    lab = read_outcomes(out, DAY).filter(pl.col("horizon_s") == 120)
    tr = _bronze_trades(lake)
    primary = tr.group_by("instrument_id").len().sort("len")["instrument_id"][-1]
    tr = tr.filter(pl.col("instrument_id") == primary)
    gold = pl.read_parquet(out / f"gold/levels_signals/date={DAY}/part-00000.parquet")
    rows = gold.gather(np.arange(0, gold.height, 97))
    end = max(
        int(_bronze_trades(lake, t)["ts_recv"].max())
        for t in ("futures_mbp10", "futures_trades", "option_trades")
    )
    o = label_rows(
        tr["ts_recv"].to_numpy(),
        tr["price"].to_numpy(),
        rows["ts_ns"].to_numpy(),
        rows["level_px"].to_numpy(),
        rows["spot_px"].to_numpy(),
        np.where(rows["direction"].to_numpy() == "RESISTANCE", 1, -1),
        (120 * 10**9,),
        2 * 10**9,
        end,
    )
    want = [OUTCOMES[c] for c in o.code]
    got = rows.join(lab, on=["ts_ns", "level_id"], how="left", maintain_order="left")
    assert got["outcome"].to_list() == want
    assert got["label_end_ns"].to_list() == o.label_end_ns.tolist()


def test_the_same_bytes_for_any_batch_size_and_a_process_pool(
    run: tuple[Path, Path], tmp_path: Path
) -> None:
    lake, out = run
    want = outcomes_file(out, DAY).read_bytes()
    other = tmp_path / "out"
    shutil.copytree(out / "gold/levels_signals", other / "gold/levels_signals")
    shutil.copytree(
        out / "gold/_manifests/levels_signals", other / "gold/_manifests/levels_signals"
    )
    for chunk in (1, 997):
        label_session(LabelJob(lake, DAY, other, chunk_rows=chunk, force=True))
        assert outcomes_file(other, DAY).read_bytes() == want
    args = ["label", "--lake", str(lake), "--gold", str(other), "--date", DAY.isoformat()]
    res = runner.invoke(app, [*args, "--end-date", "2025-11-16", "--workers", "2", "--force"])
    assert res.exit_code == 0, res.output
    assert outcomes_file(other, DAY).read_bytes() == want
    assert "2025-11-15  skipped" in res.output and "2 dates without Gold" in res.output


def test_current_labels_are_kept_and_stale_ones_named(
    run: tuple[Path, Path], tmp_path: Path
) -> None:
    lake, out = run
    mine = tmp_path / "out"
    shutil.copytree(out, mine)
    assert label_state(mine, DAY).state == CURRENT
    args = ["label", "--lake", str(lake), "--gold", str(mine), "--date", DAY.isoformat()]
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "1 current (kept)" in again.output
    cfg = tmp_path / "c.toml"
    cfg.write_text("[engine]\nmonitor_band_pts = 2.25\n[labels]\nbarrier_pts = 2.0\n")
    replay_to(lake, DAY, mine, cfg)  # a changed Gold: its labels are stale now
    st = label_state(mine, DAY)
    assert st.state == STALE and "stale" in st.reason
    rep = runner.invoke(app, ["report", str(mine), "--out", str(tmp_path / "r.md")])
    assert rep.exit_code == 2 and "stale" in rep.output and "levelreplay label" in rep.output
    vfy = runner.invoke(app, ["verify", str(out), str(mine)])
    assert "labels of session 2025-11-14 in" in vfy.output and "stale" in vfy.output
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and "labels were stale: relabelled" in res.output
    assert label_state(mine, DAY).state == CURRENT
    # a changed [labels] table relabels (its own hash), and never touches Gold
    gold_before = (mine / f"gold/levels_signals/date={DAY}/part-00000.parquet").read_bytes()
    res = runner.invoke(app, [*args, "--config", str(_toml(tmp_path, "horizons_s = [15]"))])
    assert res.exit_code == 0, res.output
    assert read_outcomes(mine, DAY)["horizon_s"].unique().to_list() == [15]
    assert (mine / f"gold/levels_signals/date={DAY}/part-00000.parquet").read_bytes() == gold_before


def _toml(tmp: Path, line: str) -> Path:
    p = tmp / "labels.toml"
    p.write_text(f"[labels]\n{line}\n")
    return p


def test_bad_labels_config_and_no_gold_exit_2(run: tuple[Path, Path], tmp_path: Path) -> None:
    lake, out = run
    base = ["label", "--lake", str(lake), "--gold", str(out), "--date", DAY.isoformat()]
    for line, says in (
        ("horizons_s = [60, 30]", "strictly increasing"),
        ("horizons_s = [0]", "horizons_s"),
        ("barrier_pts = nan", "barrier_pts"),
        ("barriers = 2", "unknown key(s) barriers"),
    ):
        res = runner.invoke(app, [*base, "--config", str(_toml(tmp_path, line))])
        assert res.exit_code == 2 and says in res.output and "Traceback" not in res.output
    res = runner.invoke(
        app, ["label", "--lake", str(lake), "--gold", str(tmp_path), "--date", "2025-11-14"]
    )
    assert res.exit_code == 2 and "Traceback" not in res.output


def _truncate_dbn(src: Path, dst: Path, cutoff: int) -> None:
    """Copy a DBN file keeping the records with ts_recv <= cutoff (MBP-10 and trade records
    both hold ts_recv at byte 32)."""
    raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(src.read_bytes())).read()
    (mlen,) = struct.unpack_from("<I", raw, 4)
    head, body = raw[: 8 + mlen], raw[8 + mlen :]
    size = body[0] * 4
    recs = np.frombuffer(body, np.uint8).reshape(-1, size)
    ts = recs[:, 32:40].copy().view("<u8").ravel()
    keep = recs[ts <= cutoff]
    dst.write_bytes(zstandard.ZstdCompressor().compress(head + keep.tobytes()))


def test_labels_need_nothing_past_t_plus_h(
    src: Path, run: tuple[Path, Path], tmp_path: Path
) -> None:
    """Rows with ts_ns <= X labelled on a lake cut just after the first market record at or past
    X + 300 s equal the full session's (the longest horizon is 300 s)."""
    lake, out = run
    x = T0 + 180 * 10**9  # 08:33 CT, in a 10-minute session
    markets = [p for p in sorted(src.glob("*.dbn.zst")) if "definition" not in p.name]
    first_after = min(
        int(t.filter(pl.col("ts_recv") >= x + 300 * 10**9)["ts_recv"].min())
        for t in (
            _bronze_trades(lake, n) for n in ("futures_mbp10", "futures_trades", "option_trades")
        )
    )
    cut = tmp_path / "src"
    cut.mkdir()
    for p in sorted(src.glob("*.dbn.zst")):
        if p in markets:
            _truncate_dbn(p, cut / p.name, first_after)
        else:
            shutil.copy(p, cut / p.name)
    ingest(sorted(cut.glob("*.dbn.zst")), tmp_path / "lake")
    replay_to(tmp_path / "lake", DAY, tmp_path / "out")
    label_session(LabelJob(tmp_path / "lake", DAY, tmp_path / "out"))
    a = read_outcomes(out, DAY).filter(pl.col("ts_ns") <= x)
    b = read_outcomes(tmp_path / "out", DAY).filter(pl.col("ts_ns") <= x)
    assert a.height > 1000 and a.equals(b)
    # and the cut session does censor its own last rows
    last = read_outcomes(tmp_path / "out", DAY).filter(pl.col("horizon_s") == 300).tail(50)
    assert "CENSORED" in last["outcome"].to_list() or "FAR" in last["outcome"].to_list()


def test_mbp10_trade_records_are_the_trades_without_a_trades_stream(
    src: Path, tmp_path: Path
) -> None:
    files = [p for p in sorted(src.glob("*.dbn.zst")) if ".trades." not in p.name]
    ingest(files, tmp_path / "lake")
    replay_to(tmp_path / "lake", DAY, tmp_path / "out")
    label_session(LabelJob(tmp_path / "lake", DAY, tmp_path / "out"))
    man = pl.read_json(outcomes_manifest(tmp_path / "out", DAY)).to_dicts()[0]["deterministic"]
    assert man["trades_from_depth"] is True
    lab = read_outcomes(tmp_path / "out", DAY).filter(pl.col("outcome").is_in(["BREAK", "REJECT"]))
    depth = _bronze_trades(tmp_path / "lake", "futures_mbp10").filter(pl.col("action") == "T")
    # every deciding time is the ts_recv of an MBP-10 T record
    assert lab.height and set(lab["label_end_ns"].to_list()) <= set(depth["ts_recv"].to_list())
