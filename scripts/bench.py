"""`make bench`: generate (and cache) sessions; measure ingest (against databento's own decode),
the read floor (Bronze columns replay needs, merged, no engines), replay, and determinism at scale.

Each measurement runs in its own subprocess so peak RSS is that step's alone. Results go to
`.bench/result.json` and the table between the markers in BENCHMARKS.md is regenerated.

    python scripts/bench.py [--sizes hour,2h-i4,day-first-hour,day] [--out .bench]
                            [--no-determinism]

Besides the sessions' tables it measures issue 22's two side-by-side figures: replay against a
full multi-threaded read of the same Bronze partitions (every column, `pyarrow.parquet.read_table`),
and a 30-minute session's whole `levelreplay replay` process (interpreter start to exit).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {
    # name: generate_session kwargs
    "hour": {"minutes": 60, "start": "08:30", "intensity": 1.0},
    "2h-i4": {"minutes": 120, "start": "08:30", "intensity": 4.0},
    "30m": {"minutes": 30, "start": "08:30", "intensity": 1.0},
    "day": {"minutes": 1380, "start": "17:00", "intensity": 7.0},
}
MARK_BEGIN = "<!-- bench:begin -->"
MARK_END = "<!-- bench:end -->"


def _child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line; add its peak RSS."""
    wrapper = (
        "import json, resource, sys, time\n"
        + code
        + "\nres['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(res))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, cwd=ROOT
    )
    if out.returncode != 0:
        sys.exit(f"benchmark step failed ({out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


DECODE = """
import databento as db
t = time.perf_counter(); n = 0
store = db.DBNStore.from_file(sys.argv[1])
for a in store.to_ndarray(count=1 << 18):
    n += len(a)
res = {'records': n, 'seconds': time.perf_counter() - t}
"""

REPLAY = """
import datetime as dt
from pathlib import Path
from engines.contract.config import EngineConfig
from replay.run.replay_job import ReplayJob, replay_session
t = time.perf_counter()
chunk = None if sys.argv[4] == "none" else int(sys.argv[4])
job = ReplayJob(Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), Path(sys.argv[3]),
                EngineConfig(), force=True, chunk_events=chunk, use_silver=sys.argv[5] == "silver")
r = replay_session(job)
res = {'seconds': time.perf_counter() - t, 'events': sum(r.events.values()), 'snaps': r.snaps,
       'rows': r.rows, 'digest': r.digest, 'outputs_digest': r.outputs_digest,
       'depth_source': json.loads(r.manifest.read_text())['run']['depth_source']}
"""

SILVER = """
import datetime as dt
from pathlib import Path
from replay.lake.silver import build_silver
t = time.perf_counter()
p = build_silver(Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]))
res = {'seconds': time.perf_counter() - t, 'bytes': p.stat().st_size}
"""

READ_FLOOR = """
import datetime as dt
from pathlib import Path
from replay.run.session import resolve_session
from replay.lake.reader import iter_depth, iter_trades, iter_option_trades
from replay.run.merge import merged_chunks
t = time.perf_counter()
inp = resolve_session(Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]))
trades = inp.trades_path or inp.depth_path
n = 0
for ch in merged_chunks(
    iter_depth(inp.depth_path, inp.primary_id),
    iter_trades(trades, inp.primary_id, inp.trades_from_depth),
    iter_option_trades(inp.options_path, inp.options) if inp.options_path else iter(()),
):
    n += len(ch)
res = {'events': n, 'seconds': time.perf_counter() - t}
"""

FULL_READ = """
import pyarrow.parquet as pq
from pathlib import Path
parts = sorted(Path(sys.argv[1], "bronze").glob(f"*/date={sys.argv[2]}/*.parquet"))
t = time.perf_counter()
rows = sum(pq.read_table(p, use_threads=True).num_rows for p in parts)
res = {'rows': rows, 'files': len(parts), 'seconds': time.perf_counter() - t}
"""

CUT = """
from pathlib import Path
import databento as db, zstandard
src, dst, minutes = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
dst.mkdir(parents=True, exist_ok=True)
starts = []
for p in sorted(src.glob("*.dbn.zst")):
    if ".definition." not in p.name:
        first = next(iter(db.DBNStore.from_file(p).to_ndarray(count=1)))
        starts.append(int(first["ts_recv"][0]))
cut = min(starts) + minutes * 60 * 10**9
for p in sorted(src.glob("*.dbn.zst")):
    store = db.DBNStore.from_file(p)
    cctx = zstandard.ZstdCompressor(level=1)
    with (dst / p.name).open("wb") as f, cctx.stream_writer(f) as w:
        w.write(store.metadata.encode())
        for a in store.to_ndarray(count=1 << 18):
            keep = a[a["ts_recv"] <= cut]
            w.write(keep.tobytes())
            if len(keep) < len(a) and ".definition." not in p.name:
                break
shutil_copy = __import__("shutil").copy
shutil_copy(src / "episodes.json", dst / "episodes.json")
res = {'cut_ns': cut}
"""

INGEST = """
from pathlib import Path
from replay.lake.ingest import ingest
t = time.perf_counter()
reps = ingest([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]))
res = {'records': sum(r.records_in for r in reps), 'seconds': time.perf_counter() - t,
       'rows': {k: sum(r.rows[k] for r in reps) for k in reps[0].rows}}
"""


def generate(out: Path, name: str, schema: str = "mbp-10") -> Path:
    d = out / (f"session-{name}" if schema == "mbp-10" else f"session-{name}-{schema}")
    stamp = d / ".complete"
    if stamp.exists():
        return d
    shutil.rmtree(d, ignore_errors=True)
    from replay.sample import generate_session

    t = time.perf_counter()
    generate_session(d, seed=11, schema=schema, **SIZES[name])
    (d / ".generated_seconds").write_text(f"{time.perf_counter() - t:.1f}\n")
    stamp.write_text("ok\n")
    return d


WARM = """
import datetime as dt, tempfile
from pathlib import Path
from engines.contract.config import EngineConfig
from replay.run.replay_job import ReplayJob, replay_session
from replay.lake.ingest import ingest
from replay.lake.silver import build_silver
t = time.perf_counter()
with tempfile.TemporaryDirectory(prefix="warm-") as tmp:
    lake = Path(tmp) / "lake"
    ingest(sorted(Path("data/sample").glob("*.dbn.zst")), lake)
    day = dt.date(2025, 11, 14)
    replay_session(ReplayJob(lake, day, Path(tmp) / "a", EngineConfig(), use_silver=False))
    build_silver(lake, day)
    replay_session(ReplayJob(lake, day, Path(tmp) / "b", EngineConfig()))
res = {'seconds': time.perf_counter() - t}
"""


def warm_jit() -> None:
    """Compile (or load) every numba kernel once, untimed: the cache is keyed by the code digest,
    so the first run after any edit compiles for ~40 s, which is not what a benchmark measures."""
    res = _child(WARM)
    print(f"JIT warm-up (embedded sample end to end): {res['seconds']:.1f} s", file=sys.stderr)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def first_hour(out: Path) -> Path:
    """The day session cut at its first 60 minutes (same bytes per record, zstd-1)."""
    d = out / "session-day-first-hour"
    if (d / ".complete").exists():
        return d
    shutil.rmtree(d, ignore_errors=True)
    _child(CUT, str(generate(out, "day")), str(d), "60")
    (d / ".complete").write_text("ok\n")
    return d


def bench_session(out: Path, name: str, determinism: bool) -> dict:
    d = first_hour(out) if name == "day-first-hour" else generate(out, name)
    files = sorted(p for p in d.glob("*.dbn.zst"))
    mbp = next(p for p in files if ".mbp-10." in p.name)
    decode = _child(DECODE, str(mbp))
    lake = out / f"lake-{name}"
    shutil.rmtree(lake, ignore_errors=True)
    ing_mbp = _child(INGEST, str(lake), str(mbp))
    shutil.rmtree(lake, ignore_errors=True)
    ing_all = _child(INGEST, str(lake), *map(str, files))
    date = json.loads((d / "episodes.json").read_text())[0]["trade_date"]
    floor = _child(READ_FLOOR, str(lake), date)
    full = _child(FULL_READ, str(lake), date)
    rep = _child(REPLAY, str(lake), date, str(out / f"gold-{name}"), "none", "bronze")
    silver = _child(SILVER, str(lake), date)
    rep_s = _child(REPLAY, str(lake), date, str(out / f"gold-{name}-silver"), "none", "silver")
    # the same Gold bytes; the manifest digest differs by design (Silver is listed as an input)
    assert rep_s["depth_source"] == "silver", rep_s
    assert rep_s["outputs_digest"] == rep["outputs_digest"], rep_s
    result = {
        "session": name,
        "files": {p.name: p.stat().st_size for p in files},
        "mbp10_records": decode["records"],
        "decode_s": decode["seconds"],
        "decode_rss_mb": decode["peak_rss_mb"],
        "ingest_mbp10_s": ing_mbp["seconds"],
        "ingest_mbp10_rss_mb": ing_mbp["peak_rss_mb"],
        "ingest_all_s": ing_all["seconds"],
        "ingest_all_records": ing_all["records"],
        "ingest_all_rss_mb": ing_all["peak_rss_mb"],
        "rows": ing_all["rows"],
        "read_floor_s": floor["seconds"],
        "read_floor_events": floor["events"],
        "read_floor_rss_mb": floor["peak_rss_mb"],
        "full_read_s": full["seconds"],
        "full_read_rows": full["rows"],
        "replay_s": rep["seconds"],
        "replay_events": rep["events"],
        "replay_snaps": rep["snaps"],
        "replay_rows": rep["rows"],
        "replay_rss_mb": rep["peak_rss_mb"],
        "replay_digest": rep["digest"],
        "replay_outputs_digest": rep["outputs_digest"],
        "silver_build_s": silver["seconds"],
        "silver_bytes": silver["bytes"],
        "replay_silver_s": rep_s["seconds"],
        "replay_silver_rss_mb": rep_s["peak_rss_mb"],
    }
    if determinism:
        rep2 = _child(REPLAY, str(lake), date, str(out / f"gold-{name}-chunked"), "65536", "bronze")
        result["replay_chunked_s"] = rep2["seconds"]
        result["replay_chunked_digest"] = rep2["digest"]
        result["digests_equal"] = rep2["digest"] == rep["digest"]  # same inputs: same digest
    return result


def bench_mbo(out: Path, name: str, mbp_digest: str | None) -> dict:
    """Ingest of the session's MBO equivalent (the same seed's orders) beside databento's decode
    of that file; then its Gold against the MBP-10 session's (``outputs_digest``)."""
    d = generate(out, name, schema="mbo")
    files = sorted(d.glob("*.dbn.zst"))
    mbo = next(p for p in files if ".mbo." in p.name)
    decode = _child(DECODE, str(mbo))
    lake = out / f"lake-{name}-mbo"
    shutil.rmtree(lake, ignore_errors=True)
    ing = _child(INGEST, str(lake), str(mbo))
    _child(INGEST, str(lake), *(str(p) for p in files if p != mbo))
    date = json.loads((d / "episodes.json").read_text())[0]["trade_date"]
    rep = _child(REPLAY, str(lake), date, str(out / f"gold-{name}-mbo"), "none", "bronze")
    return {
        "session": name,
        "mbo_records": decode["records"],
        "mbo_bytes": mbo.stat().st_size,
        "decode_s": decode["seconds"],
        "ingest_s": ing["seconds"],
        "ingest_rss_mb": ing["peak_rss_mb"],
        "depth_rows": ing["rows"]["futures_mbp10"],
        "trade_rows": ing["rows"]["futures_trades"],
        "gold_equal": None if mbp_digest is None else rep["outputs_digest"] == mbp_digest,
    }


def _mbo_table(m: dict) -> list[str]:
    n = m["mbo_records"]
    same = {None: "-", True: "**equal**", False: "DIFFERENT"}[m["gold_equal"]]
    return [
        "",
        f"MBO in (`levelreplay sample --schema mbo`, the {m['session']}'s orders, "
        f"{m['mbo_bytes'] / 1e6:.0f} MB): ingest rebuilds the book and writes the depth and "
        "trades rows.",
        "",
        "| session | MBO records | databento decode (`to_ndarray`) | ingest MBO file "
        "| ingest ÷ decode | rows written (depth / trades) | peak RSS ingest "
        "| Gold vs the MBP-10 session's |",
        "|---|---|---|---|---|---|---|---|",
        f"| {m['session']} | {n:,} | {m['decode_s']:.2f} s ({n / m['decode_s'] / 1e6:.2f} M/s) "
        f"| {m['ingest_s']:.2f} s ({n / m['ingest_s'] / 1e6:.2f} M/s) "
        f"| {m['ingest_s'] / m['decode_s']:.2f}× | {m['depth_rows']:,} / {m['trade_rows']:,} "
        f"| {m['ingest_rss_mb']:.0f} MB | {same} |",
    ]


def _full(r: dict, over: float | None = None) -> str:
    """The full-read cell, or ``over`` ÷ it (``-`` for a result recorded before it existed)."""
    if "full_read_s" not in r:
        return "-"
    return f"{r['full_read_s']:.2f} s" if over is None else f"{over / r['full_read_s']:.1f}"


def process_seconds(out: Path, tries: int = 3) -> dict:
    """A 30-minute session's whole ``levelreplay replay`` process, interpreter start to exit
    (imports, numba's cache load, session setup, replay, Gold and manifest fsynced)."""
    d = generate(out, "30m")
    lake = out / "lake-30m"
    shutil.rmtree(lake, ignore_errors=True)
    _child(INGEST, str(lake), *map(str, sorted(d.glob("*.dbn.zst"))))
    date = json.loads((d / "episodes.json").read_text())[0]["trade_date"]
    cli = Path(sys.executable).parent / "levelreplay"
    cmd = [str(cli), "replay", "--lake", str(lake), "--date", date]
    walls = []
    for _ in range(tries):
        t = time.perf_counter()
        subprocess.run(
            [*cmd, "--out", str(out / "gold-30m"), "--force"],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        walls.append(time.perf_counter() - t)
    return {"session": "30m", "tries": walls, "best_s": min(walls)}


def table(results: list[dict], mach: str, proc: dict | None = None, mbo: dict | None = None) -> str:
    lines = [
        f"Machine: {mach}. Command: `make bench` (`python scripts/bench.py`).",
        "",
        "| session | MBP-10 records | databento decode (`to_ndarray`) | ingest MBP-10 file | "
        "ingest ÷ decode | ingest all 4 files | peak RSS ingest (MBP-10 / all) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        n = r["mbp10_records"]
        lines.append(
            f"| {r['session']} | {n:,} | {r['decode_s']:.2f} s ({n / r['decode_s'] / 1e6:.2f} M/s)"
            f" | {r['ingest_mbp10_s']:.2f} s ({n / r['ingest_mbp10_s'] / 1e6:.2f} M/s)"
            f" | {r['ingest_mbp10_s'] / r['decode_s']:.2f}×"
            f" | {r['ingest_all_s']:.2f} s ({r['ingest_all_records']:,} records)"
            f" | {r['ingest_mbp10_rss_mb']:.0f} MB / {r['ingest_all_rss_mb']:.0f} MB |"
        )
    lines += [
        "",
        "| session | events replayed | snaps | Gold rows | read floor | full read | replay "
        "| replay ÷ floor | replay ÷ full read "
        "| events/s | Gold rows/s | peak RSS replay | digest, 2nd run (chunk 65 536) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        same = r.get("digests_equal")
        det = "-" if same is None else ("equal" if same else "DIFFERENT")
        lines.append(
            f"| {r['session']} | {r['replay_events']:,} | {r['replay_snaps']:,} | "
            f"{r['replay_rows']:,} | {r['read_floor_s']:.1f} s | {_full(r)} | "
            f"{r['replay_s']:.1f} s | {r['replay_s'] / r['read_floor_s']:.1f} | "
            f"{_full(r, r['replay_s'])} | "
            f"{r['replay_events'] / r['replay_s']:,.0f} | "
            f"{r['replay_rows'] / r['replay_s']:,.0f} | "
            f"{r['replay_rss_mb']:.0f} MB | {det} |"
        )
    lines += [
        "",
        "With the MBP-10 Silver mirror (`levelreplay silver`, built once per session; Gold bytes "
        "(`outputs_digest`) equal to the Bronze replay's, checked by the script):",
        "",
        "| session | Silver build | Silver size | replay from Silver | events/s | "
        "peak RSS replay |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['session']} | {r['silver_build_s']:.1f} s | {r['silver_bytes'] / 1e6:.0f} MB "
            f"| {r['replay_silver_s']:.1f} s | {r['replay_events'] / r['replay_silver_s']:,.0f} "
            f"| {r['replay_silver_rss_mb']:.0f} MB |"
        )
    by = {r["session"]: r for r in results}
    if "day" in by and "day-first-hour" in by:
        ratio = by["day"]["replay_rss_mb"] / by["day-first-hour"]["replay_rss_mb"]
        lines += ["", f"Replay peak RSS, full day ÷ its first hour: {ratio:.2f}."]
    if mbo:
        lines += _mbo_table(mbo)
    if proc:
        runs = " / ".join(f"{w:.2f}" for w in proc["tries"])
        lines += [
            "",
            f"A 30-minute session's whole `levelreplay replay` process (interpreter start to exit, "
            f"numba cache warm): {proc['best_s']:.2f} s best of {len(proc['tries'])} ({runs} s).",
        ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="hour,2h-i4,day-first-hour,day")
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    ap.add_argument(
        "--no-determinism", action="store_true", help="skip the second, chunked day replay"
    )
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    warm_jit()
    results = [
        bench_session(out, s, determinism=(s == "day" and not args.no_determinism))
        for s in args.sizes.split(",")
    ]
    proc = process_seconds(out)
    by = {r["session"]: r for r in results}
    mbo_size = "day" if "day" in by else results[-1]["session"]
    mbo = bench_mbo(out, mbo_size, by[mbo_size].get("replay_outputs_digest"))
    mach = machine()
    (out / "result.json").write_text(
        json.dumps({"machine": mach, "ingest": results, "process_30m": proc, "mbo": mbo}, indent=2)
    )
    text = table(results, mach, proc, mbo)
    print(text)
    bm = ROOT / "BENCHMARKS.md"
    doc = bm.read_text() if bm.exists() else f"# Benchmarks\n\n{MARK_BEGIN}\n{MARK_END}\n"
    if MARK_BEGIN in doc and MARK_END in doc:
        head, rest = doc.split(MARK_BEGIN, 1)
        _, tail = rest.split(MARK_END, 1)
        bm.write_text(f"{head}{MARK_BEGIN}\n{text}\n{MARK_END}{tail}")


if __name__ == "__main__":
    main()
