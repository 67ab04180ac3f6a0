"""Where labels live: beside the Gold they label, in the same output root (SPEC §10.1).

```
<out>/gold/level_outcomes/date=YYYY-MM-DD/part-00000.parquet   the table (hive-partitioned)
<out>/gold/_manifests/level_outcomes/date=YYYY-MM-DD.json       its manifest
```
Temp files share Gold's staging directory; the writer holds the session's Gold lock, so a
replay and a label of one session never interleave.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from replay.gold.layout import PART, gold_root

TABLE = "level_outcomes"


def outcomes_dir(out: Path) -> Path:
    return gold_root(out) / TABLE


def outcomes_file(out: Path, date: dt.date) -> Path:
    return outcomes_dir(out) / f"date={date.isoformat()}" / PART


def outcomes_manifest(out: Path, date: dt.date) -> Path:
    return gold_root(out) / "_manifests" / TABLE / f"date={date.isoformat()}.json"


def labelled_dates(
    out: Path, first: dt.date | None = None, last: dt.date | None = None
) -> list[dt.date]:
    """Sessions of ``out`` with labels (complete or not) in [first, last] (each end optional)."""
    found = sorted(
        dt.date.fromisoformat(p.name.removeprefix("date="))
        for p in outcomes_dir(out).glob("date=*")
        if p.is_dir()
    )
    lo = first or dt.date.min
    hi = last or (first if first is not None and last is None else dt.date.max)
    return [d for d in found if lo <= d <= hi]
