"""`levelreplay regress` (SPEC §4): pass, drift, run-to-run, provenance only, failed, --update.

The committed golden files (``data/golden/``) are checked here too, so a change of Gold bytes must
come with an updated golden file, and a reason, in the same commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import databento_dbn as d
import pytest
from typer.testing import CliRunner

from replay.cli import app
from replay.sample import generate_session
from replay.sample.scenario import instrument_id
from tests import dbn_factory as f

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "data" / "golden"
runner = CliRunner()


def _cli(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res.exit_code, res.output


def _ingest(files: list[Path], lake: Path) -> Path:
    code, out = _cli("ingest", *files, "--lake", lake)
    assert code == 0, out
    return lake


def _regress(lake: Path, golden: Path, report: Path, *extra: str | Path) -> tuple[int, str, dict]:
    code, out = _cli("regress", "--lake", lake, "--golden", golden, "--report", report, *extra)
    doc = json.loads((report / "regress.json").read_text())
    return code, out, doc


@pytest.fixture(scope="module")
def three_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three 5-minute sessions (Fri 11-14, Mon 11-17, Tue 11-18): the committed golden's lake."""
    root = tmp_path_factory.mktemp("three-days")
    src = generate_session(root / "src", minutes=5, days=3)
    return _ingest(sorted(src.files), root / "lake")


def test_the_committed_golden_files_pass(three_days: Path, tmp_path: Path) -> None:
    """data/golden/*.json against the embedded sample and the generated three-day lake. A code
    change that keeps Gold is provenance only (not a failure); a Gold change fails here until
    `levelreplay regress --update` rewrites the file in the same commit."""
    sample = _ingest(sorted((ROOT / "data" / "sample").glob("*.dbn.zst")), tmp_path / "sample")
    for lake, name, extra in (
        (sample, "sample.json", ()),
        (three_days, "sample-3days.json", ("--workers", "2")),
    ):
        code, out, doc = _regress(lake, GOLDEN / name, tmp_path / f"rep-{name}", *extra)
        assert code == 0, f"{name}: Gold changed? regress --update with a reason. {out}"
        assert {s["status"] for s in doc["sessions"]} <= {"pass", "provenance"}, out
    assert len(doc["sessions"]) == 3
    assert doc["executor"] == "process-pool"


def _trade_file(path: Path) -> Path:
    """One extra ESZ5 trade at 08:31 CT on 11-14: a changed input of that session."""
    es = instrument_id("ESZ5")
    ts = f.ns("2025-11-14T14:31:00.000000001+00:00")
    meta = f.metadata(d.Schema.TRADES, {"ESZ5": es}, ts, ts + 1)
    return f.write_dbn(path, meta, [f.trade(es, ts, 1, 6900.0, 500, "B")])


def test_pass_drift_provenance_failed_and_update(tmp_path: Path) -> None:
    src = generate_session(tmp_path / "src", minutes=4, days=2)
    lake = _ingest(sorted(src.files), tmp_path / "lake")
    golden, rep = tmp_path / "golden.json", tmp_path / "report"

    # No golden yet: --update records every session of the lake (2 new), exit 0.
    code, out, doc = _regress(lake, golden, rep, "--update")
    assert code == 0 and doc["verdict"] == "UPDATED", out
    assert [s["status"] for s in doc["sessions"]] == ["new", "new"]
    recorded = json.loads(golden.read_text())
    assert [s["date"] for s in recorded["sessions"]] == ["2025-11-14", "2025-11-17"]

    # ... with each session's labels (SPEC §10.1): run A's digest, its Gold, the [labels] hash
    marks = [s["labels"] for s in recorded["sessions"]]
    assert [m["gold"] for m in marks] == [s["outputs_digest"] for s in recorded["sessions"]]
    assert all(len(m["outputs_digest"]) == 64 for m in marks)

    # Unchanged rerun: pass, both runs identical (labels too), and a Markdown report.
    code, out, doc = _regress(lake, golden, rep)
    assert code == 0 and [s["status"] for s in doc["sessions"]] == ["pass", "pass"], out
    assert [s["labels_outputs_digest"] for s in doc["sessions"]] == [
        m["outputs_digest"] for m in marks
    ]

    assert doc["chunk_events"] == [None, 4099]
    assert "# levelreplay regress: PASS" in (rep / "regress.md").read_text()

    # Labels that changed while Gold did not (a labelling code change): labels drift, exit 1
    moved = json.loads(golden.read_text())
    moved["sessions"][1]["labels"]["outputs_digest"] = "0" * 64
    moved_path = tmp_path / "labels-moved.json"
    moved_path.write_text(json.dumps(moved))
    code, out, doc = _regress(lake, moved_path, rep)
    assert code == 1 and [s["status"] for s in doc["sessions"]] == ["pass", "drift"], out
    assert doc["sessions"][1]["detail"].startswith("labels drift: outputs_digest 0000000000000000")

    # One constant changed: drift, naming session, file, row, column and both values.
    cfg = tmp_path / "c.toml"
    cfg.write_text("[engine]\nround_spacing_pts = 5.0\n")
    code, out, doc = _regress(lake, golden, rep, "--config", cfg)
    assert code == 1, out
    drift = [s for s in doc["sessions"] if s["status"] == "drift"]
    assert drift, out
    detail = drift[0]["detail"]
    assert "part-00000.parquet: row group 0, row " in detail and ", column " in detail, detail
    assert "config keys: round_spacing_pts 10.0 vs 5.0" in detail, detail
    # the golden file's labels were built from the old Gold: named stale
    assert "the golden file's labels are stale (built from Gold " in detail, detail
    assert f"DRIFT {drift[0]['date']}" in out
    assert "## Gold drift" in (rep / "regress.md").read_text()

    # A made-up golden from other code with the same Gold: provenance only, exit 0 unless
    # --strict.
    other = json.loads(golden.read_text())
    other["made_with"]["code_digest"] = "0" * 64
    for s in other["sessions"]:
        s["digest"] = "f" * 64
    other_path = tmp_path / "other-code.json"
    other_path.write_text(json.dumps(other))
    code, out, doc = _regress(lake, other_path, rep)
    assert code == 0, out
    assert [s["status"] for s in doc["sessions"]] == ["provenance", "provenance"]
    assert "code digest 000000000000… vs" in doc["sessions"][0]["detail"]
    assert "## Provenance only" in (rep / "regress.md").read_text()
    code, out, _ = _regress(lake, other_path, rep, "--strict")
    assert code == 1, out

    # A changed input: the extra trade moves Friday's Gold; the input partition is named.
    lake2 = tmp_path / "lake2"
    _ingest([*sorted(src.files), _trade_file(tmp_path / "extra.trades.dbn")], lake2)
    code, out, doc = _regress(lake2, golden, rep)
    fri = doc["sessions"][0]
    assert code == 1 and fri["status"] == "drift", out
    assert (
        "inputs: bronze/futures_trades/date=2025-11-14/part-00000.parquet sha256" in fri["detail"]
    )

    # A golden session missing from the lake fails, and --update refuses to rewrite the file.
    listed = json.loads(golden.read_text())
    ghost = dict(listed["sessions"][0], date="2025-11-12")
    listed["sessions"].insert(0, ghost)
    ghost_path = tmp_path / "ghost.json"
    ghost_path.write_text(json.dumps(listed))
    code, out, doc = _regress(lake, ghost_path, rep)
    assert code == 1 and doc["sessions"][0]["status"] == "failed", out
    assert "session 2025-11-12 cannot be replayed: no data" in doc["sessions"][0]["detail"]
    before = ghost_path.read_bytes()
    code, out, doc = _regress(lake, ghost_path, rep, "--update")
    assert code == 1 and doc["refused"] == "2025-11-12 failed", out
    assert ghost_path.read_bytes() == before


def test_a_bad_golden_file_is_a_user_error(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    bad = tmp_path / "golden.json"
    bad.write_text('{"format": "levelreplay-golden/1", "made_with": {}, "sessions": [{"date": 1}]}')
    code, out = _cli("regress", "--lake", lake, "--golden", bad, "--report", tmp_path / "r")
    assert code == 2 and "field 'sessions[0].date' is a JSON number, expected a date" in out, out
    bad.write_text(
        '{"format": "levelreplay-golden/1", "made_with": {}, "sessions": [{"date": "2025-11-14"}]}'
    )
    code, out = _cli("regress", "--lake", lake, "--golden", bad, "--report", tmp_path / "r")
    assert code == 2 and "field 'sessions[0].inputs' is missing, expected an array" in out, out
    code, out = _cli("regress", "--lake", lake, "--golden", tmp_path / "nope.json")
    assert code == 2 and "golden file not found" in out, out


def test_two_runs_that_differ_are_a_run_to_run_failure(tmp_path: Path) -> None:
    """Stand-in for broken determinism: run B's Gold made with another config."""
    import datetime as dt

    from engines.contract.config import EngineConfig
    from replay.nightly.regress import RUN_TO_RUN, _check
    from replay.run.executor import OK, SessionReport
    from replay.run.replay_job import ReplayJob, replay_session

    src = generate_session(tmp_path / "src", minutes=3)
    lake = _ingest(sorted(src.files), tmp_path / "lake")
    day = dt.date(2025, 11, 14)
    outs = [tmp_path / "a", tmp_path / "b"]
    reports = []
    for out, cfg in zip(outs, (EngineConfig(), EngineConfig(round_spacing_pts=5.0)), strict=True):
        r = replay_session(ReplayJob(lake, day, out, cfg))
        reports.append({day.isoformat(): SessionReport(day, OK, None, rows=r.rows)})
    check = _check(day.isoformat(), reports, outs, None, tmp_path / "baseline")
    assert check.status == RUN_TO_RUN
    assert check.detail.startswith("chunks (None, 4099): gold/levels_signals/date=2025-11-14/")


def test_the_nightly_script(three_days: Path, tmp_path: Path) -> None:
    import subprocess

    script = ROOT / "scripts" / "nightly_regression.sh"
    usage = subprocess.run([script], capture_output=True, text=True, check=False)
    assert usage.returncode == 2 and "LAKE GOLDEN [REPORT_DIR]" in usage.stdout
    golden = GOLDEN / "sample-3days.json"
    run = subprocess.run(
        [script, three_days, golden, tmp_path / "rep"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "regress PASS: 3 sessions" in run.stdout
    assert (tmp_path / "rep" / "regress.md").is_file()
