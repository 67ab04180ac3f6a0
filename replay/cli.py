"""`levelreplay` command line (typer). Thin: parse, call a function, print.

User mistakes (``UserError``) print one paragraph and exit 2; failed checks exit 1; a traceback
only ever means a bug in levelreplay.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from engines.config import ConfigError, EngineConfig
from replay.errors import LevelReplayError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Deterministic replay of ES break/reject level signals from Databento GLBX.MDP3 data.",
)
config_app = typer.Typer(no_args_is_help=True, help="Engine configuration.")
app.add_typer(config_app, name="config")

T = TypeVar("T")

DEFAULT_SAMPLE_DIR = Path("data/sample")
DEFAULT_LAKE = Path("data/lake")


def _fail(exc: Exception, code: int) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code)


def _guard(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except LevelReplayError as exc:
        _fail(exc, exc.exit_code)
    except ConfigError as exc:
        _fail(exc, 2)
    raise AssertionError("unreachable")


def load_config(path: Path | None) -> EngineConfig:
    """Resolved engine config: defaults, overridden by a TOML file's [engine] table."""
    if path is None:
        return EngineConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be read ({exc.strerror}); expected a TOML file"
        ) from None
    return EngineConfig.from_toml_text(text, source=str(path))


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="DBN (.dbn, .dbn.zst) or Databento Parquet files")
    ],
    lake: Annotated[Path, typer.Option("--lake", help="lake root (Bronze goes in LAKE/bronze)")],
    chunk_rows: Annotated[int, typer.Option(help="records decoded per chunk (bounds memory)")] = 1
    << 18,
) -> None:
    """DBN or Databento Parquet -> Bronze lake; prints a per-file report."""
    from replay.ingest import ingest as run_ingest
    from replay.ingest_report import print_reports

    if chunk_rows < 1:
        _fail(ValueError("--chunk-rows must be >= 1"), 2)
    reports = _guard(lambda: run_ingest(paths, lake, chunk_rows=chunk_rows))
    print_reports(reports, lake)


@app.command()
def sample(
    out: Annotated[Path, typer.Option("--out", help="directory for the DBN files")],
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    minutes: Annotated[int, typer.Option(help="session length in minutes")] = 30,
    start: Annotated[str, typer.Option(help="start time HH:MM America/Chicago")] = "08:30",
    date: Annotated[str, typer.Option(help="CME trade date YYYY-MM-DD")] = "2025-11-14",
    days: Annotated[int, typer.Option(help="consecutive sessions to write")] = 1,
    intensity: Annotated[float, typer.Option(help="event-rate multiplier")] = 1.0,
) -> None:
    """Write a synthetic but realistic ES session as real DBN files."""
    from replay.sample import generate_session

    res = _guard(
        lambda: generate_session(
            out,
            seed=seed,
            minutes=minutes,
            start=start,
            date=date,
            days=days,
            intensity=intensity,
        )
    )
    for path in res.files:
        typer.echo(str(path))


@app.command()
def demo(
    sample_dir: Annotated[Path, typer.Option(help="the embedded sample session")] = Path(
        "data/sample"
    ),
    out: Annotated[Path, typer.Option(help="where the demo lake and outputs go")] = Path(
        "data/demo"
    ),
) -> None:
    """Sample session (generated if missing) → ingest → report (replay stages follow)."""
    from replay.demo import run_demo

    _guard(lambda: run_demo(sample_dir, out))


@config_app.command("show")
def config_show(
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML with an [engine] table")
    ] = None,
) -> None:
    """Print the resolved engine config as TOML."""
    cfg = _guard(lambda: load_config(config))
    typer.echo(cfg.to_toml(), nl=False)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
