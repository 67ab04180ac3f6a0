"""A small Python API for notebooks, on the same code path as the CLI.

from replay.api import replay_session, read_gold
df = replay_session("data/demo/lake", "2025-11-14")          # polars DataFrame of Gold rows
df = read_gold("out/gold/levels_signals/date=2025-11-14")    # a written Gold file or dir
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl

from engines.config import EngineConfig
from replay.gold.writer import gold_file
from replay.run.replay_job import ReplayResult
from replay.run.replay_job import replay_session as _replay


def _date(d: str | dt.date) -> dt.date:
    return d if isinstance(d, dt.date) else dt.date.fromisoformat(d)


def replay_session(
    lake: str | Path,
    date: str | dt.date,
    config: EngineConfig | None = None,
    *,
    out: str | Path | None = None,
    chunk_events: int | None = None,
) -> pl.DataFrame:
    """Replay one session and return its Gold rows (written to ``out``, or a temp dir)."""
    cfg = config or EngineConfig()
    if out is not None:
        res = _replay(
            Path(lake), _date(date), cfg, Path(out), chunk_events=chunk_events, force=True
        )
        return read_gold(res.gold)
    with tempfile.TemporaryDirectory(prefix="levelreplay-") as tmp:
        res = _replay(Path(lake), _date(date), cfg, Path(tmp), chunk_events=chunk_events)
        return read_gold(res.gold)


def replay_to(
    lake: str | Path, date: str | dt.date, out: str | Path, config: EngineConfig | None = None
) -> ReplayResult:
    """Replay one session into ``out`` (overwriting) and return the result summary."""
    return _replay(Path(lake), _date(date), config or EngineConfig(), Path(out), force=True)


def read_gold(path: str | Path, date: str | dt.date | None = None) -> pl.DataFrame:
    """Gold rows from a Parquet file, a ``date=`` directory, or an output root plus ``date``."""
    p = Path(path)
    if date is not None:
        p = gold_file(p, _date(date))
    elif p.is_dir():
        p = p / "part-00000.parquet"
    return pl.read_parquet(p)
