"""What a notebook imports: the same code paths as the CLI, as functions.

from replay.api import replay_session, read_gold
df = replay_session("data/demo/lake", "2025-11-14")          # polars DataFrame of Gold rows
df = read_gold("out/gold/levels_signals/date=2025-11-14")    # a written Gold file or dir
msgs = payload_from_gold(df)  # the exact levels.signals JSON bytes, one per snap, as live sends
lab = read_outcomes("out")                                   # labels of every labelled session
for train, test in purged_splits(lab.filter(pl.col("horizon_s") == 60), 5, embargo_s=300): ...

``replay_session`` accepts a config as an ``EngineConfig``, a TOML file path or TOML text; without
``out`` nothing is written (the rows are collected in memory through the session seam).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from replay.gold.layout import gold_file
from replay.gold.payload import PriceConverter, encode_payload, payloads_from_gold
from replay.labels.layout import outcomes_file
from replay.labels.read import current_sessions
from replay.labels.splits import purged_splits
from replay.run.config import ConfigSource, load_config
from replay.run.replay_job import ReplayJob, ReplayResult, replay_rows
from replay.run.replay_job import replay_session as _replay

__all__ = [
    "PriceConverter",
    "ReplayJob",
    "ReplayResult",
    "payload_from_gold",
    "payloads_from_gold",
    "purged_splits",
    "read_gold",
    "read_outcomes",
    "replay_session",
    "replay_to",
]


def _date(d: str | dt.date) -> dt.date:
    return d if isinstance(d, dt.date) else dt.date.fromisoformat(d)


def replay_session(
    lake: str | Path,
    date: str | dt.date,
    config: ConfigSource = None,
    *,
    out: str | Path | None = None,
    chunk_events: int | None = None,
    engine: str = "fast",
) -> pl.DataFrame:
    """Replay one session and return its Gold rows (also written to ``out``, when given)."""
    job = ReplayJob(
        Path(lake),
        _date(date),
        Path(out) if out is not None else Path("."),
        load_config(config),
        chunk_events=chunk_events,
        engine=engine,
        force=True,
    )
    if out is None:
        return pl.from_arrow(replay_rows(job))  # type: ignore[return-value]
    return read_gold(_replay(job).gold)


def replay_to(
    lake: str | Path, date: str | dt.date, out: str | Path, config: ConfigSource = None
) -> ReplayResult:
    """Replay one session into ``out`` (overwriting) and return the result summary."""
    return _replay(ReplayJob(Path(lake), _date(date), Path(out), load_config(config), force=True))


def read_gold(path: str | Path, date: str | dt.date | None = None) -> pl.DataFrame:
    """Gold rows from a Parquet file, a ``date=`` directory, or an output root plus ``date``."""
    p = Path(path)
    if date is not None:
        p = gold_file(p, _date(date))
    elif p.is_dir():
        p = p / "part-00000.parquet"
    return pl.read_parquet(p)


def payload_from_gold(rows: pl.DataFrame | Any) -> list[bytes]:
    """The exact ``levels.signals`` JSON (SPEC §5.9) of every snap of Gold rows, as ``live``
    publishes it: compare what was published with any Gold file, byte for byte. ``rows``: a
    polars DataFrame, a pyarrow Table, or dicts in Gold order."""
    if isinstance(rows, pl.DataFrame):
        rows = rows.to_dicts()
    elif hasattr(rows, "to_pylist"):
        rows = rows.to_pylist()
    return [encode_payload(p) for p in payloads_from_gold(rows)]


def read_outcomes(
    out: str | Path,
    date: str | dt.date | None = None,
    end_date: str | dt.date | None = None,
) -> pl.DataFrame:
    """Outcome labels (SPEC §10.1) of one session, a range, or (no date) every labelled session
    of a Gold run, in session then Gold order. Stale labels (their Gold changed since) are
    refused with the session named, never returned silently."""
    first = None if date is None else _date(date)
    last = None if end_date is None else _date(end_date)
    dates = current_sessions(Path(out), first, last)
    return pl.concat([pl.read_parquet(outcomes_file(Path(out), d)) for d in dates])
