"""`levelreplay demo`: the embedded sample session end to end.

sample (generated into ``data/sample`` if missing) → a fresh demo lake → ingest report → replay
from Bronze → build the MBP-10 Silver mirror → a second replay, from Silver with another chunk
size → verify (byte-identical) → per-level summary → PNG.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import typer

from engines.contract.config import EngineConfig
from replay.common.errors import CheckFailed
from replay.gold.plot import plot_gold
from replay.gold.summary import session_summary
from replay.gold.verify import PROVENANCE, compare, read_session
from replay.lake.ingest import ingest
from replay.lake.ingest_report import print_reports
from replay.lake.silver import build_silver, silver_file
from replay.run.replay_job import ReplayJob, replay_session

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
    dates = sorted({d for r in reports for d in r.dates})
    cfg = EngineConfig()
    for day in dates:
        date = dt.date.fromisoformat(day)
        runs = []
        for name, chunk in (("run-a", None), ("run-b", 997)):
            out = demo_dir / name
            shutil.rmtree(out, ignore_errors=True)  # a fresh run: nothing left from older layouts
            if name == "run-b" and build_silver(lake, date) is not None:
                typer.echo(f"silver {day}: MBP-10 book changes → {silver_file(lake, date)}")
            res = replay_session(ReplayJob(lake, date, out, cfg, chunk_events=chunk, force=True))
            ev = sum(res.events.values())
            src = json.loads(res.manifest.read_text())["run"]["depth_source"]
            typer.echo(
                f"replay {day} [{name}, {src}, chunk {chunk or 'as read'}]: {ev:,} events, "
                f"{res.snaps:,} snaps, {res.rows:,} rows in {res.seconds:.1f}s "
                f"({ev / max(res.seconds, 1e-9):,.0f} events/s), digest {res.digest[:16]}"
            )
            runs.append(res)
        # run-b read Silver, so its manifest lists one more input: provenance, never drift
        diffs = compare(demo_dir / "run-a", demo_dir / "run-b")
        if any(d.kind != PROVENANCE for d in diffs):
            raise CheckFailed("determinism check failed: " + "; ".join(map(str, diffs)))
        typer.echo(
            f"verify: run-a and run-b have byte-identical Gold "
            f"(outputs_digest {runs[0].outputs_digest[:16]})"
        )
        for d in diffs:
            typer.echo(f"verify: {d}")
        for line in session_summary(read_session(demo_dir / "run-a", day)):
            typer.echo(line)
        png = plot_gold(runs[0].gold, demo_dir / f"timeline-{day}.png", cfg)
        typer.echo(f"plot: {png}")
