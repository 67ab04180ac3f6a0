"""The lake's commands: ``ingest`` and ``silver`` (options, checks, report).

Each is a plain function with its typer options; ``replay/cli.py`` registers it and maps
its errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from replay.common.cli_options import (
    NoWaitOption,
    parse_dates,
)
from replay.common.errors import UserError


def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="DBN (.dbn, .dbn.zst) or Databento Parquet files, or directories"),
    ],
    lake: Annotated[Path, typer.Option("--lake", help="lake root (Bronze goes in LAKE/bronze)")],
    chunk_rows: Annotated[int, typer.Option(help="records decoded per chunk (bounds memory)")] = 1
    << 18,
    silver: Annotated[
        bool, typer.Option("--silver", help="also build the MBP-10 Silver mirror of each date")
    ] = False,
    no_wait: NoWaitOption = False,
) -> None:
    """DBN or Databento Parquet -> Bronze lake; prints a per-file report."""
    from replay.lake.ingest import IngestFailed
    from replay.lake.ingest import ingest as run_ingest
    from replay.lake.ingest_report import print_reports

    if chunk_rows < 1:
        raise UserError(f"--chunk-rows {chunk_rows}", expected="at least 1")
    try:
        reports = run_ingest(paths, lake, chunk_rows=chunk_rows, wait=not no_wait)
    except IngestFailed as exc:  # the committed files are reported too, then exit 2
        print_reports(exc.reports, lake)
        raise
    print_reports(reports, lake)
    if silver:
        dates = sorted({dt.date.fromisoformat(d) for r in reports for d in r.dates})
        _build_silver(lake, dates)


def _build_silver(lake: Path, dates: list[dt.date]) -> None:
    from replay.lake.silver import build_silver

    for d in dates:
        path = build_silver(lake, d)
        if path is not None:
            typer.echo(f"silver {d.isoformat()} → {path}")


def silver(
    lake: Annotated[Path, typer.Option("--lake", help="lake root")],
    date: Annotated[str, typer.Option("--date", help="first session YYYY-MM-DD")],
    end_date: Annotated[str | None, typer.Option("--end-date", help="last session")] = None,
) -> None:
    """Build the MBP-10 Silver mirror (per-record book changes) for faster repeated replays."""
    from replay.lake.layout import list_dates

    dates = parse_dates(date, end_date)
    have = set(list_dates(lake, "futures_mbp10"))
    missing = [d for d in dates if d not in have]
    if end_date is None and missing:
        raise UserError(f"no MBP-10 partition for {date}", path=str(lake))
    _build_silver(lake, [d for d in dates if d in have])
