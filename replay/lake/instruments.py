"""Which rows ingest keeps: instrument classes from definitions, else from raw symbols (SPEC §2.1).

An instrument's class comes from its definition (in this ingest call or already in the lake);
without one, an ES outright is recognised by its raw symbol (``ES`` + month code + year digit),
a calendar spread by ``ES...-ES...``, an option by ``<root> C<strike>`` / ``P<strike>`` (an
*orphan* option: kept out of Bronze and counted), and anything else is excluded and counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from replay.lake.few_unique import unique_pairs
from replay.lake.layout import bronze_root, open_partition, read_errors_named

ES_OUTRIGHT = re.compile(r"^ES[FGHJKMNQUVXZ]\d{1,2}$")
SPREAD_LIKE = re.compile(r"^ES[FGHJKMNQUVXZ]\d{1,2}-ES[FGHJKMNQUVXZ]\d{1,2}$")
OPTION_LIKE = re.compile(r"^\S+\s+[CP]\d")

# Row categories (uint8) used by ingest routing and its report.
FUTURE, OPTION, SPREAD, OTHER, ORPHAN_OPTION = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class DefinitionInfo:
    instrument_class: str
    raw_symbol: str
    underlying: str
    asset: str


def is_es_family(info: DefinitionInfo) -> bool:
    """ES outrights, and options whose underlying is an ES outright."""
    if info.instrument_class == "F":
        return bool(ES_OUTRIGHT.match(info.raw_symbol)) or info.asset == "ES"
    if info.instrument_class in ("C", "P"):
        return bool(ES_OUTRIGHT.match(info.underlying))
    if info.instrument_class == "S":
        return info.asset == "ES" or info.raw_symbol.startswith("ES")
    return False


def definition_category(info: DefinitionInfo) -> int:
    if info.instrument_class == "S":
        return SPREAD
    if not is_es_family(info):
        return OTHER
    return FUTURE if info.instrument_class == "F" else OPTION


def symbol_category(symbol: str | None) -> int:
    """Category of an instrument that has no definition, from its raw symbol alone."""
    if symbol is None:
        return OTHER
    if ES_OUTRIGHT.match(symbol):
        return FUTURE
    if SPREAD_LIKE.match(symbol) or "-" in symbol:
        return SPREAD
    if OPTION_LIKE.match(symbol):
        return ORPHAN_OPTION
    return OTHER


class Registry:
    """instrument_id -> latest definition seen (lake first, then this ingest call, in order)."""

    def __init__(self) -> None:
        self._defs: dict[int, DefinitionInfo] = {}

    def __len__(self) -> int:
        return len(self._defs)

    def get(self, instrument_id: int) -> DefinitionInfo | None:
        return self._defs.get(instrument_id)

    def add(self, instrument_id: int, info: DefinitionInfo) -> None:
        self._defs[int(instrument_id)] = info

    @classmethod
    def from_lake(cls, lake: Path) -> Registry:
        reg = cls()
        root = bronze_root(lake) / "definitions"
        if not root.is_dir():
            return reg
        for part in sorted(root.glob("date=*/part-00000.parquet")):
            open_partition(part, "definitions")  # not Parquet, or not ours: named, exit 2
            with read_errors_named(part):
                t = pq.read_table(
                    part,
                    columns=[
                        "instrument_id", "instrument_class", "raw_symbol", "underlying", "asset"
                    ],
                )  # fmt: skip
            reg.add_table_columns(t.to_pydict())
        return reg

    def add_table_columns(self, cols: dict[str, list]) -> None:
        for iid, cls_, sym, und, asset in zip(
            cols["instrument_id"],
            cols["instrument_class"],
            cols["raw_symbol"],
            cols["underlying"],
            cols["asset"],
            strict=True,
        ):
            self.add(int(iid), DefinitionInfo(cls_, sym, und, asset))

    def categorize(
        self, ids: np.ndarray, symbol_codes: np.ndarray, symbols: list[str]
    ) -> np.ndarray:
        """Category per row; work is per distinct (id, symbol) pair, not per row."""
        if ids.shape[0] == 0:
            return np.zeros(0, dtype=np.uint8)
        uniq, inv = unique_pairs(ids.astype(np.int64), symbol_codes.astype(np.int64))
        cats = np.empty(uniq.shape[0], dtype=np.uint8)
        for j, (iid, code) in enumerate(uniq.tolist()):
            info = self._defs.get(iid)
            if info is not None:
                cats[j] = definition_category(info)
            else:
                cats[j] = symbol_category(symbols[code] if code >= 0 else None)
        return cats[inv.reshape(-1)]
