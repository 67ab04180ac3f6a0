"""The session seam: every sink sees the same rows, the Gold bytes do not depend on how rows are
delivered, and the option universe can grow mid-session, for both engines."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import replay.gold.writer as gw
from engines.contract.config import EngineConfig
from engines.contract.events import MergedChunk, OptionDefinitions
from engines.create import create_engine
from engines.seam.session_engine import SessionSetup, closed_snap, last_snap
from replay.gold.writer import GoldWriter
from replay.lake.ingest import ingest
from replay.run.drive import drive
from replay.run.replay_job import ReplayJob, replay_rows, replay_session
from replay.run.session import open_session
from replay.run.sinks import PerSnapSink
from replay.sample import generate_session

DATE = dt.date(2025, 11, 14)
CFG = EngineConfig()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seam")
    generate_session(root / "src", seed=5, minutes=7)
    ingest(sorted((root / "src").glob("*.dbn.zst")), root / "lake")
    return root / "lake"


def _drive(
    lake: Path,
    engine: str,
    sink: object,
    *,
    chunk_events: int | None = None,
    setup: Callable[[SessionSetup], SessionSetup] = lambda s: s,
    chunks: Callable[[Iterator[MergedChunk]], Iterator[MergedChunk]] = lambda c: c,
) -> int:
    """Run one session through the seam by hand; returns the option universe it ended with."""
    s = open_session(lake, DATE, CFG.snap_ns, chunk_events=chunk_events)
    eng = create_engine(engine, CFG, setup(s.setup), sink)  # type: ignore[arg-type]
    drive(eng, chunks(s.chunks))
    return eng.counters().option_universe


def _write(
    lake: Path, path: Path, engine: str, batch_rows: int | None = None, **kw: object
) -> bytes:
    w = GoldWriter(path)
    if batch_rows is not None:
        w.batch_rows = batch_rows
    _drive(lake, engine, w, **kw)  # type: ignore[arg-type]
    return w.commit().read_bytes()


def test_collecting_and_per_snap_sinks_see_the_gold_rows(lake: Path, tmp_path: Path) -> None:
    res = replay_session(ReplayJob(lake, DATE, tmp_path / "out", CFG))
    gold = pq.read_table(res.gold)
    assert gold.num_rows == res.rows > 1000
    collected = replay_rows(ReplayJob(lake, DATE, tmp_path / "unused", CFG))
    assert collected.equals(gold)
    assert not (tmp_path / "unused").exists()  # nothing written
    snaps: list[pa.RecordBatch] = []
    _drive(lake, "fast", PerSnapSink(snaps.append))
    assert all(len(set(b.column("snap_index").to_pylist())) == 1 for b in snaps)
    assert len(snaps) == len(set(gold.column("snap_index").to_pylist()))  # one call per snap
    assert pa.Table.from_batches(snaps).equals(gold)


def test_gold_bytes_do_not_depend_on_row_delivery(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small row groups (500 rows) so the writer cuts many times: the kernel's batches, one snap
    at a time, and the reference engine's blocks all give the same file."""
    monkeypatch.setattr(gw, "BATCH_ROWS", 500)
    monkeypatch.setattr(gw, "GOLD_ROW_GROUP", 500)
    a = _write(lake, tmp_path / "a.parquet", "fast")
    b = _write(lake, tmp_path / "b.parquet", "fast", batch_rows=1)
    c = _write(lake, tmp_path / "c.parquet", "reference", batch_rows=7)
    assert a == b == c
    md = pq.ParquetFile(tmp_path / "a.parquet").metadata
    assert md.num_row_groups >= 4
    # the rule: a batch ends with the snap that reaches 500 rows, and each batch is written as
    # row groups of 500 plus its remainder (rows past 500 of that last snap)
    k = np.asarray(pq.read_table(tmp_path / "a.parquet").column("snap_index"))
    want, start = [], 0
    while k.shape[0] - start >= 500:
        end = start + 500
        while end < k.shape[0] and k[end] == k[end - 1]:
            end += 1
        want += [500] + ([end - start - 500] if end - start > 500 else [])
        start = end
    want += [k.shape[0] - start] if k.shape[0] > start else []
    assert [md.row_group(g).num_rows for g in range(md.num_row_groups)] == want


def _split(defs: OptionDefinitions, keep: np.ndarray) -> tuple[OptionDefinitions, ...]:
    f = dataclasses.fields(defs)
    a = OptionDefinitions(**{x.name: getattr(defs, x.name)[keep] for x in f})
    b = OptionDefinitions(**{x.name: getattr(defs, x.name)[~keep] for x in f})
    return a, b


def _inject(at: int, defs: OptionDefinitions) -> Callable[[Iterator[MergedChunk]], Iterator]:
    def chunks(it: Iterator[MergedChunk]) -> Iterator[MergedChunk]:
        for i, c in enumerate(it):
            yield dataclasses.replace(c, new_options=defs) if i == at else c

    return chunks


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_options_arriving_with_the_first_chunk_change_nothing(
    lake: Path, tmp_path: Path, engine: str
) -> None:
    full = open_session(lake, DATE, CFG.snap_ns).setup.options
    assert len(full) > 4
    base = _write(lake, tmp_path / "base.parquet", engine)
    late = _write(
        lake,
        tmp_path / "late.parquet",
        engine,
        setup=lambda s: dataclasses.replace(s, options=OptionDefinitions.empty()),
        chunks=_inject(0, full),
    )
    assert late == base


def test_options_arriving_mid_session_give_the_same_rows_in_both_engines(
    lake: Path, tmp_path: Path
) -> None:
    """Half the universe (every other id) known at the start, the rest from chunk 6 on
    (chunks of 2 000 events): option trades of the late half before then are unknown to Fuel,
    so the rows differ from the full run, but the two engines agree to the byte."""
    full = open_session(lake, DATE, CFG.snap_ns).setup.options
    early, late = _split(full, np.arange(len(full)) % 2 == 0)
    kw = {
        "chunk_events": 2000,
        "setup": lambda s: dataclasses.replace(s, options=early),
        "chunks": _inject(6, late),
    }
    fast = _write(lake, tmp_path / "f.parquet", "fast", **kw)  # type: ignore[arg-type]
    ref = _write(lake, tmp_path / "r.parquet", "reference", **kw)  # type: ignore[arg-type]
    assert fast == ref
    assert fast != _write(lake, tmp_path / "base.parquet", "fast")
    s = GoldWriter(tmp_path / "n.parquet")
    assert _drive(lake, "fast", s, **kw) == len(full)  # type: ignore[arg-type]
    s.abort()


def test_snap_indices_of_a_watermark_and_of_the_session_end() -> None:
    setup = SessionSetup(DATE, 1, "ESZ5", 1000, OptionDefinitions.empty(), None)
    # T_k = 1000 + 250 k: a watermark at 1249 completes snap 0 only, at 1250 snaps 0 and 1
    assert [closed_snap(setup, 250, w) for w in (999, 1000, 1249, 1250)] == [-1, 0, 0, 1]
    # the last snap is the first T_k at or after the last event: 1001 -> T_1 = 1250
    assert [last_snap(setup, 250, x) for x in (None, 1000, 1001, 1250, 1251)] == [0, 0, 1, 1, 2]


def _first_ts(c: MergedChunk) -> int:
    return min(int(b.ts_recv[0]) for b in (c.depth, c.trades, c.options) if len(b))


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_watermarks_close_snaps_early_and_never_change_a_row(
    lake: Path, tmp_path: Path, engine: str
) -> None:
    """Live mode's clock: after each chunk a watermark just before the next chunk's first event
    (the most a publisher can promise; chunks of 40 events, so many fall at quiet moments)
    closes every snap up to it. The Gold is the same file."""
    base = _write(lake, tmp_path / "base.parquet", engine, chunk_events=40)
    s = open_session(lake, DATE, CFG.snap_ns, chunk_events=40)
    chunks = list(s.chunks)
    w = GoldWriter(tmp_path / "wm.parquet")
    eng = create_engine(engine, CFG, s.setup, w)
    items: Iterator = iter(chunks)
    for stage in eng.stages():
        items = stage(items)
    closed = 0
    for i, item in enumerate(items):
        eng.feed(item)
        if i + 1 < len(chunks):
            mark = _first_ts(chunks[i + 1]) - 1
            before = eng.next_k
            eng.close(mark)
            assert eng.next_k == max(before, closed_snap(s.setup, CFG.snap_ns, mark) + 1)
            closed += eng.next_k > before  # the snap waiting for an event was closed early
    eng.close(s.setup.t0 - 1)  # a stale watermark closes nothing
    eng.finish()
    assert closed > 20 and w.commit().read_bytes() == base
