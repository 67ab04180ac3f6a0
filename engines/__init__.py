"""Pure physics engines of levelreplay.

Arrays and explicit state in, arrays and frozen dataclasses out; no I/O, clock or globals. The one
exception runs here, once: numba's cache directory is keyed by the code digest (see jit_cache).

May import: nothing outside engines.
Never imported by: nothing (every mode drives it).
"""

from engines.jit_cache import use_code_keyed_cache

use_code_keyed_cache()
