"""The manifest's definitions input is the records the session used (SPEC §3.2)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import databento_dbn as d

from replay.lake.ingest import ingest
from replay.run.session import SessionSources, resolve_session
from tests import dbn_factory as f
from tests.replay.conftest import CALL, ES, EXPIRY, T0, Session

DATE = dt.date(2025, 11, 14)
HOUR = 3600 * 10**9
OTHER_CALL = 205  # an ES option that never trades in the session


def _defs_input(src: SessionSources) -> dict:
    (entry,) = [p.record() for p in src.partitions if p.table == "definitions"]
    return entry


def _write_defs(path: Path, recs: list) -> Path:
    syms = {r.raw_symbol: r.instrument_id for r in recs}
    ts = [r.ts_recv for r in recs]
    return f.write_dbn(path, f.metadata(d.Schema.DEFINITION, syms, min(ts), max(ts) + 1), recs)


def _call(ts: int, iid: int = CALL, strike: float = 6800.0) -> d.InstrumentDefMsg:
    return f.definition(
        iid,
        ts,
        f"ESZ5 C{strike:.0f}",
        "C",
        strike=strike,
        expiration=EXPIRY,
        underlying="ESZ5",
        underlying_id=ES,
    )


def _lake(session: Session, tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    ingest([session.definitions, session.mbp10, session.trades], lake)
    return lake


def test_the_records_of_the_future_and_the_traded_options(session: Session, tmp_path: Path) -> None:
    entry = _defs_input(resolve_session(_lake(session, tmp_path), DATE))
    # ESZ5, and the call and put that trade (the orphan has no definition, the spread is no
    # instrument of ours): 3 instruments, one record each.
    assert (entry["path"], entry["instruments"], entry["rows"]) == ("bronze/definitions", 3, 3)


def test_unrelated_definitions_change_nothing(session: Session, tmp_path: Path) -> None:
    lake = _lake(session, tmp_path)
    before = resolve_session(lake, DATE)
    # A month earlier, a definition of an option this session never trades; and on the session's
    # own date another untraded strike.
    month_ago = T0 - 30 * 24 * HOUR
    ingest(
        [_write_defs(tmp_path / "old.definition.dbn", [_call(month_ago, OTHER_CALL, 6500)])], lake
    )
    ingest([_write_defs(tmp_path / "new.definition.dbn", [_call(T0, OTHER_CALL + 1, 7000)])], lake)
    after = resolve_session(lake, DATE)
    assert after.partitions == before.partitions
    assert [p.table for p in after.partitions].count("definitions") == 1


def test_a_definition_of_a_used_instrument_changes_the_input(
    session: Session, tmp_path: Path
) -> None:
    lake = _lake(session, tmp_path)
    base = _defs_input(resolve_session(lake, DATE))
    # The same call's definition sent again during the session: 3 + 1 = 4 records in effect.
    ingest([_write_defs(tmp_path / "again.definition.dbn", [_call(T0 + HOUR)])], lake)
    again = _defs_input(resolve_session(lake, DATE))
    assert (again["instruments"], again["rows"]) == (3, 4)
    assert again["sha256"] != base["sha256"]


def test_only_the_latest_earlier_record_counts(session: Session, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    # The call defined on 11-10 and again on 11-12 (both before the session), plus the session's
    # own files: of the earlier two only 11-12's record is in effect; the 11-14 file adds its
    # own record of the call. ES, CALL, PUT: 3 instruments; records 3 + 1 (11-12's call) = 4.
    d10, d12 = T0 - 4 * 24 * HOUR, T0 - 2 * 24 * HOUR
    ingest([_write_defs(tmp_path / "d10.definition.dbn", [_call(d10)])], lake)
    ingest([_write_defs(tmp_path / "d12.definition.dbn", [_call(d12)])], lake)
    ingest([session.definitions, session.mbp10, session.trades], lake)
    entry = _defs_input(resolve_session(lake, DATE))
    assert (entry["instruments"], entry["rows"]) == (3, 4)


def test_the_same_records_ingested_twice_count_once(session: Session, tmp_path: Path) -> None:
    lake = _lake(session, tmp_path)
    base = _defs_input(resolve_session(lake, DATE))
    # The session's definitions again, from another file (other bytes: uncompressed)
    copy = _write_defs(tmp_path / "copy.definition.dbn", session.def_records)
    ingest([copy], lake)
    assert _defs_input(resolve_session(lake, DATE)) == base


def test_no_definitions_used_is_one_digest(session: Session, tmp_path: Path) -> None:
    """A lake without definitions, and the same lake after an unrelated future's definition
    (found on real data: ESM3's of 2023-04 beside an ESH4 session of 2023-12) list the same
    empty definitions input."""
    lake = tmp_path / "lake"
    ingest([session.mbp10, session.trades], lake)
    before = _defs_input(resolve_session(lake, DATE))
    assert (before["instruments"], before["rows"]) == (0, 0)
    esm3 = f.definition(999, T0 - 30 * 24 * HOUR, "ESM3", "F", expiration=T0)
    ingest([_write_defs(tmp_path / "esm3.definition.dbn", [esm3])], lake)
    assert _defs_input(resolve_session(lake, DATE)) == before
