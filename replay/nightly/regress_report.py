"""The regression's report: Markdown for people, JSON for machines (``REPORT/regress.{md,json}``).

Failures first (drift, run-to-run, failed), provenance-only changes in their own section, then a
table of every session in date order. Written atomically, so a nightly job never reads half a
report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from replay.common.atomic import write_bytes_atomic
from replay.nightly.regress import (
    CHUNKS,
    DRIFT,
    FAILED_CHECK,
    NEW,
    PASS,
    PROVENANCE,
    RUN_TO_RUN,
    RegressResult,
)

STATUSES = (PASS, PROVENANCE, DRIFT, RUN_TO_RUN, FAILED_CHECK, NEW)
SECTIONS = (
    (DRIFT, "Gold drift (or labels drift: labels changed, Gold did not)"),
    (RUN_TO_RUN, "Run-to-run differences"),
    (FAILED_CHECK, "Failed sessions"),
    (PROVENANCE, "Provenance only (Gold bytes unchanged)"),
)


def verdict(res: RegressResult) -> str:
    if res.refused is not None:
        return "FAIL (golden file not updated)"
    if res.updated:
        return "UPDATED"
    return "FAIL" if res.failed else "PASS"


def summary_line(res: RegressResult) -> str:
    counts = ", ".join(f"{res.count(s)} {s}" for s in STATUSES if res.count(s))
    n = len(res.checks)
    return f"regress {verdict(res)}: {n} session{'s' * (n != 1)} ({counts}) in {res.seconds:.1f}s"


def to_json(res: RegressResult) -> dict[str, Any]:
    return {
        "verdict": verdict(res),
        "failed": res.failed,
        "golden": str(res.golden),
        "lake": str(res.lake),
        "chunk_events": list(CHUNKS),
        "strict": res.strict,
        "updated": res.updated,
        "refused": res.refused,
        "executor": res.executor,
        "seconds": round(res.seconds, 3),
        "counts": {s: res.count(s) for s in STATUSES},
        "sessions": [c.to_json() for c in res.checks],
    }


def to_markdown(res: RegressResult) -> str:
    lines = [
        f"# levelreplay regress: {verdict(res)}",
        "",
        f"- golden file: `{res.golden}`",
        f"- lake: `{res.lake}`",
        f"- runs: chunk sizes {CHUNKS[0] or 'as read'} and {CHUNKS[1]} on {res.executor}",
        f"- {summary_line(res)}" + (" (provenance fails: --strict)" if res.strict else ""),
    ]
    if res.refused:
        lines.append(f"- `--update` refused: {res.refused}")
    for status, title in SECTIONS:
        hits = [c for c in res.checks if c.status == status]
        if hits:
            lines += ["", f"## {title}", ""]
            lines += [f"- **{c.date}**: {c.detail}" for c in hits]
    lines += [
        "",
        "## Sessions",
        "",
        "| session | status | rows | outputs digest | golden outputs digest | labels digest |",
        "|---|---|---:|---|---|---|",
    ]
    for c in res.checks:
        rows = "" if c.rows is None else f"{c.rows:,}"
        lines.append(
            f"| {c.date} | {c.status} | {rows} | {(c.outputs_digest or '')[:16]} "
            f"| {(c.golden_outputs_digest or '')[:16]} | {(c.labels_outputs_digest or '')[:16]} |"
        )
    return "\n".join(lines) + "\n"


def write_reports(res: RegressResult) -> tuple[Path, Path]:
    md, js = res.report_dir / "regress.md", res.report_dir / "regress.json"
    write_bytes_atomic(md, to_markdown(res).encode("utf-8"), "report")
    text = json.dumps(to_json(res), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    write_bytes_atomic(js, text.encode("utf-8"), "report")
    return md, js
