"""One live run end to end: consume, optionally write Gold + manifest, report (CLI and API)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import numpy as np

from engines.contract.config import EngineConfig
from engines.create import ENGINES
from replay.common.atomic import write_bytes_atomic, writes_into
from replay.common.errors import UserError
from replay.live.gold import LiveGold
from replay.live.live import LiveReport, run_live


def latency_figures(report: LiveReport) -> dict[str, float | int]:
    """p50 / p99 / p99.9 of arrival -> publish per closing message (ms), and the consumption
    rate as a multiple of the session's event-time span."""
    lat = np.asarray(report.latency_ns, dtype=np.int64)
    out: dict[str, float | int] = {
        "samples": int(lat.shape[0]),
        "seconds": round(report.seconds, 3),
    }
    if lat.shape[0]:
        for name, q in (("p50_ms", 50), ("p99_ms", 99), ("p999_ms", 99.9), ("max_ms", 100)):
            out[name] = round(float(np.percentile(lat, q, method="higher")) / 1e6, 3)
    if report.first_event_ns is not None and report.last_event_ns is not None:
        span = (report.last_event_ns - report.first_event_ns) / 1e9
        out["event_span_s"] = round(span, 3)
        out["times_real_time"] = round(span / report.seconds, 2) if report.seconds else 0.0
    return out


def live_session(
    url: str,
    cfg: EngineConfig,
    *,
    out: Path | None = None,
    date: dt.date | None = None,
    force: bool = False,
    engine: str = "fast",
    stats: Path | None = None,
) -> str:
    """Run ``live`` for one session; returns the line the CLI prints."""
    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}", expected=" or ".join(ENGINES))
    gold = None if out is None else LiveGold(out, force)
    try:
        report, session = asyncio.run(
            run_live(url, cfg, date=date, gold=None if gold is None else gold.open, engine=engine)
        )
        line = (
            f"live {report.date} from {report.stream}: {report.snaps_published} snaps published, "
            f"{session.counts.windows} windows, {session.counts.watermarks} watermarks, "
            f"{session.counts.duplicate_windows} duplicate windows dropped, "
            f"{session.counts.malformed} malformed, {report.gaps_repaired} gaps repaired, "
            f"{report.redeliveries} redeliveries dropped, {report.resubscribed} resubscribed"
        )
        if gold is not None:
            run = {
                "live": {
                    "stream": report.stream,
                    **session.counts.as_dict(),
                    "gaps_repaired": report.gaps_repaired,
                    "redeliveries_dropped": report.redeliveries,
                    "resubscribed": report.resubscribed,
                }
            }
            assert out is not None
            with writes_into(out, f"the Gold of live session {report.date}"):
                man = gold.commit(cfg, session, report.stream, run)
            line += f" → {man.parent.parent.parent}"
    finally:
        if gold is not None:
            gold.close()
    figures = latency_figures(report)
    if stats is not None:
        doc = json.dumps(figures, sort_keys=True, indent=1).encode() + b"\n"
        write_bytes_atomic(stats, doc, tag="stats")
    if "p99_ms" in figures:
        line += (
            f"; latency p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
            f"p99.9 {figures['p999_ms']} ms"
        )
    return line
