"""`levelreplay` command line (typer). Thin: parse, call a function, print.

Every command leaves through ``_guarded``: an error of the one hierarchy (``common/errors.py``)
prints one paragraph and exits with its own code (2 user error, 1 failed check); a traceback only
ever means a bug in levelreplay.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

_interrupted: list[bool] = []


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    """Python's own Ctrl-C behaviour, remembered: a C extension interrupted while it loads
    (pandas, pyarrow) turns the KeyboardInterrupt into an ImportError or a half-made module, and
    whatever follows must still be reported as the interrupt it was."""
    _interrupted.append(True)
    raise KeyboardInterrupt


def _quiet_unraisable(unraisable: Any) -> None:
    """After Ctrl-C, what Python cannot propagate is reported once, by the exit path, not as an
    'Exception ignored' trace: the interrupt itself landing in a callback (numba's LLVM hooks
    during a compile), and finalizers failing at shutdown on objects it left half made
    (llvmlite's ``ObjectRef.__del__`` on a reference whose construction it cut short)."""
    if _interrupted:
        return
    sys.__unraisablehook__(unraisable)


if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    sys.unraisablehook = _quiet_unraisable
    with contextlib.suppress(ValueError):  # imported off the main thread: leave Python's
        signal.signal(signal.SIGINT, _on_sigint)

try:  # Ctrl-C while the libraries load: nothing was written yet, and no traceback
    import typer

    from replay.common.errors import CheckFailed, LevelReplayError, UserError
    from replay.run.config import load_config
except BaseException as exc:
    if not (_interrupted or isinstance(exc, KeyboardInterrupt)):
        raise
    sys.stderr.write("interrupted while starting: nothing was written\n")
    raise SystemExit(130) from None

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Deterministic replay of ES break/reject level signals from Databento GLBX.MDP3 data.",
)
config_app = typer.Typer(no_args_is_help=True, help="Engine configuration.")
app.add_typer(config_app, name="config")

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

DEFAULT_SAMPLE_DIR = Path("data/sample")
DEFAULT_LAKE = Path("data/lake")


def _explained(command: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Run ``command``; an error of the hierarchy or of the environment becomes its paragraph."""
    try:
        command(*args, **kwargs)
    except LevelReplayError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:  # `levelreplay info | head`: the reader left; say nothing more
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(141) from None  # 128 + SIGPIPE, as a shell pipeline reports it
    except OSError as exc:  # the environment: a path of the wrong kind, a full disk, EROFS
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(
            f"error: {where}{exc.strerror or exc} (expected a path that exists, of the "
            "right kind (file or directory), on a writable filesystem with free space; "
            "nothing half-written was left in place)",
            err=True,
        )
        raise typer.Exit(2) from None


def _guarded(command: Callable[..., None]) -> Callable[..., None]:
    """The one exit path of every command: a ``LevelReplayError`` prints its one paragraph and
    exits with its own code (1 check failed, 2 user error, 3 internal); no traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            _explained(command, *args, **kwargs)
        except BaseException as exc:
            if not (_interrupted or isinstance(exc, KeyboardInterrupt)):
                raise
            _say_interrupted()  # whatever the interrupt became on its way up
            raise typer.Exit(130) from None

    return run


@app.command()
@_guarded
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


@app.command()
@_guarded
def silver(
    lake: Annotated[Path, typer.Option("--lake", help="lake root")],
    date: Annotated[str, typer.Option("--date", help="first session YYYY-MM-DD")],
    end_date: Annotated[str | None, typer.Option("--end-date", help="last session")] = None,
) -> None:
    """Build the MBP-10 Silver mirror (per-record book changes) for faster repeated replays."""
    from replay.lake.layout import list_dates

    dates = _dates(date, end_date)
    have = set(list_dates(lake, "futures_mbp10"))
    missing = [d for d in dates if d not in have]
    if end_date is None and missing:
        raise UserError(f"no MBP-10 partition for {date}", path=str(lake))
    _build_silver(lake, [d for d in dates if d in have])


@app.command()
@_guarded
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

    _date(date)
    checks = (
        (1 <= minutes <= 1380, f"--minutes {minutes}", "1..1380 (one Globex session at most)"),
        (1 <= days <= 250, f"--days {days}", "1..250 sessions"),
        (
            math.isfinite(intensity) and 0 < intensity <= 100,
            f"--intensity {intensity}",
            "a finite event-rate multiplier in (0, 100]",
        ),
        (seed >= 0, f"--seed {seed}", "a non-negative integer"),
        (_is_hh_mm(start), f"--start {start}", "HH:MM, 00:00..23:59, America/Chicago"),
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


def _is_hh_mm(text: str) -> bool:
    try:
        dt.time.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 5 and text[2] == ":"


def _date(text: str, option: str = "--date") -> dt.date:
    from replay.common.dates import iso_date

    return iso_date(text, option)


def _dates(date: str, end_date: str | None) -> list[dt.date]:
    from replay.run.executor import date_range

    return date_range(_date(date), None if end_date is None else _date(end_date, "--end-date"))


def _check_executor(workers: int, scheduler: str | None, connect_timeout: float) -> None:
    """The executor options, checked before any work: a bad one is exit 2 naming it."""
    from replay.run.dask_executor import check_connect_timeout, scheduler_address

    if workers < 1:
        raise UserError(f"--workers {workers}", expected="at least 1")
    if scheduler is not None:
        scheduler_address(scheduler)
    if not math.isfinite(connect_timeout):
        raise UserError(f"--connect-timeout {connect_timeout}", expected="seconds in (0, 600]")
    check_connect_timeout(connect_timeout)


def _close_range(
    command: str, lines: list[str], root: Path, reports: list[Any], skipped: int
) -> None:
    """A range command's end: its table, ``ROOT/_runs/<command>-summary.json``, and exit 1
    naming the sessions that failed."""
    from replay.run.executor import FAILED, write_summary

    for line in lines:
        typer.echo(line)
    write_summary(root / "_runs" / f"{command}-summary.json", command, reports)
    failed = [r.date.isoformat() for r in reports if r.status == FAILED]
    if failed:
        n = len(reports) - skipped
        raise CheckFailed(f"{len(failed)} of {n} sessions failed: {', '.join(failed)}")


@app.command()
@_guarded
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
        _date(date),
        out,
        load_config(config),
        chunk_events=chunk_events,
        engine=engine,
        symbol=symbol,
        use_silver=silver,
        force=force,
        wait=not no_wait,
    )
    _check_executor(workers, scheduler, connect_timeout)
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
    jobs, skipped = range_jobs(job, None if end_date is None else _date(end_date, "--end-date"))
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
    _close_range("replay", summary_lines(reports), gold_root(out), reports, len(skipped))


@app.command()
@_guarded
def verify(
    a: Annotated[
        Path, typer.Argument(help="first Gold run (output root, session dir or manifest)")
    ],
    b: Annotated[Path, typer.Argument(help="second Gold run")],
) -> None:
    """Compare two Gold runs: exit 0 identical, 1 Gold drift or provenance only (each named),
    2 when A or B is not a complete Gold run."""
    from replay.gold.verify import compare
    from replay.labels.job import label_notes

    for line in label_notes(a) + label_notes(b):
        typer.echo(line, err=True)
    diffs = compare(a, b)
    if diffs:
        raise CheckFailed("DIFFERENT\n" + "\n".join(str(d) for d in diffs))
    typer.echo(f"identical: {a} == {b} (Gold bytes and manifests' deterministic parts)")


@app.command()
@_guarded
def regress(
    lake: LakeOption,
    golden: Annotated[Path, typer.Option("--golden", help="golden JSON (small, kept in git)")],
    update: Annotated[
        bool, typer.Option("--update", help="rewrite the golden file from this run")
    ] = False,
    config: ConfigOption = None,
    workers: WorkersOption = 1,
    scheduler: SchedulerOption = None,
    connect_timeout: ConnectTimeoutOption = 10.0,
    report: Annotated[
        Path,
        typer.Option(
            "--report", help="report directory (regress.md, regress.json, runs, baseline)"
        ),
    ] = Path("regress"),
    strict: Annotated[
        bool, typer.Option("--strict", help="provenance-only changes fail too")
    ] = False,
) -> None:
    """Nightly regression: replay every session of the golden file twice (two chunk sizes) and
    label both runs, check run-to-run identity and compare Gold and labels with the file. Exit 1
    on Gold or labels drift, a run-to-run difference or a failed session (provenance-only
    changes too with --strict)."""
    from replay.labels.config import load_label_config
    from replay.nightly.regress import regress as run_regress
    from replay.nightly.regress_report import summary_line, to_markdown, write_reports

    _check_executor(workers, scheduler, connect_timeout)
    res = run_regress(
        lake,
        golden,
        config=load_config(config),
        labels=load_label_config(config),
        report_dir=report,
        update=update,
        strict=strict,
        workers=workers,
        scheduler=scheduler,
        connect_timeout=connect_timeout,
    )
    md, js = write_reports(res)
    if sys.stdout.isatty():
        typer.echo(to_markdown(res))
    else:
        for c in res.checks:
            if c.status != "pass":
                typer.echo(f"{c.status.upper()} {c.date}: {c.detail}")
    typer.echo(f"{summary_line(res)}; report {md} and {js.name}")
    if res.updated:
        typer.echo(f"golden file written: {golden}")
    if res.failed:
        raise CheckFailed(summary_line(res))


@app.command()
@_guarded
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

    _check_executor(workers, scheduler, connect_timeout)
    job = LabelJob(
        lake,
        _date(date),
        gold,
        load_label_config(config),
        chunk_rows=chunk_rows,
        force=force,
        wait=not no_wait,
    )
    jobs, skipped = label_jobs(job, None if end_date is None else _date(end_date, "--end-date"))
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
    _close_range("label", label_summary_lines(reports), gold / "gold", reports, len(skipped))


@app.command()
@_guarded
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

    first = None if date is None else _date(date)
    last = None if end_date is None else _date(end_date, "--end-date")
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


@app.command()
@_guarded
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

    for line in run_summary(out, None if date is None else _date(date).isoformat()):
        typer.echo(line)


@app.command()
@_guarded
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


NatsOption = Annotated[str, typer.Option("--nats", help="NATS server URL, nats://host:port")]


@app.command()
@_guarded
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
    rep = asyncio.run(publish_session(lake, _date(date), nats_url, speed, cfg.snap_ns))
    typer.echo(
        f"publish {date} → {nats_url} stream {rep.stream}: {rep.messages} messages, "
        f"{rep.records} records, {rep.duplicates} already stored, in {rep.seconds:.1f} s"
    )


@app.command()
@_guarded
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
        date=None if date is None else _date(date),
        force=force,
        engine=engine,
        stats=stats,
    )
    typer.echo(rep)


@app.command()
@_guarded
def info(lake: Annotated[Path, typer.Option("--lake", help="lake root")]) -> None:
    """Sessions in the lake, rows per table, time spans."""
    from replay.run.info import lake_info

    for line in lake_info(lake):
        typer.echo(line)


@app.command()
@_guarded
def demo(
    sample_dir: Annotated[Path, typer.Option(help="the embedded sample session")] = Path(
        "data/sample"
    ),
    out: Annotated[Path, typer.Option(help="where the demo lake and outputs go")] = Path(
        "data/demo"
    ),
) -> None:
    """The whole tool on the embedded sample: generate it if missing → ingest → replay twice
    (Bronze, then Silver in other chunks) → verify byte-identical Gold → summary → PNG."""
    from replay.demo import run_demo

    run_demo(sample_dir, out)


@config_app.command("show")
@_guarded
def config_show(
    config: Annotated[
        Path | None, typer.Option("--config", help=r"TOML file with an \[engine] table")
    ] = None,
) -> None:
    """Print the resolved engine config as TOML."""
    cfg = load_config(config)
    typer.echo(cfg.to_toml(), nl=False)


_interrupt_said: list[bool] = []


def _say_interrupted() -> None:
    """One line on Ctrl-C, once (typer turns an interrupt outside a command into a silent 130)."""
    if not _interrupt_said:
        _interrupt_said.append(True)
        typer.echo(
            "interrupted: every session, partition or file reported above as written is "
            "complete; the one in progress was not committed (its temp file is removed by "
            "the next run)",
            err=True,
        )


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SystemExit as exc:
        if exc.code == 130 or _interrupted:
            _say_interrupted()
            sys.exit(130)
        raise
    except BaseException as exc:
        if _interrupted or isinstance(exc, KeyboardInterrupt):
            _say_interrupted()
            sys.exit(130)
        raise


if __name__ == "__main__":
    main()
