"""Live mode benchmark (issue 13): latency and throughput of ``live`` against a real nats-server.

- **busiest hour, --speed 0**: the heavy day's busiest hour of MBP-10 records (cut from
  ``.bench/lake-day``, which ``make bench`` builds) is published in full, then ``live`` consumes it
  alone: how many times real time it is consumed, and the latency per closing message. Gold is
  compared byte for byte with offline replay of the same lake.
- **sample, --speed 1** (``--speed1``, 30 minutes of wall time): the embedded sample published in
  real time while ``live`` runs: the latency a live user sees.

Latency is from the moment ``live`` takes the message that closes a snap from its subscription to
the moment the last ``levels.signals`` of that message is handed to the NATS client. Every step
runs in its own process; results go to ``.bench/live-result.json`` and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench import machine, warm_jit  # noqa: E402

from replay.common.hashing import sha256_file  # noqa: E402
from replay.lake.layout import parquet_writer  # noqa: E402
from replay.lake.partition_digest import record  # noqa: E402
from replay.lake.schemas import TABLES  # noqa: E402
from replay.live.local_server import LocalNatsServer  # noqa: E402

BENCH = ROOT / ".bench"
DATE = "2025-11-14"
HOUR_NS = 3600 * 10**9


def busiest_hour_lake(day: Path, out: Path) -> tuple[Path, int]:
    """A lake holding the day's busiest clock hour of MBP-10 records (all tables cut to it;
    definitions whole), with digests as ingest leaves them."""
    part = day / "bronze" / "futures_mbp10" / f"date={DATE}" / "part-00000.parquet"
    ts = pq.read_table(part, columns=["ts_recv"]).column(0).to_numpy()
    hours = ts // HOUR_NS
    best = int(max(set(hours.tolist()), key=lambda h: (int((hours == h).sum()), -h)))
    h0 = best * HOUR_NS
    if (out / "bronze").is_dir():
        return out, h0
    for table in TABLES:
        src = day / "bronze" / table / f"date={DATE}" / "part-00000.parquet"
        if not src.is_file():
            continue
        dst = out / "bronze" / table / f"date={DATE}" / "part-00000.parquet"
        dst.parent.mkdir(parents=True, exist_ok=True)
        writer = parquet_writer(dst, table)
        for b in pq.ParquetFile(src).iter_batches(batch_size=1 << 18):
            if table != "definitions":
                t = b.column("ts_recv")
                b = b.filter(pc.and_(pc.greater_equal(t, h0), pc.less(t, h0 + HOUR_NS)))
            if b.num_rows:
                writer.write_batch(b)
        writer.close()
        record(dst, sha256_file(dst))
    return out, h0


def _run(cmd: list[str | Path]) -> float:
    t = time.perf_counter()
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def cli(*args: str | Path) -> list[str | Path]:
    return [sys.executable, "-m", "replay.cli", *args]


def busiest_hour() -> dict:
    day = BENCH / "lake-day"
    if not day.is_dir():
        sys.exit("no .bench/lake-day: run `make bench` first (it builds the heavy day)")
    lake, h0 = busiest_hour_lake(day, BENCH / "lake-day-busiest-hour")
    rows = pq.ParquetFile(lake / "bronze/futures_mbp10" / f"date={DATE}/part-00000.parquet")
    offline = BENCH / "gold-busiest-hour"
    shutil.rmtree(offline, ignore_errors=True)
    replay_s = _run(cli("replay", "--lake", lake, "--date", DATE, "--out", offline))
    out = BENCH / "live-busiest-hour"
    shutil.rmtree(out, ignore_errors=True)
    stats = BENCH / "live-busiest-hour.json"
    with LocalNatsServer(BENCH / "nats-busiest-hour") as srv:
        publish_s = _run(cli("publish", "--lake", lake, "--date", DATE, "--nats", srv.url))
        live_s = _run(cli("live", "--nats", srv.url, "--out", out, "--stats", stats))
    shutil.rmtree(BENCH / "nats-busiest-hour", ignore_errors=True)
    gold = f"gold/levels_signals/date={DATE}/part-00000.parquet"
    same = (offline / gold).read_bytes() == (out / gold).read_bytes()
    fig = json.loads(stats.read_text())
    return {
        "session": "busiest hour of the heavy day",
        "hour_utc_start_ns": h0,
        "mbp10_records": rows.metadata.num_rows,
        "speed": 0,
        "offline_replay_s": round(replay_s, 2),
        "publish_s": round(publish_s, 2),
        "live_s": round(live_s, 2),
        "gold_identical": same,
        **fig,
    }


def sample_speed1() -> dict:
    lake = BENCH / "lake-sample"
    if not lake.is_dir():
        _run(cli("ingest", *sorted((ROOT / "data" / "sample").glob("*.dbn.zst")), "--lake", lake))
    offline = BENCH / "gold-sample"
    shutil.rmtree(offline, ignore_errors=True)
    _run(cli("replay", "--lake", lake, "--date", DATE, "--out", offline))
    out = BENCH / "live-sample"
    shutil.rmtree(out, ignore_errors=True)
    stats = BENCH / "live-sample.json"
    with LocalNatsServer(BENCH / "nats-sample") as srv:
        live = subprocess.Popen(
            [str(c) for c in cli("live", "--nats", srv.url, "--out", out, "--stats", stats)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        _run(cli("publish", "--lake", lake, "--date", DATE, "--nats", srv.url, "--speed", "1"))
        live.wait()
    shutil.rmtree(BENCH / "nats-sample", ignore_errors=True)
    gold = f"gold/levels_signals/date={DATE}/part-00000.parquet"
    same = (offline / gold).read_bytes() == (out / gold).read_bytes()
    return {"session": "embedded sample", "speed": 1, "gold_identical": same,
            **json.loads(stats.read_text())}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--speed1", action="store_true", help="also the 30-minute real-time run")
    ap.add_argument("--only-speed1", action="store_true", help="only the real-time run")
    args = ap.parse_args()
    warm_jit()
    results = []
    if not args.only_speed1:
        results.append(busiest_hour())
    if args.speed1 or args.only_speed1:
        results.append(sample_speed1())
    doc = {"machine": machine(), "results": results}
    path = BENCH / ("live-result-speed1.json" if args.only_speed1 else "live-result.json")
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"Machine: {doc['machine']}")
    print("| session | speed | p50 | p99 | p99.9 | max | snaps | × real time | Gold = offline |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['session']} | {r['speed']} | {r.get('p50_ms')} ms | {r.get('p99_ms')} ms | "
            f"{r.get('p999_ms')} ms | {r.get('max_ms')} ms | {r['samples']} | "
            f"{r.get('times_real_time')} | {r['gold_identical']} |"
        )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
