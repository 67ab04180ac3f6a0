"""A Bronze session as the sequence of NATS messages ``publish`` sends (SPEC §6), without NATS.

Order: ``market.session`` start; the definitions the session knows at its start (the latest of
every ES outright and ES-family option on or before the trade date, as offline replay uses them);
then every market record of the session's partitions in the merged order (SPEC §2.4), as DBN
records, one subject per stream; ``market.clock`` watermarks between them; ``market.session`` end.

Cuts are a function of the data alone, so they are the same at every ``--speed``. The merged order
is cut into *windows*: consecutive records, at most ``records_per_message``, all in one snap bucket
(T_{k-1}, T_k]. A window goes out as one message per stream it holds (the stream's records of the
window, in order), each named by the window's merged-order index range; a consumer that has all of
a window's records holds exactly an offline merged chunk (per-stream prefixes, interleaved by the
engine on (``ts_recv``, rank)). Cutting per stream run instead would send one message per trade
(each print is an MBP-10 ``T`` record, then a trades record). Between two windows, every snap time
``T_k`` (k >= 0) in [last record of the first, first record of the second) gets its watermark
``W = T_k``: at least one per snap interval of event time, inside gaps too, and none that a later
record contradicts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from replay.lake.reader import Keyed
from replay.live import subjects as sj
from replay.live.records import encode
from replay.run.merge import RANK_DEPTH, RANK_OPTIONS, RANK_TRADES, merged_slices
from replay.run.session import (
    definitions_upto,
    open_session,
    option_family,
    split_definitions,
)

READ_ROWS = 1 << 16
TABLES = ("futures_mbp10", "futures_trades", "option_trades", "definitions")
RANK_DEFINITIONS = 0
RANKS = (RANK_DEPTH, RANK_TRADES, RANK_OPTIONS, RANK_DEFINITIONS)
DEFS = 3  # the definitions stream's position in TABLES


@dataclass(frozen=True)
class Message:
    """One message to publish: subject, id, payload, and the event time it may go out at."""

    subject: str
    msg_id: str
    payload: bytes
    event_ns: int
    records: int = 0  # DBN records in the payload (0 for JSON messages)


@dataclass(frozen=True)
class RawRows:
    """Rows of one stream as DBN records, with their merge keys (a batch for ``merged_slices``)."""

    ts: np.ndarray
    seq: np.ndarray
    src_key: np.ndarray
    src_row: np.ndarray
    rec: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.shape[0])


def _raw(path: Path | None, table: str) -> Iterator[Keyed]:
    if path is None:
        return
    pf = pq.ParquetFile(path, pre_buffer=False)
    for b in pf.iter_batches(batch_size=READ_ROWS):
        t = pa.Table.from_batches([b])
        keys = [t.column(c).to_numpy().astype(np.int64) for c in sj.KEY_COLUMNS]
        rows = RawRows(*keys, encode(table, t))
        yield Keyed(*keys, rows)  # type: ignore[arg-type]


def _rows(t: pa.Table | None, table: str) -> Iterator[Keyed]:
    """Rows already in memory (the mid-session definitions), keyed like a partition's."""
    if t is None or t.num_rows == 0:
        return
    n = t.num_rows
    z = np.zeros(n, np.int64)
    cols = ("ts_recv", "src_key", "src_row")
    ts, sk, sr = (t.column(c).to_numpy().astype(np.int64) for c in cols)
    rows = RawRows(ts, z, sk, sr, encode(table, t))
    yield Keyed(ts, z, sk, sr, rows)  # type: ignore[arg-type]


def _empty(table: str) -> RawRows:
    z = np.zeros(0, np.int64)
    return RawRows(z, z, z, z, encode(table, pa.table({"ts_recv": pa.array([], pa.int64())})))


@dataclass
class _Window:
    """Records of consecutive merged-order positions within one snap bucket, per stream."""

    first_index: int
    key: tuple[int, bool]  # (snap bucket, definitions?)
    first_ts: int
    last_ts: int = 0
    n: int = 0
    parts: tuple[list[np.ndarray], ...] = field(default_factory=lambda: ([], [], [], []))


class SessionFeed:
    """The messages of one Bronze session (iterate once); ``start`` is known before the first."""

    def __init__(
        self, lake: Path, date: dt.date, snap_ns: int, records_per_message: int = 256
    ) -> None:
        self.date = date
        self.snap_ns = snap_ns
        self.per_message = records_per_message
        session = open_session(lake, date, snap_ns, use_silver=False)
        self.setup = session.setup
        self.sources = session.sources
        prior = session.setup.prior
        self.start = sj.SessionStart(
            date=date,
            primary_id=self.setup.primary_id,
            primary_symbol=self.setup.primary_symbol,
            t0_ns=self.setup.t0,
            trades_from_depth=self.sources.trades_from_depth,
            prior=None if prior is None else (prior.high, prior.low, prior.close),
        )
        defs, self._later = split_definitions(definitions_upto(lake, date), session.first_event_ts)
        if defs is not None:
            keep = option_family(defs) | (
                defs.column("instrument_id").to_numpy().astype(np.int64) == self.setup.primary_id
            )
            defs = defs.filter(pa.array(keep))
            order = pc.sort_indices(defs, [("instrument_id", "ascending")])
            defs = defs.take(order)
        self._defs = defs
        self.records = 0
        self.last_event_ns: int | None = None

    def messages(self) -> Iterator[Message]:
        t0 = self.setup.t0
        yield self._json(sj.SESSION, "start", self.start.to_json(), t0)
        index = 0
        if self._defs is not None and self._defs.num_rows:
            rec = encode("definitions", self._defs)
            for a in range(0, rec.shape[0], self.per_message):
                part = rec[a : a + self.per_message]
                last = index + part.shape[0] - 1
                yield Message(
                    sj.DEFINITIONS, sj.msg_id(self.date, sj.DEFINITIONS, index, last),
                    part.tobytes(), t0, part.shape[0],
                )  # fmt: skip
                index = last + 1
        src = self.sources
        streams = [
            (_raw(src.depth_path, "futures_mbp10"), RANK_DEPTH, _empty("futures_mbp10")),
            (_raw(src.trades_path, "futures_trades"), RANK_TRADES, _empty("futures_trades")),
            (_raw(src.options_path, "option_trades"), RANK_OPTIONS, _empty("option_trades")),
            (_rows(self._later, "definitions"), RANK_DEFINITIONS, _empty("definitions")),
        ]
        win: _Window | None = None
        last_ts: int | None = None
        for slices in merged_slices(streams):
            ts = np.concatenate([s.ts for s in slices])
            rank = np.concatenate([np.full(len(s), r) for s, r in zip(slices, RANKS, strict=True)])
            who = np.concatenate([np.full(len(s), j) for j, s in enumerate(slices)])
            seqs = [s.seq for s in slices]
            keys = (
                np.concatenate([s.src_row for s in slices]),
                np.concatenate([s.src_key for s in slices]),
                np.concatenate(seqs),
                rank,
                ts,
            )
            order = np.lexsort(keys)
            ts, who = ts[order], who[order]
            bucket = self._bucket(ts)
            is_def = who == DEFS
            # runs of one bucket, and of definitions or market records (never mixed: a window
            # of definitions takes effect between the records around it, as offline)
            cuts = np.flatnonzero((bucket[1:] != bucket[:-1]) | (is_def[1:] != is_def[:-1])) + 1
            run_end = np.append(cuts, ts.shape[0])
            ptr = [0, 0, 0, 0]
            a, n = 0, ts.shape[0]
            while a < n:
                b = int(run_end[np.searchsorted(run_end, a, side="right")])
                key = (int(bucket[a]), bool(is_def[a]))
                if win is not None and (win.key != key or win.n >= self.per_message):
                    last_ts = win.last_ts
                    yield from self._flush(win)
                    index += win.n
                    win = None
                if win is None:
                    if last_ts is not None:
                        yield from self._watermarks(last_ts, int(ts[a]))
                    win = _Window(index, key, int(ts[a]))
                b = min(b, a + self.per_message - win.n)
                counts = np.bincount(who[a:b], minlength=len(slices))
                for j in range(len(slices)):
                    c = int(counts[j])
                    if c:
                        win.parts[j].append(slices[j].rec[ptr[j] : ptr[j] + c])
                        ptr[j] += c
                win.n += b - a
                win.last_ts = int(ts[b - 1])
                a = b
        if win is not None:
            last_ts = win.last_ts
            yield from self._flush(win)
            index += win.n
        self.records = index
        self.last_event_ns = last_ts
        end = sj.SessionEnd(date=self.date, last_event_ns=last_ts, records=index)
        yield self._json(sj.SESSION, "end", end.to_json(), last_ts if last_ts is not None else t0)

    def _bucket(self, ts: np.ndarray) -> np.ndarray:
        """Index of the first snap time at or after each time (0 before T_0)."""
        d = self.snap_ns
        return np.maximum(0, -(-(ts - self.setup.t0) // d))

    def _flush(self, win: _Window) -> Iterator[Message]:
        """One message per stream of the window, in stream rank order, all with its index range."""
        last = win.first_index + win.n - 1
        for table, parts in zip(TABLES, win.parts, strict=True):
            if parts:
                rec = np.concatenate(parts)
                subject = sj.TABLE_SUBJECT[table]
                msg_id = sj.msg_id(self.date, subject, win.first_index, last)
                yield Message(subject, msg_id, rec.tobytes(), win.last_ts, rec.shape[0])

    def _boundary(self, ts: int) -> int:
        t0, d = self.setup.t0, self.snap_ns
        return t0 + max(0, -(-(ts - t0) // d)) * d

    def _watermarks(self, last_ts: int, next_ts: int) -> Iterator[Message]:
        w = self._boundary(last_ts)
        while w < next_ts:
            doc = json.dumps({"w": w}, separators=(",", ":")).encode()
            yield Message(sj.CLOCK, sj.msg_id(self.date, sj.CLOCK, w, w), doc, w)
            w += self.snap_ns

    def _json(self, subject: str, what: str, doc: bytes, event_ns: int) -> Message:
        return Message(subject, f"{self.date.isoformat()}|{subject}|{what}", doc, event_ns)
