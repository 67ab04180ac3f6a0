"""``@borrowing_njit``: the decorator of kernels that take arrays and allocate none.

numba increfs every array argument (and every array inside a tuple argument) on entry to a
function and decrefs it on exit; the per-snap kernels take tuples of a dozen arrays several times
per snap and level, and those atomic counts were a quarter of the heavy day's kernel thread. A
kernel that only reads and writes arrays its caller holds needs no counts: compiled with
``_nrt=False`` (numba's own flag) it borrows them. numba refuses to compile such a kernel if it
allocates, so the rule enforces itself; the driver (``snap_kernel.run``, which slices) and anything
that allocates keeps a plain ``@njit``. Arithmetic is untouched: the same bits either way.
"""

from __future__ import annotations

from numba import njit

borrowing_njit = njit(cache=True, _nrt=False)
