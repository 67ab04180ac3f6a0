"""The seam's factory: ``create_engine`` chooses the ``fast`` or the ``reference`` engine.

It lives apart from ``session_engine`` (the protocol both engines implement), so that module
imports neither engine and neither engine imports its chooser: no import circle. The engines
are imported when chosen, so a process that runs one never loads the other.
"""

from __future__ import annotations

from engines.contract.config import EngineConfig
from engines.seam.session_engine import RowSink, SessionEngine, SessionSetup

ENGINES = ("fast", "reference")


def create_engine(
    kind: str, cfg: EngineConfig, setup: SessionSetup, sink: RowSink
) -> SessionEngine:
    """The ``fast`` or ``reference`` engine of one session, delivering rows to ``sink``."""
    if kind == "fast":
        from engines.fast.fast_engine import FastEngine

        return FastEngine(cfg, setup, sink)
    if kind == "reference":
        from engines.reference.reference_engine import ReferenceEngine

        return ReferenceEngine(cfg, setup, sink)
    raise ValueError(f"unknown engine {kind!r} (expected one of {', '.join(ENGINES)})")
