"""``levelreplay publish``: a Bronze session onto NATS JetStream, as a feed adapter would (SPEC §6).

The session's stream (``subjects.stream_name``, file storage, a duplicate window longer than a
session) is created if missing and takes ``market.>``; a stream of another date holding
``market.>`` is moved to its archive subjects first (its messages stay). Messages go out in the
order ``SessionFeed`` gives, each acknowledged by the server before the next (order and delivery
are the stream's), with its ``Nats-Msg-Id``: publishing a session again, or resending after a
server restart, is a no-op the server reports as duplicate. ``speed`` paces by event time
(1 = real time); 0 sends as fast as acknowledgements allow.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from replay.live import subjects as sj
from replay.live.connection import connect, retrying
from replay.live.feed import SessionFeed


@dataclass(frozen=True)
class PublishReport:
    stream: str
    messages: int
    records: int
    duplicates: int  # acknowledged as already stored (a republished session)
    seconds: float


async def ensure_stream(js: object, date: dt.date, url: str) -> str:
    """The date's stream, capturing ``market.>`` (another date's stream is archived first)."""
    name = sj.stream_name(date)
    try:
        await retrying(lambda: js.stream_info(name), url)  # type: ignore[attr-defined]
        return name
    except NotFoundError:
        pass
    try:
        holder = await js.find_stream_name_by_subject(sj.SESSION)  # type: ignore[attr-defined]
    except NotFoundError:
        holder = None
    if holder is not None and holder != name:
        info = await js.stream_info(holder)  # type: ignore[attr-defined]
        cfg = info.config
        cfg.subjects = sj.archived_subjects(holder)
        await js.update_stream(cfg)  # type: ignore[attr-defined]
    await js.add_stream(  # type: ignore[attr-defined]
        StreamConfig(
            name=name,
            subjects=[sj.MARKET],
            storage=StorageType.FILE,
            duplicate_window=sj.DUPLICATE_WINDOW_S,
        )
    )
    return name


async def publish_session(
    lake: Path, date: dt.date, url: str, speed: float, snap_ns: int, per_message: int = 256
) -> PublishReport:
    """Publish one session; returns what was sent."""
    feed = SessionFeed(lake, date, snap_ns, per_message)
    nc = await connect(url, "levelreplay-publish")
    try:
        js = nc.jetstream(timeout=5.0)
        name = await ensure_stream(js, date, url)
        wall0 = time.monotonic()
        ev0: int | None = None
        sent = dups = 0
        for m in feed.messages():
            if speed > 0:
                ev0 = m.event_ns if ev0 is None else ev0
                due = wall0 + (m.event_ns - ev0) / 1e9 / speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            headers = {sj.MSG_ID: m.msg_id}
            ack = await retrying(
                lambda m=m, h=headers: js.publish(m.subject, m.payload, stream=name, headers=h),
                url,
            )
            sent += 1
            dups += bool(ack.duplicate)
        return PublishReport(name, sent, feed.records, dups, time.monotonic() - wall0)
    finally:
        await nc.close()
