"""Everything that touches the world, in rooms by pipeline stage (each ``__init__`` says its job
and what it may import); at the top only the entry points: ``cli`` (thin: parse, call, print),
``api`` (what a notebook imports) and ``demo``.

May import: engines, replay.common, replay.lake, replay.gold, replay.run, replay.labels,
replay.live, replay.nightly, replay.sample.
Never imported by: engines, replay.common, replay.lake, replay.gold, replay.run, replay.labels,
replay.live, replay.nightly, replay.sample.

Arrow's memory pool is jemalloc unless ``ARROW_DEFAULT_MEMORY_POOL`` says otherwise: with the
default (mimalloc) a heavy day's replay peaked ~110 MB higher (731 vs 617 MB) at the same speed.
The variable only takes effect before pyarrow is first imported; if it already was (a notebook),
the default pool is switched instead, which covers most but not all allocations.
"""

import contextlib
import os
import sys

if "pyarrow" not in sys.modules:
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
elif "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
    import pyarrow as pa

    with contextlib.suppress(NotImplementedError):  # built without jemalloc: keep the default
        pa.set_memory_pool(pa.jemalloc_memory_pool())
