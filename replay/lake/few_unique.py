"""``np.unique`` for the few-valued arrays of market data (a chunk holds a handful of ids).

Pure numpy, shared by the DBN decoder and the instrument classifier; kept apart so a replay can
list instruments without importing the DBN decoders (databento, pandas).
"""

from __future__ import annotations

import numpy as np


def small_unique(keys: np.ndarray, max_passes: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for arrays with few distinct values."""
    found: list[int] = []
    inv = np.full(keys.shape[0], -1, dtype=np.int64)
    rest = np.arange(keys.shape[0])
    while rest.size:
        if len(found) == max_passes:
            u, i = np.unique(keys, return_inverse=True)
            return u, i.reshape(-1)
        v = int(keys[rest[0]])
        hit = keys[rest] == v
        inv[rest[hit]] = len(found)
        found.append(v)
        rest = rest[~hit]
    order = np.argsort(np.asarray(found, dtype=np.int64), kind="stable")
    rank = np.empty(len(found), dtype=np.int64)
    rank[order] = np.arange(len(found))
    return np.asarray(found, dtype=np.int64)[order], rank[inv]


def unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique over rows of (a, b), with a fast path for the usual single pair per chunk."""
    if a.shape[0] and bool(np.all(a == a[0])) and bool(np.all(b == b[0])):
        return np.asarray([[a[0], b[0]]], dtype=np.int64), np.zeros(a.shape[0], dtype=np.int64)
    lo = int(b.min())
    span = int(b.max()) - lo + 1
    if int(a.min()) >= 0 and span < (1 << 24) and int(a.max()) < (1 << 38):
        # One int64 key per row, and a few equality passes instead of a sort (a chunk holds a
        # handful of instruments): O(n·k) with tiny k beats np.unique's O(n log n) sort.
        keys, inv = small_unique((a << 24) | (b - lo))
        uniq = np.stack([keys >> 24, (keys & ((1 << 24) - 1)) + lo], axis=1)
        return uniq, inv
    uniq, inv = np.unique(np.stack([a, b], axis=1), axis=0, return_inverse=True)
    return uniq, inv.reshape(-1)
