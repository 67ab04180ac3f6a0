"""The golden file of `levelreplay regress` (SPEC §4): what the Gold of each listed session must be.

Small and meant for git review: per session its ``outputs_digest`` (the Gold bytes' identity),
its manifest ``digest``, its rows and its inputs; once for the file, what made it (tool version,
code digest, resolved config, output-shaping library versions). A change of Gold bytes therefore
shows in review as changed ``outputs_digest`` lines, and a code-only change as a changed
``code_digest`` with the sessions' ``outputs_digest`` untouched. ``provenance()`` rebuilds, for
one session, the fields of a manifest's ``deterministic`` part the file records, so ``verify``'s
comparison names what differs.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replay.common.atomic import write_bytes_atomic
from replay.errors import UserError

FORMAT = "levelreplay-golden/1"
MADE_WITH = ("tool_version", "code_digest", "config", "config_sha256", "libraries")
"""The manifest fields recorded once per file (equal for every session of one run)."""


@dataclass(frozen=True)
class GoldenSession:
    """One session's expected Gold."""

    date: str
    outputs_digest: str
    digest: str
    rows: int
    inputs: tuple[dict[str, Any], ...]
    labels: dict[str, str] | None = None  # outputs_digest, gold, labels_sha256 (SPEC §10.1)

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self) | {"inputs": list(self.inputs)}
        if self.labels is None:
            del out["labels"]
        return out


@dataclass(frozen=True)
class Golden:
    """A whole golden file: what made it, and its sessions in date order."""

    made_with: dict[str, Any]
    sessions: tuple[GoldenSession, ...]

    def session(self, date: str) -> GoldenSession | None:
        return next((s for s in self.sessions if s.date == date), None)

    def provenance(self, date: str) -> dict[str, Any]:
        """The ``deterministic`` fields this file records for ``date`` (for ``verify``)."""
        s = self.session(date)
        assert s is not None
        return dict(self.made_with) | {"inputs": list(s.inputs)}

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "made_with": self.made_with,
            "sessions": [s.to_json() for s in self.sessions],
        }


def golden_from_manifests(
    manifests: list[dict[str, Any]], labels: dict[str, dict[str, str]] | None = None
) -> Golden:
    """The golden file recording these sessions' manifests (all from one run), and each
    session's labels (``label_mark``) when given."""
    dets = sorted((m["deterministic"] for m in manifests), key=lambda d: d["session_date"])
    made_with = {k: dets[0][k] for k in MADE_WITH} if dets else {}
    sessions = tuple(
        GoldenSession(
            date=d["session_date"],
            outputs_digest=d["outputs_digest"],
            digest=d["digest"],
            rows=d["rows"],
            inputs=tuple(d["inputs"]),
            labels=(labels or {}).get(d["session_date"]),
        )
        for d in dets
    )
    return Golden(made_with, sessions)


def read_golden(path: Path) -> Golden:
    """Parse a golden file; a bad one is a user error naming the field."""

    def bad(what: str) -> UserError:
        return UserError(
            f"not a golden file: {what}",
            path=str(path),
            expected=f'JSON written by "levelreplay regress --update" (format {FORMAT})',
        )

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            "golden file not found",
            path=str(path),
            expected="an existing file, or --update to write one from the lake's sessions",
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise bad(f"{type(exc).__name__}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise bad(f"format {doc.get('format') if isinstance(doc, dict) else None!r}")
    made_with = doc.get("made_with")
    if not isinstance(made_with, dict):
        raise bad("field 'made_with' missing or not an object")
    sessions = []
    for i, s in enumerate(doc.get("sessions") or []):
        try:
            sessions.append(
                GoldenSession(
                    date=str(s["date"]),
                    outputs_digest=str(s["outputs_digest"]),
                    digest=str(s["digest"]),
                    rows=int(s["rows"]),
                    inputs=tuple(s["inputs"]),
                    labels=_labels(s.get("labels")),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise bad(f"session {i}: field {exc} missing or mistyped") from None
    if not sessions:
        raise bad("no sessions listed")
    return Golden(made_with, tuple(sorted(sessions, key=lambda s: s.date)))


def _labels(mark: Any) -> dict[str, str] | None:
    """A session's recorded labels, checked (a file without them is an older golden file)."""
    if mark is None:
        return None
    keys = ("outputs_digest", "gold", "labels_sha256")
    if not isinstance(mark, dict) or not all(isinstance(mark.get(k), str) for k in keys):
        raise TypeError("'labels'")
    return {k: mark[k] for k in keys}


def write_golden(path: Path, golden: Golden) -> None:
    """Write (atomically) with sorted keys and two-space indents: small, stable diffs."""
    text = json.dumps(golden.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"), tag="golden")
