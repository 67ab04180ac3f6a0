"""numba's tooling: the on-disk cache keyed by the code digest (set up once, from
``engines/__init__``) and the decorator for kernels that borrow their arrays.

May import: nothing outside engines.jit.
Never imported by: nothing (every room may use it).
"""
