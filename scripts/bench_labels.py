"""Labelling cost against the replay of the same sessions (issue 14, SPEC §10.1).

For each lake: ``levelreplay replay`` of its sessions, then ``levelreplay label`` of that Gold,
each in its own process with the numba cache warm (both kernels run once on the sample lake
first), and the ratio label / replay. Peak RSS is each process's own ``ru_maxrss`` (``os.wait4``).

    python scripts/bench_labels.py            # after `make bench` (the heavy day) and
                                               # scripts/bench_range.py (the 5-day lake)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / ".bench"
CLI = [sys.executable, "-m", "replay.cli"]
CASES = [
    ("heavy day (34 M events)", BENCH / "lake-day", "2025-11-14", None),
    ("5 generated sessions × 390 min", BENCH / "lake-range-5x390m-i4", "2025-11-14", "2025-11-20"),
]


def timed(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one CLI process."""
    t0 = time.perf_counter()
    p = subprocess.Popen([*CLI, *args], cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(args)}")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024


def warm() -> None:
    """Compile (or load) both kernels on the small sample lake, untimed."""
    lake, out = BENCH / "lake-sample", BENCH / "labels-warm"
    if not lake.is_dir():
        timed(
            [
                "ingest",
                *map(str, sorted((ROOT / "data" / "sample").glob("*.dbn.zst"))),
                "--lake",
                str(lake),
            ]
        )
    shutil.rmtree(out, ignore_errors=True)
    timed(["replay", "--lake", str(lake), "--date", "2025-11-14", "--out", str(out)])
    timed(["label", "--lake", str(lake), "--gold", str(out), "--date", "2025-11-14"])


def main() -> None:
    warm()
    results = []
    for name, lake, first, last in CASES:
        if not lake.is_dir():
            print(f"skip {name}: {lake} missing", file=sys.stderr)
            continue
        out = BENCH / f"labels-{lake.name}"
        shutil.rmtree(out, ignore_errors=True)
        span = ["--date", first] + (["--end-date", last] if last else [])
        rep_s, rep_mb = timed(["replay", "--lake", str(lake), *span, "--out", str(out)])
        label = ["label", "--lake", str(lake), "--gold", str(out), *span, "--force"]
        lab_s, lab_mb = timed(label)
        rows = sum(
            json.loads(m.read_text())["deterministic"]["rows"]
            for m in (out / "gold/_manifests/level_outcomes").glob("date=*.json")
        )
        r = {
            "case": name,
            "replay_s": round(rep_s, 2),
            "replay_rss_mb": round(rep_mb),
            "label_s": round(lab_s, 2),
            "label_rss_mb": round(lab_mb),
            "label_rows": rows,
            "ratio": round(lab_s / rep_s, 3),
        }
        print(json.dumps(r), flush=True)
        results.append(r)
    (BENCH / "labels-result.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
