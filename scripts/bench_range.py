"""`make bench` (many sessions): a 5-session lake replayed serially, on a local process pool
(`--workers 2`) and on a Dask LocalCluster (2 worker processes), through the CLI as a user runs it.

Reports wall time, sessions/min, scaling efficiency (serial wall ÷ (workers × parallel wall)),
Dask's overhead per task (against the process pool, and a no-op task's round trip on the same
cluster) and peak RSS, checks the three runs are identical (Gold bytes and the manifests'
deterministic parts), and rewrites the table between the range markers in BENCHMARKS.md.

    python scripts/bench_range.py [--out .bench] [--minutes 390] [--intensity 4.0] [--days 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench import machine, warm_jit  # noqa: E402

MARK_BEGIN = "<!-- bench-range:begin -->"
MARK_END = "<!-- bench-range:end -->"
CLI = [str(Path(sys.executable).parent / "levelreplay")]


def build_lake(out: Path, days: int, minutes: int, intensity: float) -> tuple[Path, list[str]]:
    """Generate (cached) and ingest the sessions; returns the lake and its trade dates."""
    tag = f"range-{days}x{minutes}m-i{intensity:g}"
    src, lake = out / f"session-{tag}", out / f"lake-{tag}"
    if not (src / ".complete").exists():
        shutil.rmtree(src, ignore_errors=True)
        from replay.sample import generate_session

        generate_session(src, seed=11, minutes=minutes, intensity=intensity, days=days)
        (src / ".complete").write_text("ok\n")
    dates = sorted({e["trade_date"] for e in json.loads((src / "episodes.json").read_text())})
    if not (lake / ".complete").exists():
        shutil.rmtree(lake, ignore_errors=True)
        files = sorted(str(p) for p in src.glob("*.dbn.zst"))
        subprocess.run(
            [*CLI, "ingest", *files, "--lake", str(lake)], check=True, cwd=ROOT, capture_output=True
        )
        (lake / ".complete").write_text("ok\n")
    return lake, dates


MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "wall = time.perf_counter() - t\n"
    "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'rc': p.returncode, 'wall_s': wall, 'cpu_s': r.ru_utime + r.ru_stime,\n"
    "                  'rss_mb': r.ru_maxrss / 1024, 'out': p.stdout, 'err': p.stderr[-3000:]}))\n"
)
"""A fresh parent per run, so its children's resource usage (the CLI and the pool workers it
waits for) is that run's alone."""


def timed_replay(lake: Path, dates: list[str], out: Path, *extra: str) -> dict:
    """One `levelreplay replay` range: wall and CPU time, the largest process's peak RSS."""
    shutil.rmtree(out, ignore_errors=True)
    args = ["replay", "--lake", str(lake), "--date", dates[0], "--end-date", dates[-1]]
    cmd = [sys.executable, "-c", MEASURE, *CLI, *args, "--out", str(out), *extra]
    res = json.loads(subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True).stdout)
    if res["rc"] != 0:
        sys.exit(f"replay {' '.join(extra)} failed:\n{res['out']}\n{res['err']}")
    summary = json.loads((out / "gold/_runs/replay-summary.json").read_text())
    sessions = [s for s in summary["sessions"] if s["status"] == "ok"]
    return {
        "wall_s": res["wall_s"],
        "cpu_s": res["cpu_s"],
        "sessions": len(sessions),
        "session_s": sum(s["seconds"] for s in sessions),
        "events": sum(s["events"] for s in sessions),
        "peak_rss_mb": res["rss_mb"],
    }


def noop_roundtrip(address: str, n: int = 200) -> float:
    """Mean seconds for one trivial task submitted and gathered on the cluster, one at a time."""
    from distributed import Client

    with Client(address) as client:
        client.submit(int, 0, pure=False).result()  # connections warm
        t = time.perf_counter()
        for i in range(n):
            client.submit(int, i, pure=False).result()
        return (time.perf_counter() - t) / n


def worker_rss_mb(address: str) -> float:
    from distributed import Client

    def peak() -> float:
        import resource as r

        return r.getrusage(r.RUSAGE_SELF).ru_maxrss / 1024

    with Client(address) as client:
        return max(client.run(peak).values())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--minutes", type=int, default=390)
    ap.add_argument("--intensity", type=float, default=4.0)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lake, dates = build_lake(out, args.days, args.minutes, args.intensity)
    warm_jit()
    runs = {"serial": timed_replay(lake, dates, out / "range-serial")}
    runs["workers 2"] = timed_replay(lake, dates, out / "range-pool", "--workers", "2")
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        addr = cluster.scheduler_address
        runs["Dask LocalCluster (2 workers)"] = timed_replay(
            lake, dates, out / "range-dask", "--scheduler", addr
        )
        runs["Dask LocalCluster (2 workers)"]["peak_rss_mb"] = worker_rss_mb(addr)
        noop = noop_roundtrip(addr)
    from replay.gold.verify import compare

    identical = not compare(out / "range-serial", out / "range-pool") and not compare(
        out / "range-serial", out / "range-dask"
    )
    text = table(runs, dates, noop, identical, args)
    print(text)
    (out / "range-result.json").write_text(
        json.dumps(
            {"runs": runs, "noop_task_s": noop, "identical": identical, "dates": dates}, indent=2
        )
    )
    bm = ROOT / "BENCHMARKS.md"
    doc = bm.read_text()
    if MARK_BEGIN in doc and MARK_END in doc:
        head, rest = doc.split(MARK_BEGIN, 1)
        _, tail = rest.split(MARK_END, 1)
        bm.write_text(f"{head}{MARK_BEGIN}\n{text}\n{MARK_END}{tail}")


def table(
    runs: dict, dates: list[str], noop: float, identical: bool, args: argparse.Namespace
) -> str:
    serial = runs["serial"]
    pool = runs["workers 2"]
    dask = runs["Dask LocalCluster (2 workers)"]
    n = serial["sessions"]
    lines = [
        f"Machine: {machine()}. Command: `make bench` (`python scripts/bench_range.py`).",
        f"Lake: {n} sessions ({dates[0]} … {dates[-1]}), each {args.minutes} min at intensity "
        f"{args.intensity:g}: {serial['events']:,} events in all; a session alone replays in "
        f"{serial['session_s'] / n:.1f} s on average (serial run).",
        "",
        "| executor | wall | sessions/min | events/s | scaling efficiency | CPU busy (user+sys "
        "÷ wall, of 2 cores) | peak RSS (largest process) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in runs.items():
        workers = 1 if name == "serial" else 2
        eff = serial["wall_s"] / (workers * r["wall_s"])
        # Dask workers are the script's LocalCluster, not children of the CLI: not counted
        cpu = "-" if name.startswith("Dask") else f"{r['cpu_s'] / r['wall_s']:.2f}"
        lines.append(
            f"| {name} | {r['wall_s']:.1f} s | {60 * r['sessions'] / r['wall_s']:.1f} | "
            f"{r['events'] / r['wall_s']:,.0f} | {eff:.2f} | {cpu} | {r['peak_rss_mb']:.0f} MB |"
        )
    over = (dask["wall_s"] - pool["wall_s"]) / n
    lines += [
        "",
        f"Dask's overhead per task: {over:+.2f} s against the process pool (wall difference ÷ "
        f"{n} tasks; includes connecting the client and the worker identity check), and "
        f"{noop * 1e3:.1f} ms for a no-op task's submit-and-gather round trip on the same "
        f"cluster. Gold bytes and the manifests' deterministic parts of the three runs: "
        f"{'identical' if identical else 'DIFFERENT'}.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
