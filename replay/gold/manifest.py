"""Run manifest (SPEC §3.2): a ``deterministic`` part with its ``digest``, and a ``run`` part.

Canonical JSON (sorted keys, no spaces, UTF-8) is what the digest hashes; the file on disk is the
same content indented, keys sorted, newline at the end. Nothing time- or host-dependent goes into
``deterministic``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import socket
from pathlib import Path
from typing import Any

from engines.jit_cache import PACKAGES, source_digest
from replay.common.atomic import write_bytes_atomic

TOOL = "levelreplay"
LIBRARIES = ("numpy", "pyarrow", "polars", "numba", "databento", "databento-dbn", "tzdata")


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


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for lib in LIBRARIES:
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


def run_info(started_utc: str, duration_s: float, chunk_events: int | None, workers: int) -> dict:
    return {
        "started_utc": started_utc,
        "duration_s": round(duration_s, 3),
        "host": socket.gethostname(),
        "chunk_events": chunk_events,
        "workers": workers,
        "libraries": library_versions(),
    }


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"), tag="manifest")


def read_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
