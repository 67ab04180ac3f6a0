"""Check the top-10 book our ingest rebuilds from Databento MBO against NautilusTrader's L3 book.

Why: ingest rebuilds every depth row from MBO; a semantic slip there (a partial cancel, a fill, a
snapshot) would skew every replay without failing anything. NautilusTrader's
`OrderBook(BookType.L3_MBO)`, fed by its own Databento decoder, is an implementation that shares
no code with ours, so agreement at every F_LAST record is strong evidence and each disagreement
names a semantic to settle.

    .venv/bin/python scripts/compare_mbo_nautilus.py [--nautilus-python PY] [--out JSON] [FILES...]

Ours: `levelreplay ingest FILE` into a temporary lake; the book at F_LAST record r is that of the
last Bronze depth row (action not 'T', flags & F_LAST) of r's instrument with src_row <= r, else
empty. Theirs: a subprocess in the NautilusTrader venv (never imported here) loads the file with
`DatabentoDataLoader` (pyo3 objects: the same Rust decoder and book as the Cython wrappers, but the
pyo3 book can return just ten levels), applies every delta in file order to one `OrderBook` per
instrument and records the top ten after each delta with F_LAST. Records are paired by
(timestamp, sequence) and order; Nautilus stamps a delta's `ts_event` with the DBN `ts_recv`, so the
timestamp field that pairs more records is used (and reported). Nautilus's loader drops T and F
records, so an F_LAST on one of those is reported as missing on its side.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import databento as db
import numpy as np
import pyarrow.parquet as pq
from bench_peers import ensure_nautilus_venv, find_nautilus_python

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real" / "nautilus_trader"  # beside the checkout
DEFAULT_FILES = [
    REAL / "esh4-glbx-mdp3-20231225.mbo.dbn.zst",
    REAL / "order_book_deltas_catalog"
    / "orderbooks_mbo_2024-05-08T00-00-00_2024-05-08T00-00-02.dbn.zst",
]  # fmt: skip
F_LAST = 128
UNDEF = np.iinfo(np.int64).max  # no level
SHOW = 5  # differences printed per file

# Runs in the NautilusTrader venv: argv = DBN path, output .npz, instrument-id override or "".
NT_CHILD = r"""
import collections, json, sys
import numpy as np
import nautilus_trader
from nautilus_trader.adapters.databento.loaders import DatabentoDataLoader
from nautilus_trader.core import nautilus_pyo3 as p
from nautilus_trader.model.identifiers import InstrumentId

path, out, override = sys.argv[1:4]
deltas = DatabentoDataLoader().from_dbn_file(
    path, instrument_id=InstrumentId.from_str(override) if override else None,
    price_precision=9, as_legacy_cython=False)  # precision 9 holds any DBN price exactly
px_div, sz_div = 10 ** (p.FIXED_PRECISION - 9), 10 ** p.FIXED_PRECISION
books, names, kinds, errors = {}, [], collections.Counter(), []
cols = {k: [] for k in ("ts", "seq", "flags", "action", "inst", "px", "sz", "ct")}

def top(levels):
    res = [(2**63 - 1, 0, 0)] * 10
    for i, lv in enumerate(levels):
        px, r1 = divmod(lv.price.raw, px_div)
        sz, r2 = divmod(lv.size_raw(), sz_div)
        assert r1 == r2 == 0, (lv.price, lv.size())
        res[i] = (px, sz, lv.len())
    return res

for d in deltas:
    name = str(d.instrument_id)
    kinds[f"{d.action.name} flags={d.flags}"] += 1
    if name not in books:
        books[name] = p.OrderBook(d.instrument_id, p.BookType.L3_MBO)
        names.append(name)
    book = books[name]
    try:
        book.apply_delta(d)
    except Exception as e:  # a DataEngine would log it and go on
        errors.append(f"{d}: {e}")
    if d.flags & 128:
        sides = [top(book.bids(10)), top(book.asks(10))]
        for k, v in (("ts", d.ts_event), ("seq", d.sequence), ("flags", d.flags),
                     ("action", d.action.name), ("inst", names.index(name))):
            cols[k].append(v)
        for j, k in enumerate(("px", "sz", "ct")):
            cols[k].append([[lv[j] for lv in side] for side in sides])
meta = {"version": nautilus_trader.__version__, "deltas": len(deltas), "names": names,
        "kinds": dict(sorted(kinds.items())), "errors": len(errors), "first_errors": errors[:5]}
dt = {"ts": "u8", "seq": "u8", "flags": "u1", "action": "U6", "inst": "i4", "px": "i8",
      "sz": "u8", "ct": "u4"}
np.savez(out, meta=json.dumps(meta),
         **{k: np.array(v, dtype=dt[k]).reshape((-1, 2, 10) if k in ("px", "sz", "ct") else -1)
            for k, v in cols.items()})
"""


def nautilus_books(py: Path, path: Path, override: str, tmp: Path) -> dict:
    """Nautilus's F_LAST deltas and its top ten after each (see NT_CHILD)."""
    out = tmp / "nautilus.npz"
    run = subprocess.run([py, "-c", NT_CHILD, str(path), str(out), override], capture_output=True)
    if run.returncode != 0:
        sys.exit(f"nautilus side failed on {path}:\n{run.stderr.decode()[-3000:]}")
    with np.load(out) as z:
        res = {k: z[k] for k in z.files}
    res["meta"] = json.loads(str(res["meta"]))
    return res


def our_books(path: Path, lake: Path, recs: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, ...]:
    """Our (px, sz, ct), each (len(idx), 2, 10), at F_LAST records ``idx`` from a fresh ingest."""
    cli = Path(sys.executable).parent / "levelreplay"
    run = subprocess.run([cli, "ingest", str(path), "--lake", str(lake)], capture_output=True)
    if run.returncode != 0:
        sys.exit(f"ingest failed on {path}:\n{run.stderr.decode()[-3000:]}")
    parts = sorted((lake / "bronze" / "futures_mbp10").glob("date=*/*.parquet"))
    lv = [f"{s}_{f}_{i:02d}" for f in ("px", "sz", "ct") for s in ("bid", "ask") for i in range(10)]
    cols = ["src_row", "instrument_id", "flags", "action", *lv]
    t = {c: np.concatenate([pq.read_table(p, columns=[c]).column(c).to_numpy() for p in parts])
         for c in cols}  # fmt: skip
    keep = np.flatnonzero(((t["flags"] & F_LAST) != 0) & (t["action"] != "T"))
    keep = keep[np.argsort(t["src_row"][keep], kind="stable")]
    n = len(idx)
    px = np.full((n, 2, 10), UNDEF, np.int64)
    sz, ct = np.zeros((n, 2, 10), np.uint64), np.zeros((n, 2, 10), np.uint32)
    inst = recs["instrument_id"][idx]
    for iid in np.unique(inst):
        rows = keep[t["instrument_id"][keep] == iid]
        at = np.flatnonzero(inst == iid)
        pos = np.searchsorted(t["src_row"][rows], idx[at], side="right") - 1
        has, src = at[pos >= 0], rows[pos[pos >= 0]]
        for arr, f in ((px, "px"), (sz, "sz"), (ct, "ct")):
            for s, side in enumerate(("bid", "ask")):
                arr[has, s] = np.stack([t[f"{side}_{f}_{i:02d}"][src] for i in range(10)], axis=1)
    return px, sz, ct


def pair(ours: list[tuple[int, int]], theirs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(our i, their j) for equal keys, the k-th occurrence of a key with the k-th: keys repeat
    when one packet (same ts_recv and sequence) carries several events."""
    slots: dict[tuple[int, int], list[int]] = defaultdict(list)
    for j, key in enumerate(theirs):
        slots[key].append(j)
    used: dict[tuple[int, int], int] = defaultdict(int)
    pairs = []
    for i, key in enumerate(ours):
        k = used[key]
        if k < len(slots.get(key, ())):
            pairs.append((i, slots[key][k]))
            used[key] += 1
    return pairs


def fmt_px(px: int) -> str:
    return "-" if px == UNDEF else format(Decimal(int(px)).scaleb(-9).normalize(), "f")


def differences(
    recs: np.ndarray, rows: np.ndarray, ours: tuple[np.ndarray, ...], theirs: tuple[np.ndarray, ...]
) -> tuple[dict[str, int], list[dict]]:
    """Differing events counted by the coarsest thing that differs (level prices, else sizes,
    else order counts), and every differing level of the first SHOW of them."""
    ne = [o != t for o, t in zip(ours, theirs, strict=True)]
    bad = np.flatnonzero((ne[0] | ne[1] | ne[2]).any(axis=(1, 2)))
    kinds: dict[str, int] = defaultdict(int)
    for b in bad:
        kinds["level prices" if ne[0][b].any() else "sizes" if ne[1][b].any() else "counts"] += 1
    examples = []
    for b in bad[:SHOW]:
        r = int(rows[b])
        for s, lvl in zip(*np.nonzero(ne[0][b] | ne[1][b] | ne[2][b]), strict=True):
            o, t = ((fmt_px(x[0][b, s, lvl]), int(x[1][b, s, lvl]), int(x[2][b, s, lvl]))
                    for x in (ours, theirs))  # fmt: skip
            examples.append({"record": r, "ts_recv": int(recs["ts_recv"][r]),
                             "ts_event": int(recs["ts_event"][r]), "side": ["bid", "ask"][s],
                             "level": int(lvl), "ours": o, "theirs": t})  # fmt: skip
    return dict(kinds), examples


def compare(path: Path, nt_py: Path) -> dict:
    """Pair the two sides' F_LAST records, compare their books, print and return a summary."""
    recs = db.DBNStore.from_file(path).to_ndarray()
    idx = np.flatnonzero(recs["flags"] & F_LAST)
    ids = np.unique(recs["instrument_id"])
    with tempfile.TemporaryDirectory(prefix="mbocmp-") as tmp:
        nt = nautilus_books(nt_py, path, f"{ids[0]}.GLBX" if len(ids) == 1 else "", Path(tmp))
        opx, osz, oct_ = our_books(path, Path(tmp) / "lake", recs, idx)
    meta = nt["meta"]
    tsf = max(("ts_recv", "ts_event"), key=lambda f: np.isin(nt["ts"], recs[f][idx]).sum())
    ours_keys = list(zip(recs[tsf][idx].tolist(), recs["sequence"][idx].tolist(), strict=True))
    pairs = pair(ours_keys, list(zip(nt["ts"].tolist(), nt["seq"].tolist(), strict=True)))
    oi = np.array([i for i, _ in pairs], np.int64)
    tj = np.array([j for _, j in pairs], np.int64)
    in_order = bool(np.all(np.diff(tj) > 0))
    lack_nt = np.setdiff1d(np.arange(len(idx)), oi)
    lack_ours = np.setdiff1d(np.arange(len(nt["ts"])), tj)
    names = [meta["names"][k] for k in nt["inst"][tj]]
    ours_ids = recs["instrument_id"][idx[oi]].tolist()
    mapping = sorted(set(zip(names, ours_ids, strict=True)))  # one pair per instrument if sane
    kinds, examples = differences(recs, idx[oi], (opx[oi], osz[oi], oct_[oi]),
                                  (nt["px"][tj], nt["sz"][tj], nt["ct"][tj]))  # fmt: skip
    n_bad = sum(kinds.values())

    def rec(r: int) -> dict:
        x = recs[r]
        return {"record": r, "action": x["action"].decode(), "flags": int(x["flags"]),
                "ts_recv": int(x["ts_recv"]), "sequence": int(x["sequence"])}  # fmt: skip

    summary = {
        "file": str(path), "records": len(recs), "f_last_records": len(idx),
        "nautilus": meta | {"f_last_deltas": len(nt["ts"])}, "paired_on": [tsf, "sequence"],
        "pairs_in_file_order": in_order, "instrument_map": mapping,
        "f_last_missing_in_nautilus": [rec(int(idx[i])) for i in lack_nt],
        "f_last_missing_in_ours": [
            {"ts": int(nt["ts"][j]), "sequence": int(nt["seq"][j]), "action": str(nt["action"][j]),
             "flags": int(nt["flags"][j])} for j in lack_ours],
        "compared": len(pairs), "equal": len(pairs) - n_bad, "different": n_bad,
        "difference_kinds": dict(kinds), "first_differences": examples,
    }  # fmt: skip
    report(summary)
    return summary


def report(s: dict) -> None:
    nt = s["nautilus"]
    name = Path(s["file"]).name
    print(f"\n{name}: {s['records']:,} records, {s['f_last_records']:,} with F_LAST")
    print(f"  nautilus {nt['version']}: {nt['deltas']:,} deltas, {nt['f_last_deltas']:,} with "
          f"F_LAST, {nt['errors']} apply errors; paired on {'+'.join(s['paired_on'])}, "
          f"in file order: {s['pairs_in_file_order']}; ids {s['instrument_map']}")  # fmt: skip
    print(f"  delta kinds: {nt['kinds']}")
    for side in ("nautilus", "ours"):
        miss = s[f"f_last_missing_in_{side}"]
        print(f"  F_LAST missing in {side}: {len(miss)}" + (f" e.g. {miss[:3]}" if miss else ""))
    print(f"  compared {s['compared']:,}, equal {s['equal']:,}, different {s['different']:,}"
          + (f" {s['difference_kinds']}" if s["different"] else ""))  # fmt: skip
    for e in s["first_differences"]:
        print(f"    record {e['record']} ts_recv {e['ts_recv']} {e['side']} L{e['level']}: "
              f"ours {e['ours']} vs nautilus {e['theirs']}  (px, size, orders)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--nautilus-python", type=Path, help="interpreter with nautilus_trader")
    ap.add_argument("--out", type=Path, default=ROOT / ".bench" / "mbo-compare.json")
    args = ap.parse_args()
    files = args.files or ([p for p in DEFAULT_FILES if p.exists()] if REAL.exists() else [])
    if not files:
        sys.exit("no files given (and the real data set is not here)")
    nt_py = args.nautilus_python or ensure_nautilus_venv(
        ROOT / ".bench" / "nautilus-venv", find_nautilus_python(None)
    )
    results = [compare(p, nt_py) for p in files]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nsummary → {args.out}")
    sys.exit(1 if any(r["different"] or r["f_last_missing_in_ours"] for r in results) else 0)


if __name__ == "__main__":
    main()
