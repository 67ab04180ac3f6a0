"""Connecting to NATS with a retry budget, and keeping at it through a server restart.

A server that cannot be reached at the start is a user error after ``budget_s`` (exit 2, naming
the URL). Once connected, the client reconnects without limit and each JetStream call is retried
until ``budget_s`` passes without progress: a server restart mid-session loses nothing (the stream
is on disk, message ids make a resent message a no-op), a server gone for good is an exit 2.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats
from nats.aio.client import Client

from replay.common.errors import UserError

T = TypeVar("T")
RETRYABLE = (
    nats.errors.TimeoutError,
    nats.errors.ConnectionClosedError,
    nats.errors.NoRespondersError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.js.errors.ServiceUnavailableError,
    asyncio.TimeoutError,
    OSError,
)


async def connect(url: str, name: str, budget_s: float = 5.0) -> Client:
    """A connection to ``url``, or a ``UserError`` once ``budget_s`` has passed."""
    deadline = time.monotonic() + budget_s
    last: BaseException | None = None
    seen: list[BaseException] = []

    async def on_error(exc: Exception) -> None:  # the client's own log would print a traceback
        seen.append(exc)

    while time.monotonic() < deadline:
        try:
            return await asyncio.wait_for(
                nats.connect(
                    url,
                    name=name,
                    error_cb=on_error,
                    connect_timeout=2,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.2,
                    ping_interval=5,
                    max_outstanding_pings=3,
                ),
                timeout=max(0.5, deadline - time.monotonic()),
            )
        except (*RETRYABLE, nats.errors.NoServersError) as exc:
            last = seen[-1] if seen else exc
            await asyncio.sleep(0.25)
    reason = f"{type(last).__name__}: {last}" if last else "timeout"
    raise UserError(
        f"cannot reach the NATS server ({reason}) within {budget_s:g} s",
        path=url,
        expected="a running nats-server with JetStream (-js) at that URL",
    )


async def retrying(call: Callable[[], Awaitable[T]], url: str, budget_s: float = 60.0) -> T:
    """``await call()``, retried through a reconnect until ``budget_s`` without success."""
    deadline = time.monotonic() + budget_s
    while True:
        try:
            return await call()
        except RETRYABLE as exc:
            if time.monotonic() > deadline:
                raise UserError(
                    f"lost the NATS server for more than {budget_s:g} s ({type(exc).__name__})",
                    path=url,
                    expected="the server back within the retry budget; rerun to continue",
                ) from None
            await asyncio.sleep(0.1)
