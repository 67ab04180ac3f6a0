"""The run room's commands: ``replay`` (one session or a range, on any executor),
``info`` and ``config show``.

Each is a plain function with its typer options; ``replay/cli.py`` registers it and maps
its errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from replay.common.cli_options import (
    ConfigOption,
    ConnectTimeoutOption,
    LakeOption,
    NoWaitOption,
    SchedulerOption,
    WorkersOption,
    parse_date,
)
from replay.common.config import load_config
from replay.common.errors import UserError
from replay.run.cli_range import check_executor, close_range


def replay(
    lake: LakeOption,
    date: Annotated[str, typer.Option("--date", help="CME trade date YYYY-MM-DD")],
    end_date: Annotated[str | None, typer.Option("--end-date", help="last date of a range")] = None,
    config: ConfigOption = None,
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
    no_wait: NoWaitOption = False,
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
    workers: WorkersOption = 1,
    scheduler: SchedulerOption = None,
    connect_timeout: ConnectTimeoutOption = 10.0,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="skip sessions whose committed Gold matches this job; redo the rest"
        ),
    ] = False,
) -> None:
    """Bronze → Gold + manifest for each session. A range (--end-date) runs every session with
    data, reports a failing one with its reason while the others complete (exit 1), prints a
    table in date order and writes OUT/gold/_runs/replay-summary.json."""
    from replay.common.progress import range_progress, snap_progress
    from replay.gold.layout import gold_root
    from replay.lake.layout import lake_dates
    from replay.run.executor import (
        FAILED,
        execute,
        range_jobs,
        summary_lines,
    )
    from replay.run.replay_job import ReplayJob, replay_session

    job = ReplayJob(
        lake,
        parse_date(date),
        out,
        load_config(config),
        chunk_events=chunk_events,
        engine=engine,
        symbol=symbol,
        use_silver=silver,
        force=force,
        wait=not no_wait,
    )
    check_executor(workers, scheduler, connect_timeout)
    if end_date is None and not resume and scheduler is None:  # one session: exit 2 on bad input
        with snap_progress(f"replay {job.date.isoformat()}") as on_snap:
            res = replay_session(job, on_snap)
        ev = sum(res.events.values())
        typer.echo(
            f"{res.date.isoformat()}: {ev} events, {res.snaps} snaps, {res.rows} rows in "
            f"{res.seconds:.1f}s ({ev / max(res.seconds, 1e-9):,.0f} events/s) → {res.gold} "
            f"digest {res.digest[:16]}"
        )
        return
    jobs, skipped = range_jobs(
        job, parse_date(end_date, "--end-date") if end_date is not None else None
    )
    if not jobs:
        have = lake_dates(lake)
        raise UserError(
            f"no replayable session from {date} to {end_date}",
            path=str(lake),
            expected="a range holding an ingested session; the lake has "
            + (f"{len(have)} dates, {have[0]} to {have[-1]}" if have else "no sessions"),
        )
    reports = list(skipped)
    with range_progress(len(jobs), "replay") as bar:
        for rep in execute(
            jobs,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
            connect_timeout=connect_timeout,
            progress=lambda j: bar.session(f"replay {j.date.isoformat()}"),
        ):
            bar.finished()
            reports.append(rep)
            if rep.status == FAILED:
                typer.echo(f"FAILED {rep.date.isoformat()}: {rep.reason}", err=True)
            elif rep.note:
                typer.echo(f"{rep.date.isoformat()}: {rep.note}", err=True)
    close_range("replay", summary_lines(reports), gold_root(out), reports, len(skipped))


def info(lake: Annotated[Path, typer.Option("--lake", help="lake root")]) -> None:
    """Sessions in the lake, rows per table, time spans."""
    from replay.run.info import lake_info

    for line in lake_info(lake):
        typer.echo(line)


def config_show(
    config: Annotated[
        Path | None, typer.Option("--config", help=r"TOML file with an \[engine] table")
    ] = None,
) -> None:
    """Print the resolved engine config as TOML."""
    cfg = load_config(config)
    typer.echo(cfg.to_toml(), nl=False)
