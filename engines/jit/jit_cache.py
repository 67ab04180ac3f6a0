"""Numba's on-disk cache, keyed by the code it was compiled from.

Numba drops a cached function when *its own* source file changes, not when a function it calls
from another module does: after an edit to ``market_state.py``, the cached kernels of
``snap_levels.py`` would still carry the old ``market_state`` code inlined (this happened: the
fast engine silently read a stale window-sum layout). So the cache lives in a directory named
after a digest of every package source — the manifest's ``code_digest`` — and any edit compiles
afresh. ``NUMBA_CACHE_DIR``, when set, is the parent of those directories; otherwise
``$XDG_CACHE_HOME/levelreplay/numba`` (``~/.cache/...``).

This runs from ``engines/__init__.py``, before any kernel module is imported: numba fixes a
function's cache location when the function is decorated.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PACKAGES = ("engines", "replay")


def source_digest(base: Path | None = None, packages: tuple[str, ...] = PACKAGES) -> str:
    """sha256 over the package sources (relative path and bytes), in sorted path order."""
    root = base or Path(__file__).resolve().parents[2]  # engines/jit/ → the checkout
    h = hashlib.sha256()
    for pkg in packages:
        for p in sorted((root / pkg).rglob("*.py")):
            rel = p.relative_to(root).as_posix()
            h.update(rel.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def cache_root() -> Path:
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "levelreplay" / "numba"


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def use_code_keyed_cache() -> Path:
    """Point numba's cache at ``cache_root() / <first 16 hex of source_digest()>``.

    With an unwritable cache root (a read-only home), the system temp directory is used instead:
    numba fails outright when its only cache locator cannot write.
    """
    import tempfile

    from numba.core import config

    key = source_digest()[:16]
    path = cache_root() / key
    if not _writable(path):
        path = Path(tempfile.gettempdir()) / f"levelreplay-numba-{os.getuid()}" / key
        path.mkdir(parents=True, exist_ok=True)
    config.CACHE_DIR = str(path)
    return path
