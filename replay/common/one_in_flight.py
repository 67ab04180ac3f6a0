"""One background thread, one call in flight, calls in submission order.

The writers encode a Parquet row group (zstd, GIL released) while the caller computes the next
one: the file's bytes are those of calling ``write_table`` in turn, memory holds at most one
group being encoded, and a failure surfaces at the next ``submit``, ``wait`` or ``stop``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class OneInFlight:
    """Ordered background calls, at most one running."""

    def __init__(self, name: str):
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._inflight: Future[Any] | None = None

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Wait for the call in flight, then start ``fn`` (the pool is made on first use)."""
        self.wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        self._inflight = self._pool.submit(fn, *args, **kwargs)

    def wait(self) -> None:
        """Block until the call in flight is done; re-raise its error."""
        if self._inflight is not None:
            fut, self._inflight = self._inflight, None
            fut.result()

    def stop(self) -> None:
        """Wait, then release the thread (also after an error)."""
        try:
            self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
