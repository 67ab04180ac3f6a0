"""``levelreplay live``: consume a session's stream, drive the engines, publish ``levels.signals``.

The stream is read from its first message with an ordered consumer, and every message's stream
sequence is checked (``StreamCursor``): a message at or below the last one applied (a
redelivery) is dropped and counted; a jump ahead (a gap) is filled from the stream by sequence
(``get_msg``) and counted.
When nothing arrives for a while although the stream holds more (a consumer lost with a server
restart), the subscription is made again from the next sequence. A restarted ``live`` simply
reads the session again from its first message: the engines are a function of the messages, so
its Gold is byte-identical to an uninterrupted run (and to offline replay).

Each scored snap with rows is published on ``levels.signals`` (SPEC §5.9 JSON) with headers
``Nats-Msg-Id`` (date and snap), the snap index and the stream sequence of the message that closed
it. Latency (arrival of that message to the hand-over of the last snap it closed to the client)
is measured per snap for the benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from engines.contract.config import EngineConfig
from replay.common.errors import UserError
from replay.live import subjects as sj
from replay.live.connection import connect, retrying
from replay.live.cursor import StreamCursor
from replay.live.session import LiveSession, SnapOut

IDLE_S = 2.0  # no message for this long: check the stream, resubscribe if it holds more


@dataclass
class LiveReport:
    """What a live run did (small; the CLI prints it, the benchmark reads it)."""

    stream: str
    date: dt.date | None
    snaps_published: int
    counts: dict[str, int]
    gaps_repaired: int
    redeliveries: int
    resubscribed: int
    seconds: float
    latency_ns: list[int] = field(default_factory=list)
    first_event_ns: int | None = None
    last_event_ns: int | None = None
    gold: Path | None = None


async def _find_stream(js: Any, date: dt.date | None, url: str, budget_s: float) -> str:
    """The date's stream, or the one holding ``market.>``; waits up to ``budget_s`` for it to
    appear (``live`` may start before the feed does)."""
    deadline = time.monotonic() + budget_s
    while True:
        try:
            if date is not None:
                name = sj.stream_name(date)
                await retrying(lambda n=name: js.stream_info(n), url)
                return name
            return str(await retrying(lambda: js.find_stream_name_by_subject(sj.SESSION), url))
        except NotFoundError:
            if time.monotonic() > deadline:
                what = sj.stream_name(date) if date is not None else f"a stream of {sj.MARKET}"
                raise UserError(
                    f"no {what} after {budget_s:g} s",
                    path=url,
                    expected="a session published with levelreplay publish (or a feed adapter)",
                ) from None
            await asyncio.sleep(0.2)


async def run_live(
    url: str,
    cfg: EngineConfig,
    *,
    date: dt.date | None = None,
    gold: Any | None = None,
    engine: str = "fast",
    idle_budget_s: float = 60.0,
) -> tuple[LiveReport, LiveSession]:
    """Consume one session to its end; ``gold`` (a row sink, e.g. a ``GoldWriter``) also gets
    every row."""
    nc = await connect(url, "levelreplay-live")
    session = LiveSession(cfg, engine, gold)
    wall0 = time.monotonic()
    try:
        js = nc.jetstream(timeout=5.0)
        name = await _find_stream(js, date, url, idle_budget_s)
        cursor = StreamCursor()
        resubscribed = published = 0
        latency: list[int] = []
        first_ts: int | None = None

        async def subscribe(start: int) -> Any:
            cfg_ = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start
            )
            return await retrying(
                lambda: js.subscribe(
                    sj.MARKET, stream=name, ordered_consumer=True, config=cfg_, idle_heartbeat=1.0
                ),
                url,
            )

        async def apply(subject: str, headers: dict[str, str] | None, data: bytes, seq: int,
                        arrived: int) -> None:  # fmt: skip
            nonlocal published, first_ts
            msg_id = (headers or {}).get(sj.MSG_ID)
            outs: list[SnapOut] = session.apply(subject, msg_id, data)
            for out in outs:
                hdr = {
                    sj.MSG_ID: f"{session.start.date.isoformat() if session.start else ''}|"
                    f"{sj.SIGNALS}|{out.k}",
                    sj.SNAP_HEADER: str(out.k),
                    sj.CLOSED_BY_HEADER: str(seq),
                }
                await nc.publish(sj.SIGNALS, out.payload, headers=hdr)
                published += 1
                first_ts = out.ts_ns if first_ts is None else first_ts
            if outs:
                latency.append(time.perf_counter_ns() - arrived)

        sub = await subscribe(cursor.next_seq)
        idle_since = time.monotonic()
        while not session.finished:
            try:
                msg = await sub.next_msg(timeout=IDLE_S)
            except TimeoutError:
                info = await retrying(lambda: js.stream_info(name), url)
                if info.state.last_seq >= cursor.next_seq:  # it holds more: consumer lost
                    await _quiet_unsubscribe(sub)
                    sub = await subscribe(cursor.next_seq)
                    resubscribed += 1
                elif time.monotonic() - idle_since > idle_budget_s:
                    raise UserError(
                        f"no message for {idle_budget_s:g} s and the session has not ended",
                        path=f"{url} stream {name}",
                        expected="the publisher (or feed adapter) to send the session's end",
                    ) from None
                continue
            arrived = time.perf_counter_ns()
            idle_since = time.monotonic()
            seq = int(msg.metadata.sequence.stream)
            if cursor.is_redelivery(seq):
                continue
            for m in cursor.missing_before(seq):  # a gap: fill it from the stream, in order
                missing = await retrying(lambda s=m: js.get_msg(name, s), url)
                await apply(missing.subject, missing.headers, missing.data or b"", m, arrived)
                cursor.applied(m, repaired=True)
            await apply(msg.subject, msg.headers, msg.data, seq, arrived)
            cursor.applied(seq)
        await _quiet_unsubscribe(sub)
        await nc.flush()
    finally:
        await nc.close()
    report = LiveReport(
        stream=name,
        date=session.start.date if session.start else None,
        snaps_published=published,
        counts=session.counts.as_dict(),
        gaps_repaired=cursor.gaps_repaired,
        redeliveries=cursor.redeliveries,
        resubscribed=resubscribed,
        seconds=time.monotonic() - wall0,
        latency_ns=latency,
        first_event_ns=session.start.t0_ns if session.start else None,
        last_event_ns=session.last_event_ns(),
    )
    return report, session


async def _quiet_unsubscribe(sub: Any) -> None:
    with contextlib.suppress(Exception):  # a subscription of a dead connection: nothing to undo
        await sub.unsubscribe()
