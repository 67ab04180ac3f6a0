"""What a notebook imports: the same code paths as the CLI, as functions.

from replay.api import replay_session, read_gold
df = replay_session("data/demo/lake", "2025-11-14")          # polars DataFrame of Gold rows
df = read_gold("out/gold/levels_signals/date=2025-11-14")    # a written Gold file or dir
df = read_gold("out")                                        # every session of a run
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

from replay.common.config import ConfigSource, load_config
from replay.common.dates import iso_date
from replay.common.errors import UserError
from replay.gold.layout import PART
from replay.gold.payload import PriceConverter, encode_payload, payloads_from_gold
from replay.gold.verify import load_run
from replay.labels.layout import outcomes_file
from replay.labels.read import current_sessions
from replay.labels.splits import purged_splits
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
    return d if isinstance(d, dt.date) else iso_date(d)


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


def read_gold(
    path: str | Path,
    date: str | dt.date | list[str | dt.date] | None = None,
    end_date: str | dt.date | None = None,
) -> pl.DataFrame:
    """Gold rows of one session, several, or a whole run, in session then Gold order.

    ``path``: a Gold Parquet file, a ``date=`` directory, or a run's output root. At a root,
    ``date`` picks one session (or a list of them), ``date`` + ``end_date`` a range, and no date
    every session; each is read only when its manifest records its Gold file (an interrupted
    session is refused, naming it)."""
    p = Path(path)
    if p.is_file():
        return pl.read_parquet(p)
    if p.is_dir() and p.name.startswith("date="):
        return pl.read_parquet(p / PART)
    run = load_run(p)  # every consistent session of the run (NotAGoldRun otherwise)
    if isinstance(date, list):
        wanted = [_date(d).isoformat() for d in date]
    elif date is None:
        wanted = sorted(run)
    elif end_date is None:
        wanted = [_date(date).isoformat()]
    else:
        lo, hi = _date(date).isoformat(), _date(end_date).isoformat()
        wanted = [d for d in sorted(run) if lo <= d <= hi]
    missing = [d for d in wanted if d not in run]
    if missing or not wanted:
        raise UserError(
            f"no Gold session {', '.join(missing) or 'in that range'}",
            path=str(p),
            expected="one of the run's sessions: " + ", ".join(sorted(run)),
        )
    return pl.concat([pl.read_parquet(run[d].gold) for d in sorted(wanted)])


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
