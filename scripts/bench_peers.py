"""`make bench-peers`: NautilusTrader's no-op BacktestEngine beside our replay, same data, same run.

NautilusTrader lives in its own venv (`.bench/nautilus-venv`, Python 3.12, exact version pinned
below; never a project dependency). It loads the session's definition, MBP-10 and trades DBN with
its Databento loader and replays the ES outright's OrderBookDepth10 + TradeTicks through a
strategy that subscribes to both and does nothing (`scripts/nautilus_noop.py`). Ours ingests the
same three files into a temporary lake and replays them with `replay.run.replay_job.replay_session`.
Every step runs in its own subprocess so each peak RSS is that step's alone. Results are merged
into `.bench/peers.json` (one entry per session/sample) and the table between the peers markers
in BENCHMARKS.md is regenerated from it.

    python scripts/bench_peers.py [--session DIR] [--max-events N] [--symbol ESZ5]

`--max-events N` feeds both engines the same first N records (MBP-10 and trades merged by
`ts_recv`), written as zstd DBN prefixes under `.bench/` — for a heavy day, whose 34 M events
NautilusTrader could not hold in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import zstandard
from bench import _child, machine, warm_jit

ROOT = Path(__file__).resolve().parent.parent
NAUTILUS_VERSION = "1.231.0"  # newest on the registry here; >= 1.222 needs Python 3.12
NAUTILUS_PYTHONS = ("3.12", "3.13")  # interpreters NAUTILUS_VERSION has wheels for, 3.12 first
NAUTILUS_SCRIPT = ROOT / "scripts" / "nautilus_noop.py"
MARK_BEGIN = "<!-- peers:begin -->"
MARK_END = "<!-- peers:end -->"
TS_RECV_OFFSET = 32  # MBP-10 and trades (MBP-0) records: 16-byte header, price, size, ..., ts_recv


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- NautilusTrader venv


def _version_of(python: str) -> str | None:
    """``major.minor`` of an interpreter that runs, else None (a pyenv shim of a version that is
    not selected exits non-zero)."""
    try:
        got = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return got.stdout.strip() if got.returncode == 0 else None


def find_nautilus_python(given: str | None) -> str:
    """An interpreter for the NautilusTrader venv: ``--python``, else ``$NAUTILUS_PYTHON``, else
    the first of ``python3.12``/``python3.13`` on PATH, pyenv's versions, ``uv python find``."""
    if given:
        return given
    if os.environ.get("NAUTILUS_PYTHON"):
        return os.environ["NAUTILUS_PYTHON"]
    candidates: list[str] = []
    for v in NAUTILUS_PYTHONS:
        candidates += [shutil.which(f"python{v}") or ""]
        root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
        candidates += [str(p / "bin" / "python") for p in sorted(root.glob(f"{v}.*"))]
        if shutil.which("uv"):
            found = subprocess.run(["uv", "python", "find", v], capture_output=True, text=True)
            candidates += [found.stdout.strip()] if found.returncode == 0 else []
    for c in candidates:
        if c and _version_of(c) in NAUTILUS_PYTHONS:
            return c
    sys.exit(
        "bench-peers: no Python " + " or ".join(NAUTILUS_PYTHONS) + " found for NautilusTrader "
        f"{NAUTILUS_VERSION} (it has no wheel for {sys.version_info[0]}.{sys.version_info[1]}). "
        "Install one (e.g. `pyenv install 3.12`, `uv python install 3.12` or the distribution's "
        "python3.12) or name it: make bench-peers NAUTILUS_PYTHON=/path/to/python3.12"
    )


def ensure_nautilus_venv(venv: Path, base_python: str) -> Path:
    """Create ``venv`` with ``nautilus_trader==NAUTILUS_VERSION`` unless it already has it."""
    py = venv / "bin" / "python"
    probe = "import nautilus_trader; print(nautilus_trader.__version__)"
    if py.exists():
        got = subprocess.run([py, "-c", probe], capture_output=True, text=True)
        if got.returncode == 0 and got.stdout.strip() == NAUTILUS_VERSION:
            return py
    log(f"setting up {venv} with nautilus_trader=={NAUTILUS_VERSION} ...")
    if not py.exists():
        subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         f"nautilus_trader=={NAUTILUS_VERSION}"],
        check=True,
    )  # fmt: skip
    return py


# --------------------------------------------------------------------------- session and sample


def ensure_session(d: Path) -> Path:
    if (d / ".complete").exists() or any(d.glob("*.mbp-10.dbn*")):
        return d
    log(f"generating {d} (seed 11, 60 minutes from 08:30) ...")
    from replay.sample import generate_session

    shutil.rmtree(d, ignore_errors=True)
    generate_session(d, seed=11, minutes=60, start="08:30")
    (d / ".complete").write_text("ok\n")
    return d


def session_files(d: Path) -> dict[str, Path]:
    out = {}
    for kind in ("definition", "mbp-10", "trades"):
        found = sorted(d.glob(f"*.{kind}.dbn.zst")) or sorted(d.glob(f"*.{kind}.dbn"))
        if len(found) != 1:
            sys.exit(f"{d}: expected one *.{kind}.dbn[.zst] file, found {len(found)}")
        out[kind] = found[0]
    return out


def _open_dbn(path: Path):
    raw = path.open("rb")
    return zstandard.ZstdDecompressor().stream_reader(raw) if path.suffix == ".zst" else raw


def _read_exact(f, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        b = f.read(n - got)
        if not b:
            break
        parts.append(b)
        got += len(b)
    return b"".join(parts)


def _header(f, src: Path) -> tuple[bytes, int, bytes]:
    """DBN metadata bytes, the record size (that of the first record) and that first record."""
    head = _read_exact(f, 8)
    if head[:3] != b"DBN":
        sys.exit(f"{src}: not a DBN stream")
    head += _read_exact(f, struct.unpack("<I", head[4:8])[0])
    first = _read_exact(f, 1)
    rsize = first[0] * 4
    return head, rsize, first + _read_exact(f, rsize - 1)


def _scan_ts(src: Path, limit: int) -> np.ndarray:
    """ts_recv of the first ``limit`` records (all of one size: true of MBP-10 and trades)."""
    with _open_dbn(src) as f:
        _, rsize, buf = _header(f, src)
        ts, n = [], 0
        while n < limit:
            buf += _read_exact(f, min(1 << 16, limit - n) * rsize - len(buf))
            k = len(buf) // rsize
            if k == 0:
                break
            recs = np.frombuffer(buf, np.uint8, k * rsize).reshape(k, rsize)
            if (recs[:, 0] != rsize // 4).any():
                sys.exit(f"{src}: records of mixed sizes; cannot cut a prefix")
            ts.append(recs[:, TS_RECV_OFFSET : TS_RECV_OFFSET + 8].copy().view("<u8").ravel())
            n += k
            buf = buf[k * rsize :]
    return np.concatenate(ts) if ts else np.zeros(0, "<u8")


def _write_prefix(src: Path, dst: Path, n_records: int) -> None:
    """``src``'s metadata and first ``n_records`` records as a zstd DBN file ``dst``."""
    cctx = zstandard.ZstdCompressor(level=1, threads=-1)
    with _open_dbn(src) as f, dst.open("wb") as raw, cctx.stream_writer(raw) as out:
        head, rsize, first = _header(f, src)
        out.write(head)
        left = n_records * rsize
        buf = first[:left]
        while buf:
            out.write(buf)
            left -= len(buf)
            buf = _read_exact(f, min(left, 1 << 24)) if left else b""


def make_sample(files: dict[str, Path], n_events: int, out: Path) -> dict[str, Path]:
    """First ``n_events`` of MBP-10 + trades merged by ts_recv, as DBN prefixes in ``out``."""
    sig = {k: [p.name, p.stat().st_size] for k, p in files.items()} | {"events": n_events}
    stamp = out / ".complete"
    res = {k: out / p.name for k, p in files.items()}
    if stamp.exists() and json.loads(stamp.read_text()) == sig:
        return res
    log(f"cutting the first {n_events:,} events of {files['mbp-10'].parent} into {out} ...")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if any(p.suffix != ".zst" for p in files.values()):
        sys.exit("--max-events needs the session's .dbn.zst files")
    shutil.copyfile(files["definition"], res["definition"])
    ts = {kind: _scan_ts(files[kind], n_events) for kind in ("mbp-10", "trades")}
    src = np.repeat([0, 1], [len(ts["mbp-10"]), len(ts["trades"])])
    order = np.argsort(np.concatenate([ts["mbp-10"], ts["trades"]]), kind="stable")
    first = src[order[:n_events]]
    _write_prefix(files["mbp-10"], res["mbp-10"], int((first == 0).sum()))
    _write_prefix(files["trades"], res["trades"], int((first == 1).sum()))
    stamp.write_text(json.dumps(sig))
    return res


# --------------------------------------------------------------------------- the two engines


def run_nautilus(py: Path, files: dict[str, Path], symbol: str) -> dict:
    cmd = [py, NAUTILUS_SCRIPT, files["definition"], files["mbp-10"], files["trades"]]
    cmd += ["--symbol", symbol]
    log(f"NautilusTrader {NAUTILUS_VERSION}: {' '.join(map(str, cmd))}")
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"nautilus run failed ({out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


INGEST = """
from pathlib import Path
from replay.lake.ingest import ingest
t = time.perf_counter()
reps = ingest([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]))
res = {'seconds': time.perf_counter() - t,
       'rows': {k: sum(r.rows[k] for r in reps) for k in reps[0].rows}}
"""

REPLAY = """
import datetime as dt
from pathlib import Path
from engines.contract.config import EngineConfig
from replay.run.replay_job import ReplayJob, replay_session
t = time.perf_counter()
job = ReplayJob(Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), Path(sys.argv[3]),
                EngineConfig(), force=True, symbol=sys.argv[4], use_silver=sys.argv[5] == "silver")
r = replay_session(job)
res = {'seconds': time.perf_counter() - t, 'events': sum(r.events.values()),
       'loop_seconds': r.loop_seconds,
       'by_table': dict(r.events), 'snaps': r.snaps, 'rows': r.rows, 'digest': r.digest,
       'outputs_digest': r.outputs_digest,
       'depth_source': json.loads(r.manifest.read_text())['run']['depth_source']}
"""

SILVER = """
import datetime as dt
from pathlib import Path
from replay.lake.silver import build_silver
t = time.perf_counter()
build_silver(Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]))
res = {'seconds': time.perf_counter() - t}
"""


def run_ours(files: dict[str, Path], date: str, symbol: str, scratch: Path) -> dict:
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="peers-") as tmp:
        lake, gold = Path(tmp) / "lake", Path(tmp) / "gold"
        log(f"levelreplay: ingest {len(files)} files into {lake}, replay {date}")
        paths = [str(files[k]) for k in ("definition", "mbp-10", "trades")]
        ing = _child(INGEST, str(lake), *paths)
        rep = _child(REPLAY, str(lake), date, str(gold), symbol, "bronze")
        sil = _child(SILVER, str(lake), date)
        rep_s = _child(REPLAY, str(lake), date, str(gold) + "-silver", symbol, "silver")
        # the same Gold bytes; the manifest digest differs by design (Silver is listed as an input)
        assert rep_s["depth_source"] == "silver", rep_s
        assert rep_s["outputs_digest"] == rep["outputs_digest"], rep_s
    return {
        "engine": "levelreplay",
        "events": rep["events"],
        "by_table": rep["by_table"],
        "snaps": rep["snaps"],
        "rows": rep["rows"],
        "ingest_s": ing["seconds"],
        "ingest_rows": ing["rows"],
        "ingest_rss_mb": ing["peak_rss_mb"],
        **_timing(rep, ""),
        "silver_build_s": sil["seconds"],
        **_timing(rep_s, "silver_"),
    }


def _timing(rep: dict, prefix: str) -> dict:
    """Whole-replay and event-loop seconds and rates of one replay child."""
    return {
        f"{prefix}run_s": rep["seconds"],
        f"{prefix}events_per_s": rep["events"] / rep["seconds"],
        f"{prefix}loop_s": rep["loop_seconds"],
        f"{prefix}loop_events_per_s": rep["events"] / rep["loop_seconds"],
        f"{prefix}peak_rss_mb": rep["peak_rss_mb"],
    }


# --------------------------------------------------------------------------- report


def _ours_row(e: dict, name: str, load: str, run: float, loop: float, rss: float) -> str:
    us = e["ours"]
    return (
        f"| {e['label']} | {name} | {us['events']:,} | {load} | {run:.2f} s / {loop:.2f} s | "
        f"{us['events'] / run:,.0f} / {us['events'] / loop:,.0f} | {rss:,.0f} MB |"
    )


def table(entries: list[dict], mach: str) -> str:
    lines = [
        f"Machine: {mach}. NautilusTrader {NAUTILUS_VERSION} on Python 3.12 in "
        "`.bench/nautilus-venv`. Command: `make bench-peers` "
        "(`python scripts/bench_peers.py [--session DIR] [--max-events N]`). Ours: run = whole "
        "`replay_session` / its event loop (first chunk read → Gold committed; without session "
        "resolution and numba's once-per-process start-up), like NautilusTrader's `engine.run()`.",
        "",
        "| data | engine | events | load | run | events/s | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        nt, us = e["nautilus"], e["ours"]
        lines.append(
            f"| {e['label']} | NautilusTrader (no-op strategy) | {nt['events']:,} | "
            f"{nt['load_s']:.1f} s | {nt['run_s']:.1f} s | {nt['events_per_s']:,.0f} | "
            f"{nt['peak_rss_mb']:,.0f} MB |"
        )
        if "loop_s" not in us:  # a run recorded before the event-loop split
            continue
        lines.append(
            _ours_row(e, "levelreplay, MBP-10 from Bronze", f"{us['ingest_s']:.1f} s (ingest)",
                      us["run_s"], us["loop_s"], us["peak_rss_mb"])
        )  # fmt: skip
        lines.append(
            _ours_row(e, "levelreplay, MBP-10 from Silver",
                      f"{us['ingest_s'] + us['silver_build_s']:.1f} s (ingest + silver)",
                      us["silver_run_s"], us["silver_loop_s"], us["silver_peak_rss_mb"])
        )  # fmt: skip
    lines += [
        "",
        "| data | our events/s ÷ theirs, Bronze: whole / loop | Silver: whole / loop "
        "| our peak RSS ÷ theirs (target ≤ 0.20) |",
        "|---|---|---|---|",
    ]
    for e in entries:
        us, nt = e["ours"], e["nautilus"]
        if "loop_s" not in us:
            continue
        x = nt["events_per_s"]
        lines.append(
            f"| {e['label']} | {us['events_per_s'] / x:.1f}× / {us['loop_events_per_s'] / x:.1f}× "
            f"| {us['silver_events_per_s'] / x:.1f}× / {us['silver_loop_events_per_s'] / x:.1f}× "
            f"| {e['rss_ratio']:.2f} |"
        )
    return "\n".join(lines)


def write_doc(text: str) -> None:
    bm = ROOT / "BENCHMARKS.md"
    if not bm.exists():
        return
    doc = bm.read_text()
    if MARK_BEGIN in doc and MARK_END in doc:
        head, rest = doc.split(MARK_BEGIN, 1)
        _, tail = rest.split(MARK_END, 1)
        bm.write_text(f"{head}{MARK_BEGIN}\n{text}\n{MARK_END}{tail}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--session", default=str(ROOT / ".bench" / "session-hour"))
    ap.add_argument("--max-events", type=int, default=None, help="cap both engines' input")
    ap.add_argument("--symbol", default="ESZ5", help="the ES outright replayed")
    ap.add_argument("--out", default=str(ROOT / ".bench"))
    ap.add_argument(
        "--python", default=None, help="Python 3.12/3.13 for the nautilus venv (found if not given)"
    )
    ap.add_argument("--skip-ours", action="store_true", help="only run NautilusTrader")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    py = ensure_nautilus_venv(out / "nautilus-venv", find_nautilus_python(args.python))
    session = ensure_session(Path(args.session))
    files = session_files(session)
    label = session.name.removeprefix("session-")
    if args.max_events:
        files = make_sample(files, args.max_events, out / f"peers-sample-{label}-{args.max_events}")
        label = f"{label}, first {args.max_events:,} events"
    date = json.loads((session / "episodes.json").read_text())[0]["trade_date"]

    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    nt = run_nautilus(py, files, args.symbol)
    log(f"  {nt['events']:,} events in {nt['run_s']:.1f} s, peak RSS {nt['peak_rss_mb']:,.0f} MB")
    entry = {"label": label, "session": str(session), "max_events": args.max_events,
             "files": {k: p.name for k, p in files.items()}, "nautilus": nt}  # fmt: skip
    if args.skip_ours:
        print(json.dumps(entry, indent=2))
        return
    warm_jit()
    us = run_ours(files, date, args.symbol, out)
    log(f"  {us['events']:,} events in {us['run_s']:.1f} s, peak RSS {us['peak_rss_mb']:,.0f} MB")
    entry |= {
        "ours": us,
        "speed_ratio": us["events_per_s"] / nt["events_per_s"],
        "rss_ratio": us["peak_rss_mb"] / nt["peak_rss_mb"],
        "wall_s": time.perf_counter() - t0,
        "loadavg_1m": [load_before, os.getloadavg()[0]],  # other work on the machine skews both
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }

    store = out / "peers.json"
    data = json.loads(store.read_text()) if store.exists() else {}
    mach = machine()
    entries = [e for e in data.get("runs", []) if e["label"] != label] + [entry]
    entries.sort(key=lambda e: (e["max_events"] is not None, e["label"]))
    store.write_text(json.dumps({"machine": mach, "runs": entries}, indent=2))
    text = table(entries, mach)
    print(text)
    write_doc(text)


if __name__ == "__main__":
    main()
