"""``levelreplay sample``: a deterministic synthetic ES session written as real DBN (MBP-10 and
trades, or MBO), with definitions, option trades and the episodes it scripted (``session``).

Importing the room is light (the CLI registers its command at start-up): the simulator and its
numba kernels load when ``generate_session`` is first asked for.

May import: engines, replay.common.
Never imported by: engines, replay.common, replay.lake, replay.gold, replay.run, replay.labels,
replay.live, replay.nightly.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SCHEMAS", "Episode", "SampleResult", "generate_session"]


def __getattr__(name: str) -> Any:
    """``generate_session`` and friends, loaded on first use (PEP 562)."""
    if name in __all__:
        from replay.sample import session

        return getattr(session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
