"""``levelreplay report``: the signal-quality report of a labelled run, as files (SPEC §10.2).

Reads only current labels (stale ones are refused, naming the session), computes the table once,
and writes the Markdown and one PNG per horizon beside it, each atomically.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from replay.common.atomic import write_bytes_atomic
from replay.gold.manifest import read_manifest
from replay.labels.layout import outcomes_manifest
from replay.labels.read import read_labelled
from replay.labels.report import quality_table, report_markdown
from replay.labels.report_plot import plot_quality


@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    pngs: tuple[Path, ...]
    table: pl.DataFrame
    sessions: tuple[dt.date, ...]


def write_report(
    out: Path, md: Path | None = None, first: dt.date | None = None, last: dt.date | None = None
) -> ReportFiles:
    """Report the current labelled sessions of ``out`` in [first, last] into ``md`` (default
    ``OUT/signal-quality.md``), with ``<stem>-<H>s.png`` beside it for every horizon."""
    dates, gold, lab = read_labelled(out, first, last)
    md = md or out / "signal-quality.md"
    table = quality_table(gold, lab)
    det = read_manifest(outcomes_manifest(out, dates[0]))["deterministic"]
    cfgs = {str(read_manifest(outcomes_manifest(out, d))["deterministic"]["labels"]) for d in dates}
    notes = [
        f"Labels: barrier {det['labels']['barrier_pts']} points, horizons "
        f"{', '.join(str(h) for h in det['labels']['horizons_s'])} s, from the primary future's "
        "trades strictly after each snap."
    ]
    if len(cfgs) > 1:
        notes.append("Sessions labelled with different [labels] tables: compare with care.")
    if not table.height:
        notes.append("No BREAK or REJECT entry in these sessions.")
    pngs = []
    horizons = sorted(set(lab["horizon_s"].unique().to_list()))
    for h in horizons:
        pngs.append(plot_quality(table, h, md.with_name(f"{md.stem}-{h}s.png")))
    text = report_markdown(
        table,
        title="Signal quality",
        sessions=[d.isoformat() for d in dates],
        notes=notes,
    )
    text += "\n" + "".join(f"![{h} s]({p.name})\n" for h, p in zip(horizons, pngs, strict=True))
    write_bytes_atomic(md, text.encode("utf-8"), tag="report")
    return ReportFiles(md, tuple(pngs), table, tuple(dates))
