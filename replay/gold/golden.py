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
from replay.common.dates import is_iso_date
from replay.common.errors import UserError

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
    """Parse a golden file; a bad one is a user error naming the field and what belongs there
    (every field is type-checked: the file is hand-reviewed in git, so hand-edited too)."""

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
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad(f"{type(exc).__name__}: {str(exc)[:200]}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else f"a JSON {type(doc).__name__}"
        raise bad(f"format {got!r}")
    try:
        made_with = _made_with(doc.get("made_with"))
        sessions = _sessions(doc.get("sessions"))
    except _Bad as exc:
        raise bad(str(exc)) from None
    return Golden(made_with, tuple(sorted(sessions, key=lambda s: s.date)))


class _Bad(Exception):
    """A field of the golden file is missing or of the wrong type (the message names it)."""


def _kind(v: Any) -> str:
    return "missing" if v is None else f"a JSON {_JSON_NAMES.get(type(v), type(v).__name__)}"


_JSON_NAMES = {dict: "object", list: "array", str: "string", int: "number", float: "number",
               bool: "boolean"}  # fmt: skip


def _field(doc: dict[str, Any], name: str, kind: type, where: str, expected: str) -> Any:
    v = doc.get(name)
    if not isinstance(v, kind) or (isinstance(v, bool) and kind is not bool):
        raise _Bad(f"field '{where}{name}' is {_kind(v)}, expected {expected}")
    return v


def _made_with(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise _Bad(f"field 'made_with' is {_kind(doc)}, expected an object")
    for name, kind, expected in (
        ("tool_version", str, "a string"),
        ("code_digest", str, "a sha256 hex string"),
        ("config", dict, "the resolved config as an object"),
        ("config_sha256", str, "a sha256 hex string"),
        ("libraries", dict, "an object of library -> version"),
    ):
        if name in doc:
            _field(doc, name, kind, "made_with.", expected)
    libs = doc.get("libraries", {})
    for lib, version in libs.items():
        if not isinstance(version, str):
            raise _Bad(f"field 'made_with.libraries.{lib}' is {_kind(version)}, expected a string")
    return doc


def _sessions(doc: Any) -> list[GoldenSession]:
    if not isinstance(doc, list):
        raise _Bad(f"field 'sessions' is {_kind(doc)}, expected an array of sessions")
    if not doc:
        raise _Bad("no sessions listed")
    out: list[GoldenSession] = []
    seen: set[str] = set()
    for i, s in enumerate(doc):
        where = f"sessions[{i}]."
        if not isinstance(s, dict):
            raise _Bad(f"field 'sessions[{i}]' is {_kind(s)}, expected an object")
        date = _field(s, "date", str, where, "a date YYYY-MM-DD")
        if not is_iso_date(date):
            raise _Bad(f"field '{where}date' is {date!r}, expected a date YYYY-MM-DD")
        if date in seen:
            raise _Bad(f"field '{where}date': session {date} is listed twice")
        seen.add(date)
        inputs = _field(s, "inputs", list, where, "an array of input partitions")
        for j, p in enumerate(inputs):
            if not isinstance(p, dict):
                raise _Bad(f"field '{where}inputs[{j}]' is {_kind(p)}, expected an object")
        rows = _field(s, "rows", int, where, "a row count")
        if rows < 0:
            raise _Bad(f"field '{where}rows' is {rows}, expected a row count >= 0")
        out.append(
            GoldenSession(
                date=date,
                outputs_digest=_field(s, "outputs_digest", str, where, "a sha256 hex string"),
                digest=_field(s, "digest", str, where, "a sha256 hex string"),
                rows=rows,
                inputs=tuple(inputs),
                labels=_labels(s.get("labels"), where),
            )
        )
    return out


def _labels(mark: Any, where: str) -> dict[str, str] | None:
    """A session's recorded labels, checked (a file without them is an older golden file)."""
    if mark is None:
        return None
    if not isinstance(mark, dict):
        raise _Bad(f"field '{where}labels' is {_kind(mark)}, expected an object")
    for k in ("outputs_digest", "gold", "labels_sha256"):
        _field(mark, k, str, f"{where}labels.", "a sha256 hex string")
    return {k: mark[k] for k in ("outputs_digest", "gold", "labels_sha256")}


def write_golden(path: Path, golden: Golden) -> None:
    """Write (atomically) with sorted keys and two-space indents: small, stable diffs."""
    text = json.dumps(golden.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"), tag="golden")
