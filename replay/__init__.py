"""Everything that touches the world: readers, ingest, merge, clock, Gold, manifest, live, CLI.

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
