"""Row blocks from the fast kernel's output slots (codes → the reference engine's values).

The kernel writes integer codes and raw numbers into the ``I_*`` / ``X_*`` slots the Gold column
table names; this module turns a block of kernel rows into the exact values the reference engine
produces, column by column as the table's ``decode`` says: enums through the owning modules'
tuples, level ids formatted once per distinct (type, price) with the reference ``level_id``, nulls
from explicit masks, and the few values the kernel leaves to Python (sweep notionals need exact
big-integer division; confidences near a threshold need ``round(mean, 12)``) computed here with
the reference functions.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import numpy as np

from engines.columns.gold_columns import GOLD_COLUMNS, GoldColumn
from engines.columns.rows import NP_TYPES, Coded, Column, RowBlock, session_columns
from engines.contract.config import PRICE_SCALE, EngineConfig
from engines.fast import snap_codes as C
from engines.physics.level_universe import level_id
from engines.physics.score import confidence_label
from engines.physics.tape import SWEEP_DIRECTIONS
from engines.reference.signal_service import _note


def level_types(cfg: EngineConfig) -> tuple[tuple[str, ...], np.ndarray]:
    """Kind name per level type code, and each type's rank in the id order at one price.

    At one price, ids of different types compare like their kind prefixes (``ROUND_`` + price
    vs ``VWAP``), as no moving id starts with an anchored kind's prefix (checked).
    """
    kinds = C.ANCHORED_KINDS + C.MOVING_KINDS + tuple(f"SMA_{p}" for p in cfg.sma_periods)
    keys = [k + "_" for k in C.ANCHORED_KINDS] + list(kinds[len(C.ANCHORED_KINDS) :])
    for a, b in itertools.permutations(keys, 2):
        if b.startswith(a):
            raise ValueError(f"level ids {a!r} and {b!r} do not order by kind")
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return kinds, rank


def _ids(kinds: tuple[str, ...], typ: np.ndarray, px: np.ndarray) -> Coded:
    """Level ids of (type, price) pairs, formatted once per distinct pair; null where type < 0."""
    n_anchored = len(C.ANCHORED_KINDS)
    t = np.where(typ >= 0, typ, -1)
    p = np.where((typ >= 0) & (typ < n_anchored), px, 0)
    order = np.lexsort((p, t))  # distinct pairs without np.unique(axis=0)'s slow path
    ts, ps = t[order], p[order]
    new = np.ones(order.shape[0], dtype=bool)
    new[1:] = (ts[1:] != ts[:-1]) | (ps[1:] != ps[:-1])
    group = np.cumsum(new) - 1
    pairs = list(zip(ts[new].tolist(), ps[new].tolist(), strict=True))
    names = [level_id(kinds[a], b) if a < n_anchored else kinds[a] for a, b in pairs if a >= 0]
    shift = 1 if pairs and pairs[0][0] < 0 else 0  # the null pair sorts first (type -1)
    codes = np.empty(order.shape[0], dtype=np.int64)
    codes[order] = group - shift
    return Coded(codes, tuple(names))


def _sweep_notional(
    cfg: EngineConfig, h: np.ndarray, lo: np.ndarray, has: np.ndarray
) -> np.ndarray:
    """tape.compute_tape's notional: exact integer numerator, one correctly rounded division."""
    out = np.zeros(h.shape[0], dtype=np.float64)
    mult = cfg.contract_multiplier
    cache: dict[tuple[int, int], float] = {}
    for i in np.flatnonzero(has).tolist():
        key = (int(h[i]), int(lo[i]))
        v = cache.get(key)
        if v is None:
            v = cache[key] = (key[0] * PRICE_SCALE + key[1]) * mult / PRICE_SCALE
        out[i] = v
    return out


def _confidence(
    cfg: EngineConfig, code: np.ndarray, b: np.ndarray, t: np.ndarray, f: np.ndarray
) -> Coded:
    out = code.copy()
    for i in np.flatnonzero(code == C.CONF_UNDECIDED).tolist():
        out[i] = C.CONFIDENCE_NAMES.index(confidence_label(cfg, b[i], t[i], f[i]))
    return Coded(out, C.CONFIDENCE_NAMES)


_SIDE3 = (None, *SWEEP_DIRECTIONS)  # sweep direction code + 1
_NOTES = tuple(
    _note(b, f, s, g)
    for b in C.BARRIER_NAMES
    for f in C.FUEL_NAMES
    for s in _SIDE3
    for g in C.SIGNAL_NAMES
)


def _notes(bstate: np.ndarray, feff: np.ndarray, swdir: np.ndarray, sig: np.ndarray) -> Coded:
    nf, ns, ng = len(C.FUEL_NAMES), len(_SIDE3), len(C.SIGNAL_NAMES)
    return Coded(((bstate * nf + feff) * ns + swdir + 1) * ng + sig, _NOTES)


class FastRowDecoder:
    """Decodes blocks of kernel rows of one session into RowBlocks, one column rule per decode."""

    def __init__(self, cfg: EngineConfig, date: dt.date, instrument: str):
        self.cfg = cfg
        self.kinds, self.rank = level_types(cfg)
        self.date = date
        self.instrument = instrument

    def decode(self, oi: np.ndarray, ox: np.ndarray) -> RowBlock:
        """``n`` kernel rows (``oi``: int64 (N_I, n), ``ox``: float64 (N_X, n)) as one block."""
        n = oi.shape[1]
        cols: dict[str, Column] = {}
        valid: dict[str, np.ndarray] = {}
        const = session_columns(n, self.date, self.instrument)
        for col in GOLD_COLUMNS:
            if col.decode == "session":
                cols[col.name] = const[col.name]
                continue
            value, mask = self._column(col, oi, ox)
            cols[col.name] = value
            if mask is not None:
                valid[col.name] = mask
        return RowBlock(cols, valid)

    def _column(
        self, col: GoldColumn, oi: np.ndarray, ox: np.ndarray
    ) -> tuple[Column, np.ndarray | None]:
        s = [oi[getattr(C, x)] if x.startswith("I_") else ox[getattr(C, x)] for x in col.fast]
        rule = _RULES[col.decode]
        return rule(self, col, s)


def _typed(col: GoldColumn, v: np.ndarray) -> np.ndarray:
    return v.astype(NP_TYPES[col.type], copy=False)


_Rule = Callable[[FastRowDecoder, GoldColumn, list[np.ndarray]], tuple[Column, np.ndarray | None]]
_RULES: dict[str, _Rule] = {
    "value": lambda d, c, s: (_typed(c, s[0]), None),
    "enum": lambda d, c, s: (Coded(s[0], c.enum or ()), None),
    "sentinel": lambda d, c, s: (s[0], s[0] != C.NONE),
    "ewma": lambda d, c, s: (s[0], (s[1] >> c.bit) & 1 == 1),
    "if_sweep": lambda d, c, s: (_typed(c, s[0]), s[1] >= 0),
    "if_obstacle": lambda d, c, s: (_typed(c, s[0]), s[1] >= 0),
    "level_id": lambda d, c, s: (_ids(d.kinds, s[0], s[1]), None),
    "level_kind": lambda d, c, s: (Coded(s[0], d.kinds), None),
    "sweep_detected": lambda d, c, s: (s[0] >= 0, None),
    "sweep_notional": lambda d, c, s: (
        _sweep_notional(d.cfg, s[0], s[1], s[2] >= 0),
        s[2] >= 0,
    ),
    "confidence": lambda d, c, s: (_confidence(d.cfg, s[0], s[1], s[2], s[3]), None),
    "note": lambda d, c, s: (_notes(s[0], s[1], s[2], s[3]), None),
}
