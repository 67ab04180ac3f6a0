"""Live mode's commands: ``publish`` a lake session onto NATS and run ``live``.

Each is a plain function with its typer options; ``replay/cli.py`` registers it and maps
its errors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from replay.common.cli_options import (
    ConfigOption,
    LakeOption,
    parse_date,
)
from replay.common.config import load_config
from replay.common.errors import UserError

NatsOption = Annotated[str, typer.Option("--nats", help="NATS server URL, nats://host:port")]


def publish(
    lake: LakeOption,
    date: Annotated[str, typer.Option("--date", help="CME trade date YYYY-MM-DD")],
    nats_url: NatsOption,
    speed: Annotated[
        float, typer.Option("--speed", help="event time pacing: 1 real time, 0 as fast as acked")
    ] = 0.0,
    config: ConfigOption = None,
) -> None:
    """One Bronze session onto NATS JetStream (market.* subjects, its own stream per date), in
    the merged order, with watermarks and session start/end, as a feed adapter would."""
    import asyncio

    from replay.live.publish import publish_session

    if not (math.isfinite(speed) and speed >= 0):
        raise UserError(f"--speed {speed}", expected="a finite number >= 0 (0: unpaced)")
    cfg = load_config(config)
    rep = asyncio.run(publish_session(lake, parse_date(date), nats_url, speed, cfg.snap_ns))
    typer.echo(
        f"publish {date} → {nats_url} stream {rep.stream}: {rep.messages} messages, "
        f"{rep.records} records, {rep.duplicates} already stored, in {rep.seconds:.1f} s"
    )


def live(
    nats_url: NatsOption,
    out: Annotated[
        Path | None, typer.Option("--out", help="also write Gold + manifest under OUT/gold")
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="the session's stream (default: the newest)")
    ] = None,
    config: ConfigOption = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite existing Gold")] = False,
    engine: Annotated[str, typer.Option("--engine", help="fast or reference")] = "fast",
    stats: Annotated[
        Path | None, typer.Option("--stats", help="write latency figures (JSON) here")
    ] = None,
) -> None:
    """Consume a session from NATS (market.>), drive the engines on event time, publish one
    levels.signals JSON per snap, and optionally write the same Gold as offline replay."""
    from replay.live.run import live_session

    rep = live_session(
        nats_url,
        load_config(config),
        out=out,
        date=None if date is None else parse_date(date),
        force=force,
        engine=engine,
        stats=stats,
    )
    typer.echo(rep)
