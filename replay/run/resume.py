"""``--resume``: which committed sessions count as done (SPEC §3.2, §4).

A session is done only when its pair is whole and was made by this job: the manifest is whole
(every field readers rely on, with ``digest`` and ``outputs_digest`` equal to what its content
hashes to, so a hand-edited manifest is not the record of a run), it records the Gold file's
sha256, and its **job key** equals this job's. The job key is what decides the Gold bytes of a
session: its date, primary future, code digest, resolved config, input partitions (sha256 of
every partition the replay would read, the previous session's included) and the output-shaping
library versions. It is computed from the manifest's (verified) fields on one side and from the
job and the lake on the other, so no new field is needed in manifests already written.

Anything else is replayed over what is there, and the report says why (``Verdict.reason``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from replay.common.errors import LevelReplayError
from replay.gold.layout import gold_file, manifest_file
from replay.gold.manifest import OUTPUT_LIBRARIES, canonical_json, code_digest, library_versions
from replay.gold.manifest import sha256_bytes as sha256_of
from replay.gold.verify import read_session
from replay.run.replay_job import ReplayJob
from replay.run.session import session_inputs

JOB_FIELDS = ("session_date", "instrument", "code_digest", "config_sha256", "inputs", "libraries")
"""The manifest fields that make a session's job key."""


@dataclass(frozen=True)
class Verdict:
    """A committed session under ``--resume``: done (its manifest), or why it is replayed."""

    manifest: dict[str, Any] | None
    reason: str | None  # None when done, or when there was nothing committed to resume

    @property
    def done(self) -> bool:
        return self.manifest is not None


def job_key(fields: dict[str, Any]) -> str:
    """sha256 of the job fields' canonical JSON."""
    return sha256_of(canonical_json({k: fields.get(k) for k in JOB_FIELDS}))


def expected_fields(job: ReplayJob) -> dict[str, Any]:
    """The job fields a replay of ``job`` would record (its inputs resolved from the lake now,
    without reading an event)."""
    src = session_inputs(job.lake, job.date, job.symbol, job.use_silver)
    return {
        "session_date": job.date.isoformat(),
        "instrument": src.primary_symbol,
        "code_digest": code_digest(),
        "config_sha256": job.config.sha256(),
        "inputs": [p.record() for p in src.partitions],
        "libraries": library_versions(OUTPUT_LIBRARIES),
    }


def committed_verdict(job: ReplayJob) -> Verdict:
    """Is the session's committed pair this job's, whole? (Never raises for the pair or the lake:
    a session whose inputs no longer resolve is replayed, and fails with the replay's message.)"""
    if not (gold_file(job.out, job.date).exists() or manifest_file(job.out, job.date).exists()):
        return Verdict(None, None)
    try:
        committed = read_session(job.out, job.date.isoformat())
    except LevelReplayError as exc:
        return Verdict(None, str(exc))
    try:
        want = expected_fields(job)
    except LevelReplayError as exc:
        return Verdict(None, f"its inputs do not resolve: {exc}")
    det = committed.det
    if job_key(det) != job_key(want):
        changed = [k for k in JOB_FIELDS if det.get(k) != want[k]]
        return Verdict(None, "made by another job (" + ", ".join(changed) + " differ)")
    return Verdict(committed.manifest, None)
