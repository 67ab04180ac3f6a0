"""``levelreplay sample``: its options and checks (``replay/cli.py`` registers it)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from replay.common.cli_options import (
    hh_mm_ok,
    parse_date,
)
from replay.common.errors import UserError


def sample(
    out: Annotated[Path, typer.Option("--out", help="directory for the DBN files")],
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    minutes: Annotated[int, typer.Option(help="session length in minutes")] = 30,
    start: Annotated[str, typer.Option(help="start time HH:MM America/Chicago")] = "08:30",
    date: Annotated[str, typer.Option(help="CME trade date YYYY-MM-DD")] = "2025-11-14",
    days: Annotated[int, typer.Option(help="consecutive sessions to write")] = 1,
    intensity: Annotated[float, typer.Option(help="event-rate multiplier")] = 1.0,
    schema: Annotated[
        str, typer.Option(help="futures depth as mbp-10 (plus a trades file) or mbo (orders)")
    ] = "mbp-10",
) -> None:
    """Write a synthetic but realistic ES session as real DBN files."""
    from replay.sample import SCHEMAS, generate_session

    parse_date(date)
    checks = (
        (1 <= minutes <= 1380, f"--minutes {minutes}", "1..1380 (one Globex session at most)"),
        (1 <= days <= 250, f"--days {days}", "1..250 sessions"),
        (
            math.isfinite(intensity) and 0 < intensity <= 100,
            f"--intensity {intensity}",
            "a finite event-rate multiplier in (0, 100]",
        ),
        (seed >= 0, f"--seed {seed}", "a non-negative integer"),
        (hh_mm_ok(start), f"--start {start}", "HH:MM, 00:00..23:59, America/Chicago"),
        (schema in SCHEMAS, f"--schema {schema}", " or ".join(SCHEMAS)),
    )
    for ok, what, expected in checks:
        if not ok:
            raise UserError(what, expected=expected)

    res = generate_session(
        out,
        seed=seed,
        minutes=minutes,
        start=start,
        date=date,
        days=days,
        intensity=intensity,
        schema=schema,
    )
    for path in res.files:
        typer.echo(str(path))
