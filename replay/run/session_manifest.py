"""The manifest of one replayed session: what went in (the session's sources), what the engine
counted, what came out. The manifest's format and digests are ``replay.gold.manifest``'s; this is
where a run's own types meet it, so the Gold room never imports the run room."""

from __future__ import annotations

from typing import Any

from engines.contract.config import EngineConfig
from engines.seam.session_engine import EngineCounters, SessionSetup
from replay.gold import manifest as gm
from replay.gold.quality import split_counters
from replay.run.session import SessionSources


def session_manifest(
    *,
    cfg: EngineConfig,
    sources: SessionSources,
    setup: SessionSetup,
    counters: EngineCounters,
    rows: int,
    outputs: dict[str, str],
    run: dict[str, Any],
) -> dict[str, Any]:
    """The manifest of one replayed session (SPEC §3.2): what went in, what was counted, what
    came out, and the run facts no comparison reads."""
    mc = counters.market
    counts = {
        "crossed_books": mc["crossed_books"],
        "locked_books": mc["locked_books"],
        "one_sided_books": mc["one_sided_books"],
        "snaps_scored_with_last_valid_book": counters.stale_book_snaps,
        "snaps_without_valid_book": counters.unscored_snaps,
        "sequence_gaps": counters.sequence_gaps,
        "undefined_price_trades": mc["undefined_price_trades"],
        "option_trades_without_definition": sources.option_trades_without_definition,
        "option_iv_out_of_band": counters.option_iv_out_of_band,
        **sources.ingest_quality,
    }
    problems, notes = split_counters(counts)
    det = {
        "tool": gm.TOOL,
        "tool_version": gm.tool_version(),
        "code_digest": gm.code_digest(),
        "config": cfg.to_dict(),
        "config_sha256": cfg.sha256(),
        "session_date": setup.date.isoformat(),
        "instrument": setup.primary_symbol,
        "instrument_id": setup.primary_id,
        "inputs": [p.record() for p in sources.partitions],
        "events": dict(counters.events),
        "snap_t0_ns": setup.t0,
        "snaps": counters.snaps,
        "snaps_with_rows": counters.snaps_with_rows,
        "rows": rows,
        "data_quality": problems,  # SPEC §8: what was excluded or repaired
        "data_notes": notes,  # informational (replay/gold/quality.py)
        "outputs": dict(outputs),
        "outputs_digest": gm.outputs_digest(outputs),
        "libraries": gm.library_versions(gm.OUTPUT_LIBRARIES),
    }
    return gm.build_manifest(det, run)
