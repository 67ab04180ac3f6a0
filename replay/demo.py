"""`levelreplay demo`: the embedded sample session end to end.

Today: sample (generated into ``data/sample`` if missing) → a fresh demo lake → ingest report.
Replay, verify, the per-level summary and the PNG join as those stages land (issue 5).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from replay.ingest import ingest
from replay.ingest_report import print_reports

SAMPLE_DIR = Path("data/sample")
DEMO_DIR = Path("data/demo")


def sample_files(sample_dir: Path) -> list[Path]:
    return sorted(sample_dir.glob("*.dbn.zst"))


def ensure_sample(sample_dir: Path) -> list[Path]:
    """The embedded session; regenerated with the default seed only when absent."""
    files = sample_files(sample_dir)
    if len(files) < 4:
        from replay.sample import generate_session

        typer.echo(f"sample: generating the embedded session into {sample_dir}")
        generate_session(sample_dir)
        files = sample_files(sample_dir)
    return files


def run_demo(sample_dir: Path = SAMPLE_DIR, demo_dir: Path = DEMO_DIR) -> None:
    files = ensure_sample(sample_dir)
    typer.echo(f"sample: {len(files)} DBN files in {sample_dir}")
    lake = demo_dir / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    reports = ingest(files, lake)
    print_reports(reports, lake)
