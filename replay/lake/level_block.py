"""DepthBatch.levels from Bronze's forty level columns, in one cache-friendly pass.

Bronze keeps DBN's column per level (``bid_px_00`` … ``ask_sz_09``; sizes uint32). Writing them
into the row-major (n, 4, 10) block column by column strides 320 bytes per value and cost more
than decoding the Parquet pages; this kernel walks blocks of rows instead, so each block of the
output stays in cache while the forty inputs stream through. It releases the GIL (reader thread).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

from engines.contract.events import N_LEVELS

PRICE_PLANES = ("bid_px", "ask_px")
SIZE_PLANES = ("bid_sz", "ask_sz")
_BLOCK = 256  # rows per pass: 256 x 320 B of output stays in L1/L2


@njit(cache=True, nogil=True)
def _gather(px, sz, out):  # type: ignore[no-untyped-def]
    n = out.shape[0]
    for r0 in range(0, n, _BLOCK):
        r1 = min(n, r0 + _BLOCK)
        for c in range(2 * N_LEVELS):
            a = px[c]
            j = c // N_LEVELS
            k = c % N_LEVELS
            for r in range(r0, r1):
                out[r, j, k] = a[r]
        for c in range(2 * N_LEVELS):
            b = sz[c]
            j = 2 + c // N_LEVELS
            k = c % N_LEVELS
            for r in range(r0, r1):
                out[r, j, k] = b[r]


def level_columns(t: pa.Table, planes: tuple[str, ...], dtype: type) -> tuple[np.ndarray, ...]:
    """The ten columns of each plane, in plane then level order, as ``dtype`` arrays."""
    cols = []
    for prefix in planes:
        for i in range(N_LEVELS):
            a = t.column(f"{prefix}_{i:02d}").to_numpy()
            cols.append(a if a.dtype == dtype else a.astype(dtype))
    return tuple(cols)


def levels_block(t: pa.Table) -> np.ndarray:
    """(n, 4, 10) int64 in ``LV_*`` plane order (bid px, ask px, bid sz, ask sz)."""
    out = np.empty((t.num_rows, 4, N_LEVELS), dtype=np.int64)
    if t.num_rows:
        _gather(
            level_columns(t, PRICE_PLANES, np.int64),
            level_columns(t, SIZE_PLANES, np.uint32),
            out,
        )
    return out
