"""The nightly checks' commands: ``verify`` two runs and ``regress`` against a golden file.

Each is a plain function with its typer options; ``replay/cli.py`` registers it and maps
its errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from replay.common.cli_options import (
    ConfigOption,
    ConnectTimeoutOption,
    LakeOption,
    SchedulerOption,
    WorkersOption,
)
from replay.common.config import load_config
from replay.common.errors import CheckFailed
from replay.run.cli_range import check_executor


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

    check_executor(workers, scheduler, connect_timeout)
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
