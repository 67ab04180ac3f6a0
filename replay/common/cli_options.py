"""The command-line options every room's commands share, and their checks: one spelling of an
option, its help and what a bad value gets (exit 2 naming it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from replay.common.dates import date_range, iso_date

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help=r"TOML file whose \[engine] table overrides the defaults (\[labels]: read by label)",
    ),
]
WorkersOption = Annotated[
    int, typer.Option("--workers", help="sessions replayed at once on a local process pool")
]
SchedulerOption = Annotated[
    str | None, typer.Option("--scheduler", help="a Dask distributed scheduler, tcp://host:port")
]
ConnectTimeoutOption = Annotated[
    float,
    typer.Option(
        "--connect-timeout",
        help="seconds to wait for the Dask scheduler to answer, and for a cluster with no "
        "worker or no scheduler before its pending sessions fail",
    ),
]
LakeOption = Annotated[Path, typer.Option("--lake", help="lake root written by ingest")]
NoWaitOption = Annotated[
    bool,
    typer.Option(
        "--no-wait", help="if another run holds the lake date or session, exit 2 (default: wait)"
    ),
]


def hh_mm_ok(text: str) -> bool:
    """``HH:MM``, 00:00..23:59, exactly five characters."""
    try:
        dt.time.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 5 and text[2] == ":"


def parse_date(text: str, option: str = "--date") -> dt.date:
    return iso_date(text, option)


def parse_dates(date: str, end_date: str | None) -> list[dt.date]:
    """``--date`` through ``--end-date`` (the first alone without one)."""
    last = None if end_date is None else parse_date(end_date, "--end-date")
    return date_range(parse_date(date), last)
