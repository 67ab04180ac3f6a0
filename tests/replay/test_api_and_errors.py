"""The API takes what users hold, and every user-facing error leaves through the one hierarchy
with its exit code and one paragraph (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engines.contract.config import EngineConfig
from replay import api
from replay.cli import app
from replay.common.config import load_config
from replay.common.errors import BadConfig, CheckFailed, InternalError, LevelReplayError, UserError
from tests.replay.run.test_replay_determinism import _tiny_lake

runner = CliRunner()


def test_every_error_kind_knows_its_exit_code() -> None:
    assert issubclass(BadConfig, UserError) and issubclass(UserError, LevelReplayError)
    codes = {e.exit_code for e in (UserError("x"), BadConfig("x"))}
    assert codes == {2} and CheckFailed("x").exit_code == 1 and InternalError("x").exit_code == 3


def test_config_from_a_path_toml_text_an_object_or_nothing(tmp_path: Path) -> None:
    toml = "[engine]\nbreak_enter = 70.0\n"
    (tmp_path / "c.toml").write_text(toml)
    want = EngineConfig(break_enter=70.0)
    assert load_config(tmp_path / "c.toml") == want
    assert load_config(str(tmp_path / "c.toml")) == want
    assert load_config(toml) == want
    assert load_config(want) is want and load_config(None) == EngineConfig()
    with pytest.raises(BadConfig, match="break_enter"):
        load_config("[engine]\nbreak_enter = 170\n")  # out of 0..100
    (tmp_path / "bad.toml").write_bytes(b"[engine]\nbreak_enter = \xff\n")
    with pytest.raises(BadConfig, match="not UTF-8"):
        load_config(tmp_path / "bad.toml")
    with pytest.raises(BadConfig, match="cannot be read"):
        load_config(tmp_path / "missing.toml")


def test_cli_errors_are_one_paragraph_with_their_exit_code(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["ingest", str(tmp_path), "--lake", str(tmp_path), "--chunk-rows", "0"]
    )
    assert res.exit_code == 2 and "--chunk-rows 0" in res.output and "at least 1" in res.output
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe")
    res = runner.invoke(app, ["config", "show", "--config", str(tmp_path / "bad.toml")])
    assert res.exit_code == 2 and "not UTF-8" in res.output
    res = runner.invoke(app, ["replay", "--lake", str(tmp_path), "--date", "2025-13-01"])
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output
    for r in (res,):
        assert "Traceback" not in r.output


def test_api_replays_in_memory_or_to_disk_with_any_config_form(tmp_path: Path) -> None:
    lake = _tiny_lake(tmp_path)
    toml = "[engine]\nbreak_enter = 70.0\n"
    (tmp_path / "c.toml").write_text(toml)
    mem = api.replay_session(lake, "2025-11-14", toml)
    disk = api.replay_session(lake, "2025-11-14", tmp_path / "c.toml", out=tmp_path / "out")
    obj = api.replay_session(lake, "2025-11-14", EngineConfig(break_enter=70.0))
    assert mem.height > 0 and mem.equals(disk) and mem.equals(obj)
    assert mem.equals(api.read_gold(tmp_path / "out", date="2025-11-14"))
    assert mem.equals(api.read_gold(tmp_path / "out"))  # every session of the run: the one
    as_str = api.replay_session(lake, "2025-11-14", str(tmp_path / "c.toml"))  # a path string
    assert as_str.equals(mem)
    with pytest.raises(UserError, match="no Gold session 2025-11-17"):
        api.read_gold(tmp_path / "out", date="2025-11-17")
    payloads = list(api.payloads_from_gold(mem.to_dicts()))
    assert len(payloads) == mem["snap_index"].n_unique()


def test_a_replay_job_is_a_picklable_value(tmp_path: Path) -> None:
    """What a process pool or a Dask worker receives is the job itself, equal after the trip."""
    import datetime as dt
    import pickle

    from replay.run.replay_job import ReplayJob

    job = ReplayJob(tmp_path, dt.date(2025, 11, 14), tmp_path / "o", EngineConfig(hold_s=2.0))
    back = pickle.loads(pickle.dumps(job))
    assert back == job and hash(back) == hash(job)
    with pytest.raises(UserError, match="chunk-events"):
        ReplayJob(tmp_path, dt.date(2025, 11, 14), tmp_path, chunk_events=0)
    with pytest.raises(UserError, match="engine"):
        ReplayJob(tmp_path, dt.date(2025, 11, 14), tmp_path, engine="turbo")


def test_one_validator_for_config_show_and_replay(tmp_path: Path) -> None:
    """Values that used to pass `config show` and crash the replay (NaN rate, infinite hold,
    a tick below one price unit) are refused by both, naming the file and the key."""
    for body, key in (
        ("rate = nan", "rate"),
        ("hold_s = inf", "hold_s"),
        ("tick_size_pts = 1e-12", "tick_size_pts"),
        ("snap_interval_ms = 100000000", "snap_interval_ms"),
    ):
        cfg = tmp_path / f"{key}.toml"
        cfg.write_text(f"[engine]\n{body}\n")
        for args in (
            ["config", "show", "--config", str(cfg)],
            ["replay", "--lake", str(tmp_path), "--date", "2025-11-14", "--config", str(cfg)],
        ):
            res = runner.invoke(app, args)
            assert res.exit_code == 2, (args, res.output)
            assert f"{cfg}: key '{key}' = " in res.output and "out of range" in res.output
            assert "Traceback" not in res.output
