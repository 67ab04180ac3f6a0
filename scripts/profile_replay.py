"""Where a replay's CPU goes, per thread and per numba kernel, with Linux ``perf``.

numba's cached kernels are loaded as object code without symbols, so ``perf`` sees them as
anonymous memory. This script replays one session in-process with a fresh numba cache directory
(every kernel compiled in this process, so its functions' addresses are known), then replays it
again — the profiled run — and writes ``/tmp/perf-<pid>.map``, which ``perf script`` reads to
name the kernels, and ``/tmp/perf-<pid>.window``, the second run's CLOCK_MONOTONIC span: the
report counts only samples inside it (the compile is left out).

    perf record -e cpu-clock -F 999 -k CLOCK_MONOTONIC -o /tmp/replay.perf -- \\
        .venv/bin/python scripts/profile_replay.py run --lake .bench/lake-day --date 2025-11-14
    .venv/bin/python scripts/profile_replay.py report /tmp/replay.perf

Timings of the profiled run are not benchmark figures (the compile and perf itself slow it).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _perf_map() -> int:
    """Write /tmp/perf-<pid>.map for every compiled overload of every numba dispatcher of the
    project's modules (sizes run to the next known start); returns the number of entries."""
    from numba.core.registry import CPUDispatcher

    entries: set[tuple[int, str]] = set()
    for name, mod in list(sys.modules.items()):
        if not name.startswith(("engines", "replay")):
            continue
        for v in list(vars(mod).values()):
            if not isinstance(v, CPUDispatcher):
                continue
            for cres in v.overloads.values():
                lib = cres.library
                for fn in lib.get_defined_functions():
                    try:
                        addr = lib.get_pointer_to_function(fn.name)
                    except Exception:  # declared in this module, defined in another
                        continue
                    if addr:
                        entries.add((addr, fn.name))
    ordered = sorted(entries)
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as fh:
        for i, (addr, fn) in enumerate(ordered):
            size = ordered[i + 1][0] - addr if i + 1 < len(ordered) else 4096
            fh.write(f"{addr:x} {min(size, 1 << 20):x} {fn}\n")
    return len(ordered)


def run(lake: Path, date: dt.date, silver: bool) -> None:
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-fresh-")
    from engines.contract.config import EngineConfig
    from replay.run.replay_job import ReplayJob, replay_session

    outs = [Path(tempfile.mkdtemp(prefix="profile-out-")) for _ in range(2)]
    replay_session(ReplayJob(lake, date, outs[0], EngineConfig(), use_silver=silver))  # compile
    t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
    r = replay_session(ReplayJob(lake, date, outs[1], EngineConfig(), use_silver=silver))
    t1 = time.clock_gettime(time.CLOCK_MONOTONIC)
    Path(f"/tmp/perf-{os.getpid()}.window").write_text(f"{t0} {t1}\n")
    n = _perf_map()
    print(
        f"{r.snaps} snaps, {sum(r.events.values())} events, outputs_digest {r.outputs_digest}; "
        f"perf map: {n} functions",
        file=sys.stderr,
    )


_HEAD = re.compile(r"^\s*\d+/\d+\s+[\d.]+:")
_MANGLED = re.compile(r"_ZN\d+(\w+?)\d+(\w+?)\d+(\w+?)B\d")


def _short(sym: str) -> str:
    m = _MANGLED.search(sym)
    return f"{m[1]}.{m[2]}.{m[3]}" if m else sym.split("(")[0][:70]


def report(data: Path, hz: int) -> None:
    """Seconds per thread (named by its heaviest function) and per function, from the samples
    inside the profiled run's window."""
    text = subprocess.run(
        ["perf", "script", "-i", str(data), "-F", "pid,tid,time,ip,sym,dso"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    per_thread: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    windows: dict[str, tuple[float, float]] = {}

    def count(stamp: str, frame: str) -> None:
        pid_tid, when = stamp.split()[0], stamp.split()[-1]
        pid, tid = pid_tid.split("/")[0], pid_tid.split("/")[-1]
        if pid not in windows:
            w = Path(f"/tmp/perf-{pid}.window")
            span = w.read_text().split() if w.exists() else ["0", "0"]
            windows[pid] = (float(span[0]), float(span[1]))
        lo, hi = windows[pid]
        if lo <= float(when) <= hi:
            leaf = frame.split(None, 1)[1] if len(frame.split()) > 1 else "?"
            per_thread[tid]["[kernel]" if "kernel.kallsyms" in leaf else _short(leaf)] += 1

    stamp: str | None = None  # with -g the leaf frame is the next, indented, line
    for line in text.splitlines():
        if not line.strip():
            continue
        if _HEAD.match(line):  # "pid/tid time: ..." (pids are right-aligned)
            head, _, rest = line.strip().partition(": ")
            stamp = None
            if rest.strip():
                count(head, rest.strip())
            else:
                stamp = head
        elif stamp is not None:
            count(stamp, line.strip())
            stamp = None
    total = sum(sum(c.values()) for c in per_thread.values()) / hz
    print(f"CPU seconds in the profiled run: {total:.2f}\n")
    print("| thread (its heaviest function) | seconds | top functions (seconds) |\n|---|---|---|")
    for t, c in sorted(per_thread.items(), key=lambda kv: -sum(kv[1].values())):
        secs = sum(c.values()) / hz
        if secs < 0.1:
            continue
        tops = ", ".join(f"{f} {n / hz:.2f}" for f, n in c.most_common(8))
        print(f"| {t} ({c.most_common(1)[0][0]}) | {secs:.2f} | {tops} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="replay one session, then write the perf map")
    r.add_argument("--lake", type=Path, required=True)
    r.add_argument("--date", type=dt.date.fromisoformat, required=True)
    r.add_argument("--no-silver", action="store_true")
    p = sub.add_parser("report", help="seconds per thread and per function")
    p.add_argument("data", type=Path)
    p.add_argument("--hz", type=int, default=999, help="the -F given to perf record")
    args = ap.parse_args()
    if args.cmd == "run":
        run(args.lake, args.date, not args.no_silver)
    else:
        report(args.data, args.hz)


if __name__ == "__main__":
    main()
