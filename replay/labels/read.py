"""Reading labels back: only current ones (SPEC §10.1: labels of a changed Gold are reported
stale, never used silently). One function serves ``report``, the API and notebooks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from replay.common.errors import UserError
from replay.gold.layout import gold_file
from replay.labels.job import CURRENT, label_state
from replay.labels.layout import labelled_dates, outcomes_file


def current_sessions(
    out: Path, first: dt.date | None = None, last: dt.date | None = None
) -> list[dt.date]:
    """The labelled sessions of the range, refused (exit 2, naming the session) unless every
    one is current; a range without labels is refused too."""
    dates = labelled_dates(out, first, last)
    if not dates:
        span = "any session" if first is None else f"{first}" + (f" to {last}" if last else "")
        raise UserError(
            f"no labels for {span}",
            path=str(out),
            expected="a Gold run labelled with `levelreplay label --lake LAKE --gold OUT --date D`",
        )
    for d in dates:
        st = label_state(out, d)
        if st.state != CURRENT:
            raise UserError(
                st.reason,
                path=str(out),
                expected=f"current labels: run `levelreplay label --gold {out} --date {d}` again",
            )
    return dates


def read_labelled(
    out: Path, first: dt.date | None = None, last: dt.date | None = None
) -> tuple[list[dt.date], pl.DataFrame, pl.DataFrame]:
    """(sessions, Gold rows, outcome rows) of the current labelled sessions of a range."""
    dates = current_sessions(out, first, last)
    gold = pl.concat([pl.read_parquet(gold_file(out, d)) for d in dates])
    lab = pl.concat([pl.read_parquet(outcomes_file(out, d)) for d in dates])
    return dates, gold, lab
