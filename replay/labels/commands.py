"""The labels room's commands: ``label`` and ``report``.

Each is a plain function with its typer options; ``replay/cli.py`` registers it and maps
its errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from replay.common.cli_options import (
    ConnectTimeoutOption,
    LakeOption,
    NoWaitOption,
    SchedulerOption,
    WorkersOption,
    parse_date,
)
from replay.common.errors import UserError
from replay.run.cli_range import check_executor, close_range


def label(
    lake: LakeOption,
    gold: Annotated[Path, typer.Option("--gold", help="output root of the Gold run to label")],
    date: Annotated[str, typer.Option("--date", help="CME trade date YYYY-MM-DD")],
    end_date: Annotated[str | None, typer.Option("--end-date", help="last date of a range")] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help=r"TOML file whose \[labels] table sets horizons_s and barrier_pts"
        ),
    ] = None,
    chunk_rows: Annotated[
        int | None, typer.Option("--chunk-rows", help="Gold rows per batch (never changes bytes)")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="relabel sessions whose labels are current")
    ] = False,
    no_wait: NoWaitOption = False,
    workers: WorkersOption = 1,
    scheduler: SchedulerOption = None,
    connect_timeout: ConnectTimeoutOption = 10.0,
) -> None:
    """Outcome labels (SPEC §10.1) of each session of a Gold run, written beside it as
    GOLD/gold/level_outcomes/. Current labels are kept; stale ones (their Gold changed) are
    named and relabelled. Prints a table in date order; exit 1 if a session failed."""
    from replay.labels.config import load_label_config
    from replay.labels.job import LabelJob, label_jobs, label_summary_lines, run_label_job
    from replay.run.executor import FAILED, OK, execute

    check_executor(workers, scheduler, connect_timeout)
    job = LabelJob(
        lake,
        parse_date(date),
        gold,
        load_label_config(config),
        chunk_rows=chunk_rows,
        force=force,
        wait=not no_wait,
    )
    jobs, skipped = label_jobs(
        job, parse_date(end_date, "--end-date") if end_date is not None else None
    )
    if not jobs:
        raise UserError(
            f"no Gold session from {date} to {end_date}",
            path=str(gold),
            expected="the output root of a replay of that range",
        )
    reports = list(skipped)
    where = {"workers": workers, "scheduler": scheduler, "connect_timeout": connect_timeout}
    for rep in execute(jobs, runner=run_label_job, **where):
        reports.append(rep)
        if rep.status == FAILED:
            typer.echo(f"FAILED {rep.date.isoformat()}: {rep.reason}", err=True)
        elif rep.status == OK and rep.reason:
            typer.echo(f"{rep.date.isoformat()}: {rep.reason}")
    if end_date is None and reports[0].status == FAILED:
        raise UserError(reports[0].reason or "failed")
    close_range("label", label_summary_lines(reports), gold / "gold", reports, len(skipped))


def report(
    out: Annotated[Path, typer.Argument(help="output root of a labelled Gold run")],
    date: Annotated[str | None, typer.Option("--date", help="first session (default: all)")] = None,
    end_date: Annotated[str | None, typer.Option("--end-date", help="last session")] = None,
    md: Annotated[
        Path | None,
        typer.Option("--out", help="Markdown file (default OUT/signal-quality.md); PNGs beside"),
    ] = None,
) -> None:
    """Signal quality of a labelled run (SPEC §10.2): per signal, level kind and horizon, entries,
    outcome shares and hit rate with a Wilson 95 % interval against the base rate of NEUTRAL
    rows at the same distance. Markdown plus one PNG per horizon; stale labels exit 2."""
    import polars as pl

    from replay.labels.report_files import write_report

    first = None if date is None else parse_date(date)
    last = None if end_date is None else parse_date(end_date, "--end-date")
    res = write_report(out, md, first, last)
    t = res.table
    for row in t.filter(pl.col("horizon_s") == t["horizon_s"].max()).iter_rows(named=True):
        hit = "—" if row["hit_rate"] is None else f"{100 * row['hit_rate']:.1f} %"
        base = "—" if row["base_rate"] is None else f"{100 * row['base_rate']:.1f} %"
        typer.echo(
            f"{row['signal']:<6} {row['level_kind']:<13} {row['horizon_s']:>4} s: "
            f"{row['entries']:>4} entries, hit {hit} (base {base})"
        )
    typer.echo(f"{len(res.sessions)} session(s) → {res.markdown} and {len(res.pngs)} PNG(s)")
