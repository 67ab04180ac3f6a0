"""Run manifest (SPEC §3.2): a ``deterministic`` part with its ``digest``, and a ``run`` part.

Canonical JSON (sorted keys, no spaces, UTF-8) is what the digest hashes; the file on disk is the
same content indented, keys sorted, newline at the end. Nothing time- or host-dependent goes into
``deterministic``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import platform
import socket
from pathlib import Path
from typing import Any

from engines.jit.jit_cache import PACKAGES, source_digest
from replay.common.atomic import write_bytes_atomic

TOOL = "levelreplay"
LIBRARIES = ("numpy", "pyarrow", "polars", "numba", "databento", "databento-dbn", "tzdata")
OUTPUT_LIBRARIES = ("numba", "numpy", "pyarrow")
"""The libraries that shape Gold bytes (pyarrow's version is in every Parquet footer): their
versions are part of the ``deterministic`` manifest, the others only of ``run``."""


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def code_digest(root: Path | None = None) -> str:
    """sha256 over the package sources (path and bytes), in sorted path order."""
    return source_digest(root, PACKAGES)


def tool_version() -> str:
    try:
        return importlib.metadata.version(TOOL)
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def library_versions(libs: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for lib in libs:
        try:
            out[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            out[lib] = "missing"
    return out


def build_manifest(deterministic: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    det = dict(deterministic)
    det.pop("digest", None)
    det["digest"] = sha256_bytes(canonical_json(det))
    return {"deterministic": det, "run": run}


def outputs_digest(outputs: dict[str, str]) -> str:
    """The identity of the Gold bytes alone: sha256 over the output files' sha256 (hex, one per
    line) in path order. Equal Gold gives an equal digest whatever the code, config or inputs."""
    return sha256_bytes("".join(f"{outputs[k]}\n" for k in sorted(outputs)).encode())


def utc_iso(ts: float) -> str:
    """A wall-clock time for a manifest's ``run`` part (never its deterministic part)."""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_info(
    started_utc: str,
    duration_s: float,
    chunk_events: int | None,
    workers: int,
    executor: str = "serial",
) -> dict:
    return {
        "started_utc": started_utc,
        "duration_s": round(duration_s, 3),
        "host": socket.gethostname(),
        "chunk_events": chunk_events,
        "workers": workers,
        "executor": executor,
        "libraries": library_versions(),
    }


def write_manifest(path: Path, manifest: dict[str, Any], staging: Path | None = None) -> None:
    text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"), tag="manifest", staging=staging)


def read_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


_SHAPE: tuple[tuple[str, type, str], ...] = (
    ("digest", str, "a sha256 hex string"),
    ("outputs_digest", str, "a sha256 hex string"),
    ("outputs", dict, "an object of output path -> sha256"),
    ("session_date", str, "YYYY-MM-DD"),
    ("rows", int, "an integer"),
    ("snaps", int, "an integer"),
    ("events", dict, "an object of stream -> count"),
    ("inputs", list, "a list of input partitions"),
    ("code_digest", str, "a sha256 hex string"),
    ("config_sha256", str, "a sha256 hex string"),
    ("libraries", dict, "an object of library -> version"),
)
"""The fields of a ``deterministic`` part every reader of a pair relies on, and their types."""


def _kind(value: Any) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"


def manifest_problem(doc: Any) -> str | None:
    """Why ``doc`` is not a whole manifest as ``session_manifest`` writes it, or None: the
    fields readers rely on with their types, and ``digest`` and ``outputs_digest`` equal to what
    the content hashes to (a hand-edited manifest is not the record of a run)."""
    det = doc.get("deterministic") if isinstance(doc, dict) else doc
    if not isinstance(det, dict):
        return f"field 'deterministic' is {_kind(det)} where an object belongs"
    for name, kind, expected in _SHAPE:
        v = det.get(name)
        if not isinstance(v, kind) or isinstance(v, bool):
            return f"field 'deterministic.{name}' is {_kind(v)} where {expected} belongs"
    for name, kind in (("outputs", str), ("events", int)):
        for k, v in det[name].items():
            if not isinstance(v, kind) or isinstance(v, bool):
                what = "a sha256 hex string" if kind is str else "an integer"
                return f"field 'deterministic.{name}.{k}' is {_kind(v)} where {what} belongs"
    if not all(isinstance(p, dict) for p in det["inputs"]):
        return "field 'deterministic.inputs' holds something other than input partitions (objects)"
    if outputs_digest(det["outputs"]) != det["outputs_digest"]:
        return "field 'deterministic.outputs_digest' does not match its outputs (edited?)"
    if build_manifest(det, {})["deterministic"]["digest"] != det["digest"]:
        return "field 'deterministic.digest' does not match the part it hashes (edited?)"
    return None
