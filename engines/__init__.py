"""Pure physics engines of levelreplay, in rooms from the bottom up: ``jit`` (numba's tooling),
``contract`` (events, config), ``state``, ``physics`` (one module per engine of SPEC §5),
``columns`` (the Gold contract), ``seam`` (the protocol every mode drives), and the two engines,
``reference`` and ``fast``; at the top only ``create_engine``, which chooses between them.

Arrays and explicit state in, arrays and frozen dataclasses out; no I/O, clock or globals. The one
exception runs here, once: numba's cache directory is keyed by the code digest (see jit_cache).

May import: engines.jit, engines.contract, engines.state, engines.physics, engines.columns,
engines.seam, engines.reference, engines.fast.
Never imported by: engines.jit, engines.contract, engines.state, engines.physics, engines.columns,
engines.seam, engines.reference, engines.fast.
"""

from engines.jit.jit_cache import use_code_keyed_cache

use_code_keyed_cache()
