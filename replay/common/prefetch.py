"""Run an iterator on a reader thread, a bounded number of items ahead of the consumer.

Parquet decoding (pyarrow), numpy copies and ``nogil`` numba kernels release the GIL, so on two
cores the reader's work overlaps with the engines'. Memory stays bounded by ``depth`` items;
an exception in the reader is re-raised in the consumer, and closing the consumer stops it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(source: Iterator[T], depth: int = 3) -> Iterator[T]:
    """Yield ``source``'s items in order, produced on a daemon thread up to ``depth`` ahead."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer
            put(exc)

    th = threading.Thread(target=work, name="levelreplay-reader", daemon=True)
    th.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        th.join()
