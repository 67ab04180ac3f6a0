"""A new user's first hour (issue 15, SPEC §4): ingest a folder, `info`, `summary`, the plot's
labels and legends, help texts that show `[engine]`."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from replay.api import replay_to
from replay.cli import app
from replay.gold.signals import signal_entries
from replay.gold.summary import level_table, run_summary
from replay.sample import generate_session

runner = CliRunner()


def _cli(*args: object) -> tuple[int, str]:
    res = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res.exit_code, " ".join(res.output.split())  # rich wraps long lines


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("first-hour")
    generate_session(root / "s", minutes=4)
    return root / "s"


def test_a_folder_or_its_glob_ingests_and_lists_what_it_skipped(
    sample: Path, tmp_path: Path
) -> None:
    # `levelreplay sample --out s` then `ingest s/*`: episodes.json is listed as skipped
    code, out = _cli("ingest", *sorted(sample.iterdir()), "--lake", tmp_path / "a")
    assert code == 0, out
    assert f"{sample / 'episodes.json'}: skipped (not DBN or Parquet)" in out
    assert "4 file(s) ingested, 0 already present, 0 failed, 1 skipped" in out
    # the folder itself, with a nested folder holding a copy under another name and a note:
    # files are found by content at any depth; lines show the path under the argument given
    tree = tmp_path / "tree"
    shutil.copytree(sample, tree / "day")
    (tree / "day" / "nested").mkdir()
    shutil.copy(sample / "glbx-mdp3-20251114.trades.dbn.zst", tree / "day/nested/copy.bin")
    (tree / "README.txt").write_text("notes")
    code, out = _cli("ingest", tree, "--lake", tmp_path / "b")
    assert code == 0, out
    assert f"{tree / 'README.txt'}: skipped" in out
    # DBN by content, not by name: the byte-identical copy is recognised as already ingested
    assert f"{tree / 'day/nested/copy.bin'} [trades]: already ingested" in out
    assert "4 file(s) ingested, 1 already present, 0 failed, 2 skipped" in out
    # both lakes hold the same Bronze
    for t in ("futures_mbp10", "futures_trades"):
        part = f"bronze/{t}/date=2025-11-14/part-00000.parquet"
        a, b = pl.read_parquet(tmp_path / "a" / part), pl.read_parquet(tmp_path / "b" / part)
        assert a.drop("src_key", "src_row").equals(b.drop("src_key", "src_row"))
    # only files that are not sources: exit 2, naming them
    code, out = _cli("ingest", tree / "README.txt", "--lake", tmp_path / "c")
    assert code == 2 and "no DBN or Parquet file among 1 path(s)" in out and "README.txt" in out


@pytest.fixture(scope="module")
def run(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("run")
    files = [p for p in sorted(sample.glob("*.dbn.zst")) if "opt-trades" not in p.name]
    code, out = _cli("ingest", *files, "--lake", root / "lake")  # no option trades
    assert code == 0, out
    replay_to(root / "lake", "2025-11-14", root / "out")
    return root / "out"


def test_summary_counts_entries_and_explains_the_data(run: Path) -> None:
    gold = pl.read_parquet(run / "gold/levels_signals/date=2025-11-14/part-00000.parquet")
    table = level_table(gold)
    # a moving level's price is its last row's, not a mean over the session
    vwap = gold.filter(pl.col("level_id") == "VWAP").sort("ts_ns")
    last = table.filter(pl.col("level_id") == "VWAP")["last_px"][0]
    assert last == pytest.approx(vwap["level_px"][-1] / 1e9, abs=1e-9)
    assert vwap["level_px"].n_unique() > 1  # it moved during the session
    # entries per level and signal are the latch starts, fewer than the latched rows
    entries = signal_entries(gold)
    assert table["break_entries"].sum() == (entries["signal"] == "BREAK").sum()
    assert table["reject_entries"].sum() == (entries["signal"] == "REJECT").sum()
    latched = gold.filter(pl.col("signal").is_in(["BREAK", "REJECT"])).height
    assert entries.height < latched
    code, out = _cli("summary", run)
    assert code == 0, out
    assert f"signal is latched: {latched:,} rows hold BREAK or REJECT" in out
    assert "no option trades in this session" in out and "hedge score stays NEUTRAL (50)" in out
    lines = run_summary(run)
    assert any(line.startswith("data quality:") for line in lines)
    # sequence gaps are informational, never among the problems
    assert not any(line.startswith("  problem") and "sequence_gaps" in line for line in lines)
    code, out = _cli("summary", run, "--date", "2025-11-17")
    assert code == 2 and "no session 2025-11-17 in this run" in out


def test_the_plot_labels_each_level_once_and_has_legends(run: Path) -> None:
    from engines.contract.config import EngineConfig
    from replay.gold.plot import timeline_figure

    gold = pl.read_parquet(run / "gold/levels_signals/date=2025-11-14/part-00000.parquet")
    fig = timeline_figure(gold, EngineConfig())
    ax, ax2 = fig.axes
    labels = [t.get_text() for t in ax.texts]
    with_entries = signal_entries(gold)["level_id"].unique().to_list()
    assert with_entries and sorted(t.split(":")[0] for t in labels) == sorted(with_entries)
    assert ax.get_legend() is not None and ax2.get_legend() is not None  # score panel too
    assert any("break_enter" in t.get_text() for t in ax2.get_legend().get_texts())
    # labels never closer than 1/40 of the panel's height: no pile-up
    ys = sorted(t.xyann[1] if hasattr(t, "xyann") else t.get_position()[1] for t in ax.texts)
    lo, hi = ax.get_ylim()
    assert all(b - a >= (hi - lo) / 40 - 1e-9 for a, b in itertools.pairwise(ys))


def test_help_shows_the_config_tables() -> None:
    for cmd in (["replay", "--help"], ["config", "show", "--help"], ["label", "--help"]):
        out = " ".join(runner.invoke(app, cmd, terminal_width=200).output.split())
        assert "[engine]" in out or "[labels]" in out, (cmd, out)
    out = runner.invoke(app, ["demo", "--help"], terminal_width=200).output
    assert "replay stages follow" not in out and "verify" in out


def test_the_readme_command_table_matches_help() -> None:
    """Every command of the README's table exists, and every option its row shows is in that
    command's --help (and every command of --help has a row)."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `levelreplay ")]
    listed = set()
    for row in rows:
        usage = row.split("`")[1]  # e.g. levelreplay replay --lake DIR ...
        words = usage.split()[1:]
        cmd = [w for w in words[:2] if re.fullmatch(r"[a-z]+", w)]
        if cmd[:1] != ["config"]:
            cmd = cmd[:1]
        listed.add(" ".join(cmd))
        res = runner.invoke(app, [*cmd, "--help"], terminal_width=300)
        assert res.exit_code == 0, (cmd, res.output)
        for opt in re.findall(r"--[a-z][a-z-]*", usage):
            assert opt in res.output, f"README row of {' '.join(cmd)}: {opt} not in --help"
    top = runner.invoke(app, ["--help"], terminal_width=300).output
    commands = set(re.findall(r"│ ([a-z]+) ", top)) - {"config"} | {"config show"}
    assert commands <= listed, commands - listed


def test_every_option_says_what_it_means() -> None:
    import click
    import typer

    def options(c: click.Command, name: str = "") -> list[tuple[str, click.Parameter]]:
        if isinstance(c, click.Group):
            return [o for n, sub in c.commands.items() for o in options(sub, f"{name}{n} ")]
        return [(name, p) for p in c.params if isinstance(p, click.Option)]

    bare = [(n, p.opts) for n, p in options(typer.main.get_command(app)) if not p.help]
    assert bare == []
