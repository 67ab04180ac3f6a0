"""`levelreplay regress`: the nightly determinism regression (SPEC §4, §3.3).

Every session the golden file lists is replayed twice, with different chunk sizes, into
``REPORT/runs/a`` and ``REPORT/runs/b``. Each session is then one of:

- ``pass``: both runs byte-identical; run A's ``outputs_digest`` and ``digest`` equal the file's;
- ``provenance``: Gold bytes as the file says, but the manifest ``digest`` differs (code, config or
  an input changed without changing Gold): named, reported apart, a failure only with ``--strict``;
- ``drift``: the Gold bytes differ from the file's. The row is named by comparing with the
  baseline — ``REPORT/baseline`` keeps the Gold of the golden bytes from the last ``--update`` or
  passing run — else the digests are;
- ``run-to-run``: the two chunkings gave different Gold or manifests (determinism is broken);
- ``failed``: a replay failed (e.g. a golden session that is not in the lake);
- ``new``: (``--update`` only) a session the file does not list yet.

Labels (SPEC §10.1) are regressed with the Gold: each run is labelled (batches as read and of
997 rows), the two must be byte-identical, and run A's labels must have the ``outputs_digest`` the
file records for them. Labels that differ while Gold does not are ``drift`` ("labels drift"); when
Gold drifted, the file's labels are named stale (built from the old Gold) in the detail.

``--update`` rewrites the file from run A, and refuses after a failed or non-identical run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.contract.config import EngineConfig
from replay.common.atomic import write_bytes_atomic
from replay.common.errors import LevelReplayError, UserError
from replay.common.hashing import sha256_file
from replay.common.progress import range_progress
from replay.gold.golden import (
    Golden,
    GoldenSession,
    golden_from_manifests,
    read_golden,
    write_golden,
)
from replay.gold.layout import gold_file, manifest_file, staging_dir
from replay.gold.verify import DRIFT as DRIFT_KIND
from replay.gold.verify import (
    Difference,
    SessionOutput,
    compare_sessions,
    provenance,
    read_session,
)
from replay.labels.config import LabelConfig
from replay.labels.job import LabelJob, label_mark, run_label_job
from replay.lake.layout import lake_dates, read_errors_named
from replay.lake.replayable import replayability
from replay.run.dask_executor import DEFAULT_CONNECT_TIMEOUT
from replay.run.executor import FAILED, SessionReport, execute
from replay.run.replay_job import ReplayJob
from replay.run.session import session_inputs

LABEL_CHUNKS: tuple[int | None, int] = (None, 997)
"""Gold rows per labelling batch in runs A and B (labels must not depend on it)."""

CHUNKS: tuple[int | None, int] = (None, 4099)
"""Run A as the reader delivers batches, run B in 4099-event chunks (a prime: chunk edges fall
everywhere relative to snaps and batches)."""

PASS, PROVENANCE, DRIFT, RUN_TO_RUN, FAILED_CHECK, NEW = (
    "pass",
    "provenance",
    "drift",
    "run-to-run",
    "failed",
    "new",
)
FAILING = (DRIFT, RUN_TO_RUN, FAILED_CHECK)


@dataclass(frozen=True)
class SessionCheck:
    """One golden session's verdict."""

    date: str
    status: str
    detail: str
    rows: int | None = None
    outputs_digest: str | None = None  # run A's
    golden_outputs_digest: str | None = None
    labels_outputs_digest: str | None = None  # run A's labels

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RegressResult:
    """The whole regression: every session's check, in date order, and what was decided."""

    golden: Path
    lake: Path
    report_dir: Path
    checks: tuple[SessionCheck, ...]
    strict: bool
    updated: bool
    refused: str | None  # why --update did not write the file
    seconds: float
    executor: str

    @property
    def failed(self) -> bool:
        bad = FAILING + ((PROVENANCE,) if self.strict else ())
        return self.refused is not None or (
            not self.updated and any(c.status in bad for c in self.checks)
        )

    def count(self, status: str) -> int:
        return sum(c.status == status for c in self.checks)


def regress(
    lake: Path,
    golden_path: Path,
    *,
    config: EngineConfig,
    labels: LabelConfig | None = None,
    report_dir: Path,
    update: bool = False,
    strict: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> RegressResult:
    """Replay, compare, and (``update``) rewrite the golden file; never raises for a session."""
    t0 = time.perf_counter()
    golden = _golden_or_none(golden_path, update)
    dates = _dates(lake, golden)
    where = {"workers": workers, "scheduler": scheduler, "connect_timeout": connect_timeout}
    clear_runs(report_dir)
    before = {d.isoformat(): read_inputs(lake, d) for d in dates}
    outs = [report_dir / "runs" / name for name in ("a", "b")]
    reports: list[dict[str, SessionReport]] = []
    with range_progress(len(CHUNKS) * len(dates), "regress") as bar:
        for out, chunk in zip(outs, CHUNKS, strict=True):
            jobs = [ReplayJob(lake, d, out, config, chunk_events=chunk, force=True) for d in dates]
            label = f"regress run {out.name}"
            progress = lambda j, label=label: bar.session(f"{label} {j.date}")  # noqa: E731
            done: dict[str, SessionReport] = {}
            for r in execute(jobs, progress=progress, **where):
                bar.finished()
                done[r.date.isoformat()] = r
            reports.append(done)
    label_cfg = labels or LabelConfig()
    labelled = _label_runs(lake, dates, outs, reports, label_cfg, where)
    baseline = report_dir / "baseline"
    after = {d.isoformat(): read_inputs(lake, d) for d in dates}
    checks = [
        _check_lake(
            _check_labels(
                _check(d.isoformat(), reports, outs, golden, baseline),
                [r.get(d.isoformat()) for r in labelled],
                None if golden is None else golden.session(d.isoformat()),
                label_cfg,
            ),
            outs,
            before[d.isoformat()],
            after[d.isoformat()],
        )
        for d in sorted(dates)
    ]
    refused = updated = None
    if update:
        bad = [c for c in checks if c.status in (FAILED_CHECK, RUN_TO_RUN)]
        if bad:
            refused = "; ".join(f"{c.date} {c.status}" for c in bad)
        else:
            sessions = [read_session(outs[0], c.date) for c in checks]
            marks = {c.date: label_mark(outs[0], dt.date.fromisoformat(c.date)) for c in checks}
            write_golden(golden_path, golden_from_manifests([s.manifest for s in sessions], marks))
            for s in sessions:
                _keep_baseline(s, baseline)
            updated = True
    else:
        for c in checks:  # the Gold is the golden bytes: keep it to name the row of a drift
            if c.status in (PASS, PROVENANCE):
                _keep_baseline(read_session(outs[0], c.date), baseline)
    return RegressResult(
        golden=golden_path,
        lake=lake,
        report_dir=report_dir,
        checks=tuple(checks),
        strict=strict,
        updated=bool(updated),
        refused=refused,
        seconds=time.perf_counter() - t0,
        executor="dask" if scheduler else ("process-pool" if workers > 1 else "serial"),
    )


def _golden_or_none(path: Path, update: bool) -> Golden | None:
    if update and not path.exists():
        return None  # a first --update lists every session of the lake
    return read_golden(path)


def _dates(lake: Path, golden: Golden | None) -> list[dt.date]:
    if golden is not None:
        return [dt.date.fromisoformat(s.date) for s in golden.sessions]
    have = [dt.date.fromisoformat(d) for d in lake_dates(lake)]
    dates = [d for d in have if replayability(lake, d).replayable]
    if not dates:
        raise UserError("no replayable session to record", path=str(lake), expected="a lake")
    return dates


def _check(
    date: str,
    reports: list[dict[str, SessionReport]],
    outs: list[Path],
    golden: Golden | None,
    baseline: Path,
) -> SessionCheck:
    ra, rb = (r.get(date) for r in reports)
    g = None if golden is None else golden.session(date)
    gd = None if g is None else g.outputs_digest
    for name, r in (("A", ra), ("B", rb)):
        if r is None or r.status == FAILED:
            why = "no report" if r is None else r.reason
            return SessionCheck(date, FAILED_CHECK, f"run {name} failed: {why}", None, None, gd)
    try:
        a, b = read_session(outs[0], date), read_session(outs[1], date)
    except LevelReplayError as exc:
        return SessionCheck(date, FAILED_CHECK, str(exc), None, None, gd)
    rows, od = a.det["rows"], a.det["outputs_digest"]
    diffs = compare_sessions(a, b)
    if diffs:
        what = _described(diffs, date)
        return SessionCheck(date, RUN_TO_RUN, f"chunks {CHUNKS}: {what}", rows, od, gd)
    if golden is None or g is None:
        return SessionCheck(date, NEW, "not in the golden file", rows, od, gd)
    changed = provenance(_recorded(golden.provenance(date), a.det), a.det)
    if od != g.outputs_digest:
        detail = _drift_detail(baseline, a, g.outputs_digest)
        if changed:
            detail += "; changed since the golden file: " + "; ".join(changed)
        return SessionCheck(date, DRIFT, detail, rows, od, gd)
    if a.det["digest"] != g.digest:
        what = "; ".join(changed) or "manifest fields the golden file does not record"
        return SessionCheck(date, PROVENANCE, f"Gold identical; {what}", rows, od, gd)
    return SessionCheck(date, PASS, "Gold and manifest digest as recorded", rows, od, gd)


def _label_runs(
    lake: Path,
    dates: list[dt.date],
    outs: list[Path],
    reports: list[dict[str, SessionReport]],
    cfg: LabelConfig,
    where: dict[str, Any],
) -> list[dict[str, SessionReport]]:
    """Label each run's replayed sessions (run A and B in different batch sizes)."""
    done: list[dict[str, SessionReport]] = []
    for out, chunk, rep in zip(outs, LABEL_CHUNKS, reports, strict=True):
        ok = [d for d in dates if (r := rep.get(d.isoformat())) is not None and r.status != FAILED]
        jobs = [LabelJob(lake, d, out, cfg, chunk_rows=chunk, force=True) for d in ok]
        runs = execute(jobs, runner=run_label_job, **where)
        done.append({r.date.isoformat(): r for r in runs})
    return done


def _check_labels(
    check: SessionCheck,
    runs: list[SessionReport | None],
    golden: GoldenSession | None,
    cfg: LabelConfig,
) -> SessionCheck:
    """The session's verdict with its labels: run-to-run identity, then the golden digest."""
    if check.status in (FAILED_CHECK, RUN_TO_RUN):
        return check
    for name, r in zip("AB", runs, strict=True):
        if r is None or r.status == FAILED:
            why = "no report" if r is None else r.reason
            return dataclasses.replace(
                check, status=FAILED_CHECK, detail=f"labelling run {name} failed: {why}"
            )
    la, lb = (r.outputs_digest for r in runs if r is not None)
    check = dataclasses.replace(check, labels_outputs_digest=la)
    if la != lb:
        what = f"labels differ across batch sizes {LABEL_CHUNKS}: {la[:16]}… vs {lb[:16]}…"
        return dataclasses.replace(check, status=RUN_TO_RUN, detail=what)
    mark = None if golden is None else golden.labels
    if mark is None or check.status == NEW:
        return check
    if check.status == DRIFT:
        stale = f"; the golden file's labels are stale (built from Gold {mark['gold'][:16]}…)"
        return dataclasses.replace(check, detail=check.detail + stale)
    if mark["labels_sha256"] != cfg.sha256():
        note = "; labels made with another [labels] table than the golden file's"
        return dataclasses.replace(check, detail=check.detail + note)
    if la != mark["outputs_digest"]:
        what = (
            f"labels drift: outputs_digest {mark['outputs_digest'][:16]}… (golden) vs "
            f"{la[:16]}… with the Gold as recorded"
        )
        return dataclasses.replace(check, status=DRIFT, detail=what)
    return check


def read_inputs(lake: Path, date: dt.date) -> list[dict[str, Any]] | str:
    """The inputs a replay of ``date`` reads, each file hashed afresh (not the digest ingest
    recorded, which a replay trusts while size and mtime match): what the lake holds now. A
    session that no longer resolves gives its error's text."""
    try:
        src = session_inputs(lake, date)
        out = []
        for p in src.partitions:
            rec = p.record()
            f = lake / p.path
            if f.is_file():  # the definitions entry hashes the records used, read afresh already
                with read_errors_named(f):
                    rec["sha256"] = sha256_file(f)
            out.append(rec)
        return out
    except LevelReplayError as exc:
        return str(exc)


def _check_lake(
    check: SessionCheck,
    outs: list[Path],
    before: list[dict[str, Any]] | str,
    after: list[dict[str, Any]] | str,
) -> SessionCheck:
    """The session failed if its inputs were not the same bytes all along: before run A, as
    each run's manifest names them, and after the labels (SPEC §3.3: identity is only proven
    over the same inputs). Said with the first input that differs."""
    named: list[tuple[str, object]] = [("before run A", before)]
    for out, run in zip(outs, "AB", strict=True):
        with contextlib.suppress(LevelReplayError):  # no pair: the check says why already
            named.append((f"as run {run} recorded", read_session(out, check.date).det["inputs"]))
    named.append(("after run B and the labels", after))
    first_what, first = named[0]
    for what, inputs in named[1:]:
        if inputs != first:
            where = _first_input_difference(first, inputs)
            detail = (
                f"the lake changed during the regression: {where} ({first_what} vs {what}); "
                "rerun on a lake nothing writes to"
            )
            return dataclasses.replace(check, status=FAILED_CHECK, detail=detail)
    return check


def _first_input_difference(a: object, b: object) -> str:
    if not (isinstance(a, list) and isinstance(b, list)):
        sa, sb = (x if isinstance(x, str) else "the inputs resolved" for x in (a, b))
        return f"{sa} vs {sb}"
    by_a, by_b = {str(x.get("path")): x for x in a}, {str(x.get("path")): x for x in b}
    for path in sorted(set(by_a) | set(by_b)):
        x, y = by_a.get(path), by_b.get(path)
        if x != y:
            return f"{path}: {_sha_text(x)} vs {_sha_text(y)}"
    return "the inputs' order"


def _sha_text(rec: dict[str, Any] | None) -> str:
    return "absent" if rec is None else f"sha256 {str(rec.get('sha256'))[:12]}…"


def _recorded(golden_fields: dict[str, Any], det: dict[str, Any]) -> dict[str, Any]:
    """The golden file's fields, with ``det``'s value for any it does not record."""
    return {k: golden_fields.get(k, v) for k, v in det.items()}


def _drift_detail(baseline: Path, a: SessionOutput, golden_outputs: str) -> str:
    """Name the first differing row against the baseline Gold when it holds the golden bytes."""
    try:
        base = read_session(baseline, a.date)
    except LevelReplayError:
        base = None
    if base is not None and base.det["outputs_digest"] == golden_outputs:
        return _described(compare_sessions(base, a), a.date)
    return (
        f"outputs_digest {golden_outputs[:16]}… (golden) vs {a.det['outputs_digest'][:16]}…; "
        f"no baseline Gold of the golden bytes in {baseline} to name the row "
        f"(a passing run or --update keeps one)"
    )


def _described(diffs: list[Difference], date: str) -> str:
    """verify's differences without the session prefix the report already shows."""
    return "; ".join(
        f"{'' if d.kind == DRIFT_KIND else d.kind + ': '}{d.what.removeprefix(f'session {date}: ')}"
        for d in diffs
    )


def _keep_baseline(s: SessionOutput, baseline: Path) -> None:
    """Copy a session's pair into the baseline (Gold, then manifest; each atomically) unless
    the baseline already holds the same bytes."""
    date = dt.date.fromisoformat(s.date)
    try:
        same = read_session(baseline, s.date).det["outputs_digest"] == s.det["outputs_digest"]
    except LevelReplayError:
        same = False
    man = manifest_file(s.out, date).read_bytes()
    if same and manifest_file(baseline, date).read_bytes() == man:
        return
    staging = staging_dir(baseline)
    write_bytes_atomic(gold_file(baseline, date), s.gold.read_bytes(), "base", staging)
    write_bytes_atomic(manifest_file(baseline, date), man, "base", staging)


def clear_runs(report_dir: Path) -> None:
    """Remove last night's two runs (the baseline stays)."""
    shutil.rmtree(report_dir / "runs", ignore_errors=True)
