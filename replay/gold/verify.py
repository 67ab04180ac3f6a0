"""`levelreplay verify A B`: prove two Gold runs identical, or name the first difference.

A and B are Gold output roots (``--out`` of replay), Gold session directories, or two manifest
files. Parquet files are compared byte for byte first; when bytes differ the rows are compared
column by column (in schema order) to name the first differing file, row and column. Manifests
are compared on their ``deterministic`` part only (``run`` holds wall-clock facts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from replay.errors import UserError


@dataclass(frozen=True)
class Difference:
    what: str

    def __str__(self) -> str:
        return self.what


def _session_dirs(root: Path) -> dict[str, Path]:
    """date=YYYY-MM-DD -> directory holding part-00000.parquet and/or _manifest.json."""
    if not root.exists():
        raise UserError("does not exist", path=str(root), expected="a Gold output directory")
    if root.is_file():
        return {root.name: root}
    if root.name.startswith("date="):
        return {root.name: root}
    base = root / "gold" / "levels_signals" if (root / "gold").is_dir() else root
    out = {p.name: p for p in sorted(base.glob("date=*")) if p.is_dir()}
    if not out:
        raise UserError(
            "holds no Gold sessions", path=str(root), expected="gold/levels_signals/date=*/"
        )
    return out


def _first_row_difference(a: Path, b: Path) -> str:
    ta, tb = pq.read_table(a), pq.read_table(b)
    if ta.schema != tb.schema:
        for i, (fa, fb) in enumerate(zip(ta.schema, tb.schema, strict=False)):
            if fa != fb:
                return f"schema differs at column {i}: {fa} vs {fb}"
        return f"schema differs: {len(ta.schema)} vs {len(tb.schema)} columns"
    n = min(ta.num_rows, tb.num_rows)
    first: tuple[int, str] | None = None
    for name in ta.schema.names:
        ca, cb = ta.column(name).slice(0, n), tb.column(name).slice(0, n)
        if ca.equals(cb):
            continue
        eq = pa.compute.fill_null(pa.compute.equal(ca, cb), False)
        both_null = pa.compute.and_(ca.is_null(), cb.is_null())
        same = pa.compute.or_(eq, both_null).to_numpy(zero_copy_only=False)
        bad = (~same).nonzero()[0]
        if bad.size:
            row = int(bad[0])
            if first is None or row < first[0]:
                first = (row, name)
    if first is not None:
        row, name = first
        va, vb = ta.column(name)[row].as_py(), tb.column(name)[row].as_py()
        return f"row {row}, column {name}: {va!r} vs {vb!r}"
    if ta.num_rows != tb.num_rows:
        return f"row count {ta.num_rows} vs {tb.num_rows} (first {n} rows equal)"
    return "same rows, different bytes (writer options or metadata differ)"


def _manifest_difference(a: Path, b: Path) -> str | None:
    da = json.loads(a.read_text())["deterministic"]
    db_ = json.loads(b.read_text())["deterministic"]
    if da == db_:
        return None
    for k in sorted(set(da) | set(db_)):
        if da.get(k) != db_.get(k):
            return f"manifest key '{k}': {da.get(k)!r} vs {db_.get(k)!r}"
    return "manifests differ"


def compare(a: Path, b: Path) -> list[Difference]:
    """All differences between two Gold runs (empty when identical)."""
    if a.is_file() and b.is_file() and a.suffix == ".json":
        d = _manifest_difference(a, b)
        return [] if d is None else [Difference(f"{a} vs {b}: {d}")]
    sa, sb = _session_dirs(a), _session_dirs(b)
    diffs: list[Difference] = []
    for name in sorted(set(sa) | set(sb)):
        if name not in sa or name not in sb:
            missing = a if name not in sa else b
            diffs.append(Difference(f"session {name} missing in {missing}"))
            continue
        for fname in ("part-00000.parquet", "_manifest.json"):
            fa, fb = sa[name] / fname, sb[name] / fname
            if not fa.exists() and not fb.exists():
                continue
            if not fa.exists() or not fb.exists():
                diffs.append(Difference(f"{name}/{fname} exists in only one run"))
                continue
            if fname.endswith(".json"):
                d = _manifest_difference(fa, fb)
                if d is not None:
                    diffs.append(Difference(f"{name}/{fname}: {d}"))
            elif fa.read_bytes() != fb.read_bytes():
                diffs.append(Difference(f"{name}/{fname}: {_first_row_difference(fa, fb)}"))
    return diffs
