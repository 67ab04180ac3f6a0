"""The Gold room's commands: ``summary`` and ``plot`` of a run.

Each is a plain function with its typer options; ``replay/cli.py`` registers it and maps
its errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from replay.common.cli_options import (
    ConfigOption,
    parse_date,
)
from replay.common.config import load_config
from replay.common.errors import UserError


def summary(
    out: Annotated[Path, typer.Argument(help="a Gold run: output root, session dir or manifest")],
    date: Annotated[
        str | None, typer.Option("--date", help="one session YYYY-MM-DD (default: every one)")
    ] = None,
) -> None:
    """What a Gold run says: per level its last price, rows and BREAK/REJECT entries (the
    signal is latched: an entry is where a latch begins), then the manifest's data-quality
    problems, informational figures and notes (e.g. no option data), in plain words."""
    from replay.gold.summary import run_summary

    for line in run_summary(out, None if date is None else parse_date(date).isoformat()):
        typer.echo(line)


def plot(
    gold: Annotated[Path, typer.Argument(help="Gold Parquet file or its date= directory")],
    out: Annotated[Path, typer.Option("--out", help="PNG to write")],
    config: ConfigOption = None,
) -> None:
    """Price, active levels, smoothed break score and BREAK/REJECT markers as a PNG."""
    from replay.gold.plot import plot_gold

    cfg = load_config(config)
    path = gold / "part-00000.parquet" if gold.is_dir() else gold
    if not path.is_file():
        raise UserError("no Gold file here", path=str(gold), expected="a Gold Parquet file")
    typer.echo(str(plot_gold(path, out, cfg)))
