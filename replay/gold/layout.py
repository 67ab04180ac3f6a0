"""Where a run's outputs live (SPEC §3.2): the Gold table holds nothing but hive-partitioned
Parquet, so polars, ``pyarrow.dataset`` and duckdb read ``<out>/gold/levels_signals`` directly.

```
<out>/gold/levels_signals/date=YYYY-MM-DD/part-00000.parquet   the table
<out>/gold/_manifests/levels_signals/date=YYYY-MM-DD.json       one manifest per session
<out>/gold/_staging/                                            temp files (same filesystem)
<out>/gold/_staging/locks/date=YYYY-MM-DD.lock                  held by the session's writer
```
Readers skip ``_``-prefixed directories by convention, and nothing else sits in the table.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

TABLE = "levels_signals"
PART = "part-00000.parquet"


def gold_root(out: Path) -> Path:
    return out / "gold"


def table_dir(out: Path) -> Path:
    return gold_root(out) / TABLE


def gold_dir(out: Path, date: dt.date) -> Path:
    return table_dir(out) / f"date={date.isoformat()}"


def gold_file(out: Path, date: dt.date) -> Path:
    return gold_dir(out, date) / PART


def manifests_dir(out: Path) -> Path:
    return gold_root(out) / "_manifests" / TABLE


def manifest_file(out: Path, date: dt.date) -> Path:
    return manifests_dir(out) / f"date={date.isoformat()}.json"


def staging_dir(out: Path) -> Path:
    return gold_root(out) / "_staging"


def session_lock(out: Path, date: dt.date) -> Path:
    """The lock a writer of one session's Gold and manifest holds (``replay/common/locks.py``)."""
    return staging_dir(out) / "locks" / f"date={date.isoformat()}.lock"


def stale_temps(out: Path, date: dt.date) -> list[Path]:
    """Temp files of this session's Gold and manifest left in staging by a killed writer (only
    safe to delete while holding ``session_lock``)."""
    d = f"date={date.isoformat()}"
    stage = staging_dir(out)
    if not stage.is_dir():
        return []
    names = (f".{d}.{PART}.tmp-", f".{TABLE}.{d}.json.tmp-", f".level_outcomes.{d}.json.tmp-")
    return sorted(p for p in stage.iterdir() if p.name.startswith(names))


def output_key(out: Path, path: Path) -> str:
    """A Gold file's name in its manifest: its path relative to ``out`` (POSIX)."""
    return path.relative_to(out).as_posix()
