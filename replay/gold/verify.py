"""`levelreplay verify A B`: prove two Gold runs identical, or say how they differ (SPEC §3.3).

A and B are Gold output roots (``--out`` of replay), session manifests, Gold files or their
``date=`` directories. Every session is read as a pair (Gold file, manifest) and must be
consistent — the manifest records the file's sha256 — or the side is not a Gold run (exit 2).
Two kinds of difference are told apart:

- **Gold drift**: the bytes differ. The first differing file, row group, row and column are named,
  with both values and that row's snap time and level; when the rows are equal but the bytes are
  not (another pyarrow wrote the footer), it says so and names the library versions that differ.
- **Provenance only**: the Gold bytes are identical (equal ``outputs_digest``) but the manifests'
  ``deterministic`` parts are not: the code digest, the config keys, the input partitions or the
  library versions that differ are named.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from replay.common.dates import iso_date
from replay.common.errors import UserError
from replay.common.hashing import sha256_file
from replay.gold.layout import PART, TABLE, manifest_file, manifests_dir, output_key, table_dir
from replay.gold.manifest import manifest_problem

DRIFT = "drift"
PROVENANCE = "provenance"
MISSING = "missing"


class NotAGoldRun(UserError):
    """A side of a comparison is not a complete, consistent Gold run."""


@dataclass(frozen=True)
class Difference:
    kind: str  # DRIFT, PROVENANCE or MISSING
    what: str

    def __str__(self) -> str:
        label = {DRIFT: "Gold drift", PROVENANCE: "provenance only", MISSING: "missing"}[self.kind]
        return f"{label}: {self.what}"


@dataclass(frozen=True)
class SessionOutput:
    """One session of a run: its manifest and its Gold file, checked to belong together."""

    date: str
    out: Path
    manifest: dict[str, Any]
    gold: Path

    @property
    def det(self) -> dict[str, Any]:
        return self.manifest["deterministic"]


def _root_and_dates(path: Path) -> tuple[Path, list[str] | None]:
    """The run root of ``path`` and the sessions it names (None: all)."""
    if not path.exists():
        raise NotAGoldRun("does not exist", path=str(path), expected="a Gold output directory")
    if path.is_file() and path.suffix == ".json" and path.name.startswith("date="):
        return path.parents[3], [path.stem.removeprefix("date=")]  # gold/_manifests/<table>/
    if path.is_file() and path.name == PART:
        path = path.parent
    if path.is_dir() and path.name.startswith("date=") and path.parent.name == TABLE:
        return path.parents[2], [path.name.removeprefix("date=")]
    if path.is_dir() and (path / "gold").is_dir():
        return path, None
    raise NotAGoldRun(
        "is not a Gold run",
        path=str(path),
        expected="an output root (holding gold/), a session manifest or a Gold file",
    )


def load_run(path: Path) -> dict[str, SessionOutput]:
    """Every session of the run at ``path``, each a consistent (Gold, manifest) pair."""
    out, dates = _root_and_dates(path)
    if dates is None:  # every session with a manifest or a Gold file: one alone is incomplete
        named = {p.stem.removeprefix("date=") for p in manifests_dir(out).glob("date=*.json")}
        named |= {
            p.parent.name.removeprefix("date=") for p in table_dir(out).glob(f"date=*/{PART}")
        }
        dates = sorted(named)
    if not dates:
        raise NotAGoldRun("holds no Gold sessions", path=str(out), expected="gold/_manifests/")
    return {d: read_session(out, d) for d in dates}


def read_session(out: Path, date: str) -> SessionOutput:
    """One session's (Gold, manifest) pair; ``NotAGoldRun`` unless the manifest records the
    Gold file's sha256 (every reader of a pair checks it here)."""
    mpath = manifest_file(out, iso_date(date, "session", str(manifests_dir(out))))
    gold = out / "gold" / TABLE / f"date={date}" / PART
    if not mpath.exists() and gold.exists():
        raise NotAGoldRun(
            f"incomplete session {date}: a Gold file without its manifest",
            path=str(gold),
            expected="a Gold file and its manifest from the same run (rerun the session)",
        )
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise NotAGoldRun(
            f"unreadable manifest ({type(exc).__name__})",
            path=str(mpath),
            expected="a manifest written by levelreplay replay",
        ) from None
    problem = manifest_problem(manifest)
    if problem is not None:
        raise NotAGoldRun(
            f"not a whole manifest: {problem}",
            path=str(mpath),
            expected="the manifest levelreplay replay wrote, unedited (rerun the session)",
        )
    outputs = manifest["deterministic"]["outputs"]
    key = output_key(out, gold)
    if not gold.is_file() or outputs.get(key) != sha256_file(gold):
        raise NotAGoldRun(
            f"incomplete session {date}: the manifest does not record this Gold file's sha256",
            path=str(gold),
            expected="a Gold file and its manifest from the same run (rerun the session)",
        )
    return SessionOutput(date, out, manifest, gold)


def _ns_to_utc(ns: int) -> str:
    t = dt.datetime.fromtimestamp(ns // 1_000_000_000, tz=dt.UTC)
    return f"{t:%Y-%m-%dT%H:%M:%S}.{ns % 1_000_000_000 // 1_000_000:03d}Z"


def _first_row_difference(a: SessionOutput, b: SessionOutput) -> str:
    ta, tb = pq.read_table(a.gold), pq.read_table(b.gold)
    name = output_key(a.out, a.gold)
    if ta.schema != tb.schema:
        for i, (fa, fb) in enumerate(zip(ta.schema, tb.schema, strict=False)):
            if fa != fb:
                return f"{name}: schema differs at column {i}: {fa} vs {fb}"
        return f"{name}: schema differs: {len(ta.schema)} vs {len(tb.schema)} columns"
    n = min(ta.num_rows, tb.num_rows)
    first: tuple[int, str] | None = None
    for col in ta.schema.names:
        ca, cb = ta.column(col).slice(0, n), tb.column(col).slice(0, n)
        if ca.equals(cb):
            continue
        eq = pc.fill_null(pc.equal(ca, cb), False)
        same = pc.or_(eq, pc.and_(ca.is_null(), cb.is_null())).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero(~same)
        if bad.size and (first is None or int(bad[0]) < first[0]):
            first = (int(bad[0]), col)
    if first is not None:
        row, col = first
        md = pq.ParquetFile(a.gold).metadata
        ends = np.cumsum([md.row_group(i).num_rows for i in range(md.num_row_groups)])
        g = int(np.searchsorted(ends, row, side="right"))
        in_group = row - (int(ends[g - 1]) if g else 0)
        va, vb = ta.column(col)[row].as_py(), tb.column(col)[row].as_py()
        ts, level = ta.column("ts_ns")[row].as_py(), ta.column("level_id")[row].as_py()
        return (
            f"{name}: row group {g}, row {row} ({in_group} in the group), column {col}: "
            f"{va!r} vs {vb!r} (snap {_ns_to_utc(ts)}, level {level})"
        )
    if ta.num_rows != tb.num_rows:
        return f"{name}: row count {ta.num_rows} vs {tb.num_rows} (first {n} rows equal)"
    libs = _dict_diff(a.det.get("libraries", {}), b.det.get("libraries", {}))
    why = f"library versions differ: {libs}" if libs else "writer options or metadata differ"
    return f"{name}: same rows, different bytes ({why})"


def _dict_diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(f"{k} {a.get(k)!r} vs {b.get(k)!r}" for k in keys)


def _inputs_diff(a: list[dict], b: list[dict]) -> str:
    ia = {x["path"]: x["sha256"] for x in a}
    ib = {x["path"]: x["sha256"] for x in b}
    parts = []
    for p in sorted(set(ia) | set(ib)):
        if p not in ia or p not in ib:
            parts.append(f"{p} only in {'B' if p not in ia else 'A'}")
        elif ia[p] != ib[p]:
            parts.append(f"{p} sha256 {ia[p][:12]}… vs {ib[p][:12]}…")
    return "; ".join(parts)


def provenance(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """What differs between two ``deterministic`` parts whose Gold bytes are identical."""
    out = []
    skip = {"digest", "outputs", "outputs_digest"}
    for k in sorted((set(a) | set(b)) - skip):
        va, vb = a.get(k), b.get(k)
        if va == vb:
            continue
        if k == "code_digest":
            out.append(f"code digest {str(va)[:12]}… vs {str(vb)[:12]}…")
        elif k == "config":
            out.append(f"config keys: {_dict_diff(va or {}, vb or {})}")
        elif k == "config_sha256":
            continue  # named through the config keys
        elif k == "inputs":
            out.append(f"inputs: {_inputs_diff(va or [], vb or [])}")
        elif k == "libraries":
            out.append(f"library versions: {_dict_diff(va or {}, vb or {})}")
        else:
            out.append(f"{k}: {va!r} vs {vb!r}")
    return out


def compare_sessions(a: SessionOutput, b: SessionOutput) -> list[Difference]:
    if a.gold.read_bytes() != b.gold.read_bytes():
        return [Difference(DRIFT, f"session {a.date}: {_first_row_difference(a, b)}")]
    if a.det == b.det:
        return []
    what = "; ".join(provenance(a.det, b.det)) or "manifests differ"
    return [Difference(PROVENANCE, f"session {a.date}: Gold identical; {what}")]


def compare(a: Path, b: Path) -> list[Difference]:
    """All differences between two Gold runs (empty when identical)."""
    ra, rb = load_run(a), load_run(b)
    diffs: list[Difference] = []
    for date in sorted(set(ra) | set(rb)):
        if date not in ra or date not in rb:
            missing = a if date not in ra else b
            diffs.append(Difference(MISSING, f"session {date} is not in {missing}"))
            continue
        diffs += compare_sessions(ra[date], rb[date])
    return diffs
