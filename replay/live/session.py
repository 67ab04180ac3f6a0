"""One live session on the shared seam: NATS messages in, ``SessionEngine`` fed, snaps out.

No NATS here (``replay/live/live.py`` does the I/O), so it runs the same under a test, a benchmark
or a real feed. Messages are applied in stream order: ``market.session`` start builds the
``SessionSetup`` (the definitions that arrive before the first record form the option universe,
as offline replay's setup does); a window's record messages (SPEC §6, ``feed.py``) are gathered
until all its records are there, then decoded with ingest's own functions, filtered with the
reader's own functions, and fed as one merged chunk; a watermark closes the snaps it completes; the
end message closes the last snap. A window already applied (a republished message past the
server's duplicate window, or a redelivery) is dropped and counted; so is a malformed message.
"""

from __future__ import annotations

import collections
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from engines.columns.rows import RowBlock
from engines.contract.config import EngineConfig
from engines.contract.events import (
    DepthBatch,
    MergedChunk,
    OptionDefinitions,
    OptionTradeBatch,
    TradeBatch,
)
from engines.create import create_engine
from engines.seam.session_engine import SessionEngine, SessionSetup
from engines.state.session_context import PriorSession
from replay.gold.payload import block_rows, encode_payload, snap_payload
from replay.lake.reader import (
    DEPTH_COLUMNS,
    TRADE_COLUMNS,
    depth_keyed,
    option_keyed,
    trades_keyed,
)
from replay.live import subjects as sj
from replay.live.records import DTYPES, decode, decode_columns
from replay.run.merge import arrival_chunk
from replay.run.session import arrivals, option_definitions, option_family


@dataclass(frozen=True)
class SnapOut:
    """One scored snap with rows: its index, time and ``levels.signals`` JSON."""

    k: int
    ts_ns: int
    payload: bytes


@dataclass
class LiveCounts:
    """What live counted besides the engine: the manifest's ``run`` part (SPEC §6)."""

    messages: int = 0
    records: int = 0
    windows: int = 0
    watermarks: int = 0
    duplicate_windows: int = 0
    malformed: int = 0
    definitions_mid_session: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


class _Pipeline:
    """The engine's preparation stages, driven one chunk at a time (they map one in, one out)."""

    def __init__(self, engine: SessionEngine) -> None:
        self._queue: collections.deque[MergedChunk] = collections.deque()
        items: Iterator[Any] = self._source()
        for stage in engine.stages():
            items = stage(items)
        self._out = items

    def _source(self) -> Iterator[MergedChunk]:
        while True:
            yield self._queue.popleft()

    def __call__(self, chunk: MergedChunk) -> Any:
        self._queue.append(chunk)
        return next(self._out)


class _Tee:
    """Rows of each snap to the per-snap handler and, optionally, to a Gold writer."""

    batch_rows = 1

    def __init__(self, on_snap: Callable[[RowBlock], None], also: Any | None) -> None:
        self.on_snap = on_snap
        self.also = also

    def put(self, block: RowBlock) -> None:
        if self.also is not None:
            self.also.put(block)
        for a, b in block.snap_bounds():
            self.on_snap(block.slice(a, b))


class LiveSession:
    """Apply a session's messages in stream order; ``apply`` returns the snaps each one closed."""

    def __init__(
        self,
        cfg: EngineConfig,
        engine: str = "fast",
        gold: Callable[[sj.SessionStart], Any] | None = None,
    ) -> None:
        """``gold(start)``, when given, returns a row sink (e.g. a Gold writer) for the session."""
        self.cfg = cfg
        self.engine_kind = engine
        self.gold = gold
        self._sha = hashlib.sha256()
        self.start: sj.SessionStart | None = None
        self.engine: SessionEngine | None = None
        self.setup: SessionSetup | None = None
        self.counts = LiveCounts()
        self.next_index = 0
        self.finished = False
        self._defs: list[pa.Table] = []
        self._universe: OptionDefinitions | None = None
        self._window: dict[str, bytes] = {}
        self._window_range: tuple[int, int] | None = None
        self._window_records = 0
        self._out: list[SnapOut] = []
        self._pipe: _Pipeline | None = None

    # ------------------------------------------------------------------ messages
    def apply(self, subject: str, msg_id: str | None, data: bytes) -> list[SnapOut]:
        """One message of the stream, in stream order."""
        self.counts.messages += 1
        self._out = []
        try:
            if subject == sj.SESSION:
                self._session(data)
            elif subject == sj.CLOCK:
                self._clock(data)
            elif subject in sj.SUBJECT_TABLE:
                self._records(sj.SUBJECT_TABLE[subject], msg_id, data)
            else:
                self._malformed(f"{subject}: not a market subject")
        except (ValueError, KeyError, TypeError) as exc:  # JSON, ids, DBN sizes
            self._malformed(f"{subject} {msg_id}: {type(exc).__name__}: {exc}")
        return self._out

    def _malformed(self, what: str) -> None:
        self.counts.malformed += 1
        if len(self.counts.problems) < 20:
            self.counts.problems.append(what)

    def _session(self, data: bytes) -> None:
        kind = sj.session_message_type(data)
        if kind == "start":
            if self.start is None:
                self.start = sj.SessionStart.from_json(data)
        elif kind == "end":
            if self.start is None:
                raise ValueError("session end before its start")
            self._ensure_engine()
            assert self.engine is not None
            self.engine.finish()
            self.finished = True
        else:
            raise ValueError(f"session message of type {kind!r}")

    def _clock(self, data: bytes) -> None:
        w = int(json.loads(data)["w"])
        self.counts.watermarks += 1
        if self.start is None:
            raise ValueError("watermark before the session start")
        self._ensure_engine()
        assert self.engine is not None
        self.engine.close(w)

    def _records(self, table: str, msg_id: str | None, data: bytes) -> None:
        if self.start is None or msg_id is None:
            raise ValueError("records before the session start, or without a message id")
        first, last = sj.index_range(msg_id)
        if last < self.next_index:
            self.counts.duplicate_windows += 1  # a window already applied: dropped
            return
        if self._window_range != (first, last):
            if self._window_range is not None:
                raise ValueError(f"window {first}-{last} while {self._window_range} is incomplete")
            if first != self.next_index:
                raise ValueError(f"window {first}-{last} after index {self.next_index - 1}")
            self._window_range = (first, last)
            self._window = {}
            self._window_records = 0
        n = len(data) // _itemsize(table)
        if n * _itemsize(table) != len(data) or table in self._window:
            raise ValueError(f"{table} payload of {len(data)} bytes in window {first}-{last}")
        self._window[table] = data
        self._window_records += n
        if self._window_records == last - first + 1:
            self._apply_window(first, last)

    def _apply_window(self, first: int, last: int) -> None:
        parts, self._window, self._window_range = self._window, {}, None
        self.counts.windows += 1
        self.counts.records += last - first + 1
        self.next_index = last + 1
        for name in sorted(parts):  # what the manifest's input digest covers
            self._sha.update(f"{name}:{first}-{last}:{len(parts[name])}\n".encode())
            self._sha.update(parts[name])
        if "definitions" in parts:
            defs = decode("definitions", parts.pop("definitions"), first)
            if self.engine is None:
                self._defs.append(defs)  # before the first record: the starting universe
            else:
                self.counts.definitions_mid_session += defs.num_rows
                assert self._universe is not None
                family = defs.filter(pa.array(option_family(defs)))
                for ts, new in arrivals(family) if family.num_rows else []:
                    self._universe = self._universe.union(new)
                    self._feed(arrival_chunk(ts, new))  # as offline: at its ts_recv
        if not parts:
            return
        assert self.start is not None
        self._ensure_engine()
        chunk = self._chunk(parts, first)
        self._feed(chunk)

    def _chunk(self, parts: dict[str, bytes], first: int) -> MergedChunk:
        assert self.start is not None and self._universe is not None
        primary = self.start.primary_id
        depth_cols = DEPTH_COLUMNS + (_FROM_DEPTH if self.start.trades_from_depth else ())
        t = {
            name: decode_columns(
                name, data, first, depth_cols if name == "futures_mbp10" else TRADE_COLUMNS
            )
            for name, data in parts.items()
        }
        depth_t = t.get("futures_mbp10")
        depth = depth_keyed(depth_t, primary) if depth_t is not None else None
        trades_t = depth_t if self.start.trades_from_depth else t.get("futures_trades")
        trades = None
        if trades_t is not None:
            trades = trades_keyed(trades_t, primary, self.start.trades_from_depth)
        options = None
        if "option_trades" in t and len(self._universe):
            options = option_keyed(t["option_trades"], self._universe)
        return MergedChunk(
            depth=depth.batch if depth is not None else DepthBatch.empty(),
            trades=trades.batch if trades is not None else TradeBatch.empty(),
            options=options.batch if options is not None else OptionTradeBatch.empty(),
        )

    def digest(self) -> str:
        """sha256 over every applied window's records, in order (the live manifest's input)."""
        return self._sha.hexdigest()

    def last_event_ns(self) -> int | None:
        return None if self.engine is None else self.engine.counters().last_event_ts

    # ------------------------------------------------------------------ engine
    def _ensure_engine(self) -> None:
        if self.engine is not None:
            return
        assert self.start is not None
        st = self.start
        defs = pa.concat_tables(self._defs) if self._defs else None
        self._universe = option_definitions(defs)
        prior = None if st.prior is None else PriorSession(*st.prior)
        self.setup = SessionSetup(
            date=st.date,
            primary_id=st.primary_id,
            primary_symbol=st.primary_symbol,
            t0=st.t0_ns,
            options=self._universe,
            prior=prior,
        )
        sink = _Tee(self._on_snap, None if self.gold is None else self.gold(st))
        self.engine = create_engine(self.engine_kind, self.cfg, self.setup, sink)
        self._pipe = _Pipeline(self.engine)

    def _feed(self, chunk: MergedChunk) -> None:
        assert self.engine is not None and self._pipe is not None
        self.engine.feed(self._pipe(chunk))

    def _on_snap(self, block: RowBlock) -> None:
        rows = block_rows(block)
        payload = encode_payload(snap_payload(rows))
        self._out.append(SnapOut(int(rows[0]["snap_index"]), int(rows[0]["ts_ns"]), payload))


_FROM_DEPTH = ("action", "price", "size", "side")  # MBP-10 T records as the trades stream


def _itemsize(table: str) -> int:
    return DTYPES[table].itemsize
