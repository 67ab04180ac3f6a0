"""Fault-injection points for kill-safety tests (SPEC §8).

``fault_point(name)`` kills the process (SIGKILL: no cleanup, no ``finally``) when the
environment variable ``LEVELREPLAY_FAULT`` equals ``name``. Only tests set it; the points sit in
the windows a real crash could hit, e.g. between a session's Gold rename and its manifest write.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "LEVELREPLAY_FAULT"
GOLD_COMMITTED = "gold-committed"  # the Gold file renamed into place, its manifest not yet
PARTITIONS_COMMITTED = "partitions-committed"  # ingest: partitions in place, log entry not yet
PARTITION_TEMP_WRITTEN = "partition-temp-written"  # ingest: a merged partition written, not renamed
SILVER_TEMP_WRITTEN = "silver-temp-written"  # silver: the file written, not renamed


def fault_point(name: str) -> None:
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
