"""Gold schema and order, manifest, verify, payload, CLI errors and crash safety."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import engines.reference.reference_engine as driver
from engines.contract.config import EngineConfig
from replay.cli import app
from replay.gold.layout import manifest_file
from replay.gold.payload import encode_payload, snap_payload
from replay.gold.schema import GOLD, GOLD_ENUMS
from replay.lake.ingest import ingest
from replay.run.replay_job import ReplayJob, replay_session
from replay.sample import generate_session

DATE = dt.date(2025, 11, 14)
runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("out")
    generate_session(root / "src", minutes=3)
    ingest(sorted((root / "src").glob("*.dbn.zst")), root / "lake")
    replay_session(ReplayJob(root / "lake", DATE, root / "a", EngineConfig()))
    return root / "lake", root / "a"


def _gold(out: Path) -> Path:
    return out / "gold/levels_signals/date=2025-11-14/part-00000.parquet"


def test_gold_schema_order_and_enums(run: tuple[Path, Path]) -> None:
    _, out = run
    t = pq.read_table(_gold(out))
    assert t.schema.equals(GOLD, check_metadata=False)
    rows = t.select(["ts_ns", "level_px", "level_id"]).to_pylist()
    keys = [(r["ts_ns"], r["level_px"], r["level_id"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for col, allowed in GOLD_ENUMS.items():
        vals = {v for v in t.column(col).to_pylist() if v is not None}
        assert vals <= set(allowed), col
    # every snap row carries a two-sided book: bid < ask; distance is |spot - L| in points (SPEC
    # §3.1) and the side is in direction: SUPPORT below spot, RESISTANCE at or above it (§5.11)
    rows = t.to_pylist()
    for r in rows:
        assert r["bid_px"] < r["ask_px"]
        assert r["distance_pts"] == abs(r["spot_px"] - r["level_px"]) / 1e9
        assert 0 <= r["distance_pts"] <= 2.5  # monitor band, closed
        assert r["direction"] == ("SUPPORT" if r["level_px"] < r["spot_px"] else "RESISTANCE")
    assert {r["direction"] for r in rows} == {"SUPPORT", "RESISTANCE"}


def test_manifest_has_the_deterministic_facts(run: tuple[Path, Path]) -> None:
    _, out = run
    m = json.loads(manifest_file(out, DATE).read_text())
    det = m["deterministic"]
    for key in ("code_digest", "config", "config_sha256", "inputs", "events", "snaps", "rows"):
        assert key in det
    assert det["rows"] == pq.ParquetFile(_gold(out)).metadata.num_rows
    from replay.common.hashing import sha256_file
    from replay.gold.manifest import canonical_json, sha256_bytes

    body = {k: v for k, v in det.items() if k != "digest"}
    assert det["digest"] == sha256_bytes(canonical_json(body))
    sha = sha256_file(_gold(out))
    assert det["outputs"] == {"gold/levels_signals/date=2025-11-14/part-00000.parquet": sha}
    # outputs_digest: sha256 over the output files' hex sha256, one per line, in path order
    assert det["outputs_digest"] == sha256_bytes(f"{sha}\n".encode())
    assert set(det["libraries"]) == {"python", "numba", "numpy", "pyarrow"}
    assert m["run"]["executor"] == "serial" and m["run"]["workers"] == 1
    assert set(m["run"]) >= {"started_utc", "duration_s", "host", "chunk_events", "libraries"}
    text = manifest_file(out, DATE).read_text()
    assert text.endswith("\n")


def test_payload_is_finite_json_in_milliseconds(run: tuple[Path, Path]) -> None:
    _, out = run
    t = pq.read_table(_gold(out)).slice(0, 1).to_pylist()[0]
    t["velocity"] = math.nan  # a NaN must become null, never "NaN"
    raw = encode_payload(snap_payload([t]))
    obj = json.loads(raw)
    assert obj["ts"] == t["ts_ns"] // 1_000_000
    assert obj["es"]["spot"] == t["spot_px"] / 1e9
    lv = obj["levels"][0]
    assert lv["id"] == t["level_id"] and lv["tape"]["velocity"] is None
    assert set(lv) >= {"barrier", "tape", "fuel", "runway", "signal", "break_score_smooth"}
    assert lv["price"] == t["level_px"] / 1e9


def test_existing_output_is_refused_without_force(run: tuple[Path, Path]) -> None:
    lake, out = run
    res = runner.invoke(
        app, ["replay", "--lake", str(lake), "--date", "2025-11-14", "--out", str(out)]
    )
    assert res.exit_code == 2 and "already exists" in res.output and "--force" in res.output


def test_unknown_session_and_bad_config_are_user_errors(
    run: tuple[Path, Path], tmp_path: Path
) -> None:
    lake, _ = run
    res = runner.invoke(
        app, ["replay", "--lake", str(lake), "--date", "2025-11-21", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2
    assert "session 2025-11-21 cannot be replayed: no data in the lake" in res.output
    assert "2025-11-14" in res.output  # the sessions the lake has
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[engine]\nbreak_entr = 70\n")
    res = runner.invoke(
        app,
        [
            "replay",
            "--lake",
            str(lake),
            "--date",
            "2025-11-14",
            "--out",
            str(tmp_path),
            "--config",
            str(cfg),
        ],
    )
    assert res.exit_code == 2 and "break_entr" in res.output
    cfg.write_text("[engine]\nbreak_enter = 170\n")
    res = runner.invoke(app, ["config", "show", "--config", str(cfg)])
    assert res.exit_code == 2 and "break_enter" in res.output and "0..100" in res.output


def test_a_crash_mid_write_leaves_the_previous_gold_intact(
    run: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, out = run
    before = _gold(out).read_bytes()
    calls = {"n": 0}
    real = driver.score_snap

    def dying(cfg, inp, state):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 300:
            raise KeyboardInterrupt("killed mid-session")
        return real(cfg, inp, state)

    monkeypatch.setattr(driver, "score_snap", dying)  # the reference engine's per-snap call
    with pytest.raises(KeyboardInterrupt):
        replay_session(ReplayJob(lake, DATE, out, EngineConfig(), force=True, engine="reference"))
    assert _gold(out).read_bytes() == before
    assert not [p for p in _gold(out).parent.iterdir() if p.name.startswith(".")]
