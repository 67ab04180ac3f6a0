"""`levelreplay` command line (typer). Thin: parse, call a function, print.

User mistakes (``UserError``) print one paragraph and exit 2; failed checks exit 1; a traceback
only ever means a bug in levelreplay.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from engines.config import ConfigError, EngineConfig
from replay.errors import LevelReplayError, UserError

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
    silver: Annotated[
        bool, typer.Option("--silver", help="also build the MBP-10 Silver mirror of each date")
    ] = False,
) -> None:
    """DBN or Databento Parquet -> Bronze lake; prints a per-file report."""
    from replay.lake.ingest import ingest as run_ingest
    from replay.lake.ingest_report import print_reports

    if chunk_rows < 1:
        _fail(ValueError("--chunk-rows must be >= 1"), 2)
    reports = _guard(lambda: run_ingest(paths, lake, chunk_rows=chunk_rows))
    print_reports(reports, lake)
    if silver:
        dates = sorted({dt.date.fromisoformat(d) for r in reports for d in r.dates})
        _build_silver(lake, dates)


def _build_silver(lake: Path, dates: list[dt.date]) -> None:
    from replay.lake.silver import build_silver

    for d in dates:
        path = _guard(lambda d=d: build_silver(lake, d))
        if path is not None:
            typer.echo(f"silver {d.isoformat()} → {path}")


@app.command()
def silver(
    lake: Annotated[Path, typer.Option("--lake", help="lake root")],
    date: Annotated[str, typer.Option("--date", help="first session YYYY-MM-DD")],
    end_date: Annotated[str | None, typer.Option("--end-date", help="last session")] = None,
) -> None:
    """Build the MBP-10 Silver mirror (per-record book changes) for faster repeated replays."""
    from replay.lake.layout import list_dates

    dates = _guard(lambda: _dates(date, end_date))
    have = set(list_dates(lake, "futures_mbp10"))
    missing = [d for d in dates if d not in have]
    if end_date is None and missing:
        _fail(UserError(f"no MBP-10 partition for {date}", path=str(lake)), 2)
    _build_silver(lake, [d for d in dates if d in have])


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


def _dates(date: str, end_date: str | None) -> list[dt.date]:
    try:
        d0 = dt.date.fromisoformat(date)
        d1 = dt.date.fromisoformat(end_date) if end_date else d0
    except ValueError as exc:
        raise UserError(f"bad date ({exc})", expected="YYYY-MM-DD") from None
    if d1 < d0:
        raise UserError(f"--end-date {d1} is before --date {d0}", expected="end >= start")
    return [d0 + dt.timedelta(days=i) for i in range((d1 - d0).days + 1)]


@app.command()
def replay(
    lake: Annotated[Path, typer.Option("--lake", help="lake root written by ingest")],
    date: Annotated[str, typer.Option("--date", help="CME trade date YYYY-MM-DD")],
    end_date: Annotated[str | None, typer.Option("--end-date", help="last date of a range")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML [engine] overrides")] = None,
    out: Annotated[Path, typer.Option("--out", help="output root (Gold goes in OUT/gold)")] = Path(
        "out"
    ),
    chunk_events: Annotated[
        int | None, typer.Option("--chunk-events", help="events per engine call (default: as read)")
    ] = None,
    symbol: Annotated[
        str | None, typer.Option(help="primary future (default: most traded)")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite existing Gold")] = False,
    engine: Annotated[
        str,
        typer.Option("--engine", help="fast (numba snap kernel) or reference (same Gold bytes)"),
    ] = "fast",
    silver: Annotated[
        bool,
        typer.Option(
            "--silver/--no-silver",
            help="read MBP-10 from its Silver mirror when it matches Bronze (same Gold bytes)",
        ),
    ] = True,
) -> None:
    """Bronze → Gold + manifest for each session; progress bar on a terminal."""
    from replay.common.progress import snap_progress
    from replay.lake.layout import list_dates
    from replay.run.replay_job import replay_session

    cfg = _guard(lambda: load_config(config))
    dates = _guard(lambda: _dates(date, end_date))
    if end_date is not None:
        have = set(list_dates(lake, "futures_mbp10")) | set(list_dates(lake, "futures_trades"))
        dates = [d for d in dates if d in have]
    for d in dates:
        with snap_progress(f"replay {d.isoformat()}") as on_snap:
            res = _guard(
                lambda d=d, on_snap=on_snap: replay_session(
                    lake,
                    d,
                    cfg,
                    out,
                    chunk_events=chunk_events,
                    force=force,
                    symbol=symbol,
                    on_snap=on_snap,
                    engine=engine,
                    use_silver=silver,
                )
            )
        ev = sum(res.events.values())
        typer.echo(
            f"{d.isoformat()}: {ev} events, {res.snaps} snaps, {res.rows} rows in "
            f"{res.seconds:.1f}s ({ev / max(res.seconds, 1e-9):,.0f} events/s) → {res.gold} "
            f"digest {res.digest[:16]}"
        )


@app.command()
def verify(
    a: Annotated[
        Path, typer.Argument(help="first Gold run (output root, session dir or manifest)")
    ],
    b: Annotated[Path, typer.Argument(help="second Gold run")],
) -> None:
    """Compare two Gold runs; exit 1 naming the first difference."""
    from replay.gold.verify import compare

    diffs = _guard(lambda: compare(a, b))
    if diffs:
        for d in diffs:
            typer.echo(f"DIFFERENT: {d}", err=True)
        raise typer.Exit(1)
    typer.echo(f"identical: {a} == {b}")


@app.command()
def plot(
    gold: Annotated[Path, typer.Argument(help="Gold Parquet file or its date= directory")],
    out: Annotated[Path, typer.Option("--out", help="PNG to write")],
    config: Annotated[Path | None, typer.Option("--config", help="TOML [engine] overrides")] = None,
) -> None:
    """Price, active levels, smoothed break score and BREAK/REJECT markers as a PNG."""
    from replay.gold.plot import plot_gold

    cfg = _guard(lambda: load_config(config))
    path = gold / "part-00000.parquet" if gold.is_dir() else gold
    if not path.is_file():
        _fail(UserError("no Gold file here", path=str(gold), expected="a Gold Parquet file"), 2)
    typer.echo(str(plot_gold(path, out, cfg)))


@app.command()
def info(lake: Annotated[Path, typer.Option("--lake", help="lake root")]) -> None:
    """Sessions in the lake, rows per table, time spans."""
    from replay.lake.info import lake_info

    for line in _guard(lambda: lake_info(lake)):
        typer.echo(line)


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
