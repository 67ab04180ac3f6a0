"""Human-readable ingest report: one line per source file, then totals. Plain text so it reads
the same on a terminal, in a CI log and in a nightly mail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from replay.lake.ingest import FileReport

_TABLES = ("futures_mbp10", "futures_trades", "option_trades", "definitions")


def _fmt_ns(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns // 1_000_000_000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_report(r: FileReport) -> str:
    """One file's line, led by its path as the command line reached it (the argument, joined
    with the path inside a directory argument): files of one name in two folders stay apart."""
    name = r.path
    if r.skipped is not None:
        return f"{name}: skipped ({r.skipped})"
    if r.error is not None:
        return f"{name}: FAILED, nothing committed: {r.error}"
    if r.duplicate:
        return f"{name} [{r.schema}]: already ingested (sha256 {r.sha256[:12]}…): no-op"
    rows = ", ".join(f"{t} {r.rows[t]}" for t in _TABLES if r.rows[t])
    span = (
        f"{_fmt_ns(r.ts_recv_min)} → {_fmt_ns(r.ts_recv_max)} UTC"
        if r.ts_recv_min is not None and r.ts_recv_max is not None
        else "-"
    )
    return (
        f"{name} [{r.schema}{'' if r.dbn_version is None else f', DBN v{r.dbn_version}'}]: "
        f"{r.records_in} records → {rows or 'no rows'}; "
        f"excluded {r.excluded} (spread {r.excluded_spread}, other instrument "
        f"{r.excluded_other_instrument}, option without definition {r.excluded_orphan_option}, "
        f"bad values {r.excluded_bad_values}: timestamp {r.excluded_bad_timestamp}, price "
        f"{r.excluded_bad_price}, side {r.excluded_bad_side}); "
        f"re-sorted {r.out_of_order_resorted}; duplicates dropped {r.duplicate_records}; "
        f"overlap with other files {r.overlap_records} (stored once); "
        f"dates {','.join(r.dates) or '-'}; "
        f"primary future {r.primary_future or '-'}; span {span}" + _mbo_part(r)
    )


def _mbo_part(r: FileReport) -> str:
    """What rebuilding the book from an MBO file counted, and which books had no snapshot."""
    if r.schema != "mbo":
        return ""
    found = ", ".join(f"{k.removeprefix('mbo_').replace('_', ' ')} {v}" for k, v in r.mbo.items())
    out = f"; book rebuilt from MBO ({found or 'every order action consistent'})"
    if r.mbo_started_empty:
        out += (
            "; book started from an empty state (no snapshot or clear before the first record): "
            + ", ".join(r.mbo_started_empty)
        )
    return out


def print_reports(reports: list[FileReport], lake: Path) -> None:
    for r in reports:
        typer.echo(format_report(r))
    fresh = [r for r in reports if not r.duplicate and r.error is None and r.skipped is None]
    totals = {t: sum(r.rows[t] for r in fresh) for t in _TABLES}
    typer.echo(
        f"ingest → {lake / 'bronze'}: {len(fresh)} file(s) ingested, "
        f"{sum(r.duplicate for r in reports)} already present, "
        f"{sum(r.error is not None for r in reports)} failed, "
        f"{sum(r.skipped is not None for r in reports)} skipped (not DBN or Parquet); "
        + ", ".join(f"{t} {totals[t]}" for t in _TABLES)
        + f"; excluded {sum(r.excluded for r in fresh)}"
        + f"; re-sorted {sum(r.out_of_order_resorted for r in fresh)}"
        + f"; duplicates dropped {sum(r.duplicate_records for r in fresh)}"
        + f"; overlap {sum(r.overlap_records for r in fresh)}"
    )
