"""The nightly machinery under hostile input (issue 21): ``--resume``, ranges, ``--scheduler``
(Dask) and ``regress``, each case through the CLI. Every case ends with its expected exit code
and a first line naming the culprit — never a traceback, never past its time bound — and the
committed Gold run it starts from is, session by session, either unchanged or replaced by the
byte-identical bytes of a clean serial run (nothing silently changed).

Classes walked: data lost (relative paths on a Dask cluster, a damaged earlier date under
``--resume``), damage not seen (extra files in a partition, a partition that is a file,
hand-edited manifests, a lake changed between regress's two runs), tracebacks (golden files of
the wrong JSON types, dates not spelled YYYY-MM-DD, scheduler values that are not Dask
addresses, manifests of the wrong shape), hangs (a scheduler address where an HTTP server, a
silent listener or a garbage talker answers) and leftovers (killed writers' temp files).
The kill matrix (processes killed mid-range, then ``--resume``) is ``test_range_kill_matrix.py``.

``python -m pytest tests/replay/run/test_nightly_corpus.py -q -s`` prints the table
(case → exit → seconds → first line) that the issue's closing note quotes.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replay.cli import app
from replay.gold.golden import golden_from_manifests, write_golden
from replay.gold.layout import gold_file, manifest_file, staging_dir
from replay.sample import generate_session

runner = CliRunner()
DATES = ["2025-11-14", "2025-11-17", "2025-11-18"]  # Fri, Mon, Tue: 11-17's PDH/PDL/PDC is 11-14
TIMEOUT = 2.0  # --connect-timeout of every Dask case
BOUND = 15.0  # seconds any case may take beyond its own work: a hang fails the case


def _part(table: str, date: str) -> str:
    return f"bronze/{table}/date={date}"


@dataclass
class World:
    """A fresh copy of the lake and of a committed clean range run, per case."""

    root: Path
    lake: Path
    out: Path  # the committed run the case may damage (a copy of the clean one)
    clean: Path  # the clean serial run (read only)
    cluster: Callable[[], str]  # a shared Dask LocalCluster's address, started on first use
    patch: pytest.MonkeyPatch
    seconds: float = 0.0

    def range(self, *extra: str, out: Path | None = None) -> list[str]:
        o = str(out or self.out)
        args = ["replay", "--lake", str(self.lake), "--date", DATES[0], "--end-date", DATES[-1]]
        return [*args, "--out", o, *extra]

    def manifest(self, date: str) -> Path:
        return manifest_file(self.out, _d(date))


def _d(date: str):
    import datetime as dt

    return dt.date.fromisoformat(date)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nightly")
    generate_session(root / "src", minutes=2, days=3)
    files = [str(p) for p in sorted((root / "src").glob("*.dbn.zst"))]
    assert runner.invoke(app, ["ingest", *files, "--lake", str(root / "lake")]).exit_code == 0
    args = ["replay", "--lake", str(root / "lake"), "--date", DATES[0], "--end-date", DATES[-1]]
    res = runner.invoke(app, [*args, "--out", str(root / "clean")])
    assert res.exit_code == 0, res.output
    mans = [json.loads(manifest_file(root / "clean", _d(d)).read_text()) for d in DATES]
    write_golden(root / "golden.json", golden_from_manifests(mans))
    return root


@pytest.fixture(scope="module")
def cluster() -> Iterator[Callable[[], str]]:
    """One LocalCluster (2 worker processes with nannies) for the cases that need a scheduler,
    started from this directory: its workers' working directory is not the cases'."""
    held: list[object] = []

    def address() -> str:
        if not held:
            from distributed import LocalCluster

            held.append(
                LocalCluster(
                    n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
                )
            )
        return held[0].scheduler_address  # type: ignore[attr-defined]

    yield address
    for c in held:
        c.close()  # type: ignore[attr-defined]


@pytest.fixture()
def world(
    base: Path, tmp_path: Path, cluster: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> World:
    shutil.copytree(base / "lake", tmp_path / "lake")
    shutil.copytree(base / "clean", tmp_path / "out")
    shutil.copy(base / "golden.json", tmp_path / "golden.json")
    return World(
        tmp_path, tmp_path / "lake", tmp_path / "out", base / "clean", cluster, monkeypatch
    )


def _golden(w: World, edit: Callable[[dict], object]) -> str:
    p = w.root / "golden.json"
    doc = json.loads(p.read_text())
    edit(doc)
    p.write_text(json.dumps(doc))
    return str(p)


def _golden_text(w: World, text: str) -> str:
    p = w.root / "golden.json"
    p.write_text(text)
    return str(p)


def _regress(w: World, golden: str, *extra: str) -> list[str]:
    args = ["regress", "--lake", str(w.lake), "--golden", golden, "--report", str(w.root / "r")]
    return [*args, *extra]


def _set(doc: dict, path: str, value: object) -> None:
    *head, last = path.split(".")
    for k in head:
        doc = doc[int(k)] if isinstance(doc, list) else doc[k]
    if isinstance(doc, list):
        doc[int(last)] = value
    else:
        doc[last] = value


def _edit_manifest(w: World, date: str, edit: Callable[[dict], object]) -> None:
    """Edit a committed manifest by hand (its digest is left as it was)."""
    doc = json.loads(w.manifest(date).read_text())
    edit(doc["deterministic"])
    w.manifest(date).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def _resume_after(edit: Callable[[dict], object]) -> Callable[[World], list[str]]:
    def build(w: World) -> list[str]:
        _edit_manifest(w, DATES[1], edit)
        return w.range("--resume")

    return build


def _dir_to_file(w: World, rel: str) -> None:
    shutil.rmtree(w.lake / rel)
    (w.lake / rel).write_bytes(b"not a partition\n")


def _listener(kind: str) -> str:
    """A TCP port where something that is not a Dask scheduler answers: ``silent`` accepts
    and says nothing, ``http`` is an HTTP server, ``garbage`` writes random bytes; or nothing
    does (``closed``)."""
    if kind == "closed":  # a port just freed: connection refused, known at once
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return f"tcp://127.0.0.1:{s.getsockname()[1]}"
    if kind == "http":
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return f"tcp://127.0.0.1:{srv.server_address[1]}"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            conn, _ = sock.accept()
            held.append(conn)  # silent: kept open, never answered
            if kind == "garbage":
                conn.sendall(b"\x93\x07garbage" * 512)

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{sock.getsockname()[1]}"


def _relative_on_dask(w: World) -> list[str]:
    address = w.cluster()
    w.patch.chdir(w.root)  # the workers' working directory is the test runner's, not this
    args = ["replay", "--lake", "lake", "--date", DATES[0], "--end-date", DATES[-1]]
    return [*args, "--out", "fresh", "--scheduler", address, "--connect-timeout", str(TIMEOUT)]


def _fresh_equals_clean(w: World, out: str) -> None:
    for d in DATES:
        assert gold_file(w.root / out, _d(d)).read_bytes() == gold_file(w.clean, _d(d)).read_bytes()


def _staging_clean(w: World) -> None:
    left = [p.name for p in staging_dir(w.out).iterdir() if p.is_file()]
    assert left == [], left


def _manifests_as_clean(w: World) -> None:
    for d in DATES:
        got = json.loads(w.manifest(d).read_text())["deterministic"]
        want = json.loads(manifest_file(w.clean, _d(d)).read_text())["deterministic"]
        assert got == want, d


def _stale_temp(w: World) -> list[str]:
    for name in (
        f".date={DATES[0]}.part-00000.parquet.tmp-writing-4194304-1",  # a killed Gold writer's
        f".levels_signals.date={DATES[1]}.json.tmp-writing-4194304-1",  # and manifest writer's
    ):
        (staging_dir(w.out) / name).write_bytes(b"half a Parquet file")
    return w.range("--resume")


def _regress_with_lake_changed(how: str) -> Callable[[World], list[str]]:
    """``regress`` whose lake changes after run A: a re-ingest that rewrites a partition (and
    its digest record), or a hand edit that keeps the file's size and mtime."""

    def build(w: World) -> list[str]:
        import replay.nightly.regress as regress

        real = regress.execute
        calls: list[int] = []

        def execute(jobs, **kw):
            calls.append(1)
            if len(calls) == 2:  # run A is done, run B starts
                _change_lake(w, how)
            return real(jobs, **kw)

        w.patch.setattr(regress, "execute", execute)
        return _regress(w, str(w.root / "golden.json"))

    return build


def _change_lake(w: World, how: str) -> None:
    p = w.lake / _part("futures_trades", DATES[0]) / "part-00000.parquet"
    if how == "rewritten":
        import pyarrow.parquet as pq

        from replay.common.hashing import sha256_file
        from replay.lake.partition_digest import record

        t = pq.read_table(p)
        pq.write_table(t.slice(0, t.num_rows - 1), p)  # one trade fewer, a fresh record
        record(p, sha256_file(p))
        return
    st = p.stat()
    data = bytearray(p.read_bytes())
    i = data.rindex(b"PAR1", 0, len(data) - 4) if data.count(b"PAR1") > 2 else 8
    data[i - 1] ^= 0x01  # one bit of the last page before the footer
    p.write_bytes(bytes(data))
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[World], list[str]]
    exit: int
    culprit: str
    check: Callable[[World], None] | None = None
    dask: bool = field(default=False)


SCHEDULER = ["--connect-timeout", str(TIMEOUT)]
CASES: list[Case] = [
    # ---- data lost with exit 0
    Case(
        "dask: relative --lake and --out",
        _relative_on_dask,
        0,
        "3 of 3 sessions ok",
        lambda w: _fresh_equals_clean(w, "fresh"),
        dask=True,
    ),
    Case(
        "resume: an earlier date's trades partition is a file",
        lambda w: (_dir_to_file(w, _part("futures_trades", DATES[0])), w.range("--resume"))[1],
        1,
        "is not a directory",
    ),
    # ---- damage not seen
    Case(
        "replay: an extra part file in a partition",
        lambda w: (
            shutil.copy(
                w.lake / _part("futures_mbp10", DATES[0]) / "part-00000.parquet",
                w.lake / _part("futures_mbp10", DATES[0]) / "part-00001.parquet",
            ),
            w.range(out=w.root / "o"),
        )[1],
        1,
        "part-00001.parquet",
    ),
    Case(
        "replay: a garbage file in a partition",
        lambda w: (
            (w.lake / _part("futures_trades", DATES[1]) / "x.parquet").write_bytes(b"PAR1"),
            ["replay", "--lake", str(w.lake), "--date", DATES[1], "--out", str(w.root / "o")],
        )[1],
        2,
        "holds files ingest did not write: x.parquet",
    ),
    Case(
        "replay: a partition directory that is a file",
        lambda w: (
            _dir_to_file(w, _part("futures_mbp10", DATES[2])),
            ["replay", "--lake", str(w.lake), "--date", DATES[2], "--out", str(w.root / "o")],
        )[1],
        2,
        "is not a directory",
    ),
    Case(
        "resume: manifest rows edited",
        _resume_after(lambda d: _set(d, "rows", d["rows"] + 1)),
        0,
        "replayed, not resumed",
        _manifests_as_clean,
    ),
    Case(
        "resume: manifest digest edited",
        _resume_after(lambda d: _set(d, "digest", "0" * 64)),
        0,
        "replayed, not resumed",
        _manifests_as_clean,
    ),
    Case(
        "resume: manifest counter edited",
        _resume_after(lambda d: _set(d, "snaps", d["snaps"] - 1)),
        0,
        "does not match",
        _manifests_as_clean,
    ),
    Case(
        "resume: manifest input sha edited",
        _resume_after(lambda d: _set(d, "inputs.0.sha256", "f" * 64)),
        0,
        "replayed, not resumed",
        _manifests_as_clean,
    ),
    Case(
        "resume: manifest inputs removed",
        _resume_after(lambda d: d.pop("inputs")),
        0,
        "deterministic.inputs",
        _manifests_as_clean,
    ),
    Case(
        "resume: manifest outputs a list",
        _resume_after(lambda d: _set(d, "outputs", list(d["outputs"].values()))),
        0,
        "deterministic.outputs' is a list",
        _manifests_as_clean,
    ),
    Case(
        "resume: manifest events a list",
        _resume_after(lambda d: _set(d, "events", list(d["events"].values()))),
        0,
        "deterministic.events' is a list",
        _manifests_as_clean,
    ),
    Case(
        "resume: manifest without rows",
        _resume_after(lambda d: d.pop("rows")),
        0,
        "deterministic.rows' is missing",
        _manifests_as_clean,
    ),
    Case(
        "verify: manifest outputs a list",
        lambda w: (
            _edit_manifest(w, DATES[0], lambda d: _set(d, "outputs", [])),
            ["verify", str(w.out), str(w.clean)],
        )[1],
        2,
        "deterministic.outputs",
    ),
    Case(
        "regress: lake rewritten between run A and run B",
        _regress_with_lake_changed("rewritten"),
        1,
        "the lake changed during the regression",
    ),
    Case(
        "regress: partition edited keeping size and mtime",
        _regress_with_lake_changed("edited"),
        1,
        "2025-11-14",
    ),
    Case(
        "dask: a committed run again without --force or --resume",
        lambda w: w.range("--scheduler", w.cluster(), *SCHEDULER),
        1,
        "output already exists",
        _manifests_as_clean,
        dask=True,
    ),
    Case(
        "dask: --resume over a committed run",
        lambda w: w.range("--resume", "--scheduler", w.cluster(), *SCHEDULER),
        0,
        "3 resumed",
        _manifests_as_clean,
        dask=True,
    ),
    # ---- leftovers
    Case("resume: a killed writer's temp file", _stale_temp, 0, "3 resumed", _staging_clean),
]
GOLDEN_EDITS: list[tuple[str, Callable[[dict], object], str]] = [
    ("sessions an int", lambda g: _set(g, "sessions", 3), "field 'sessions' is a JSON number"),
    ("inputs a string", lambda g: _set(g, "sessions.0.inputs", "x"), "sessions[0].inputs"),
    ("inputs a list of strings", lambda g: _set(g, "sessions.0.inputs", ["a"]), "inputs[0]"),
    ("made_with.config a string", lambda g: _set(g, "made_with.config", "x"), "made_with.config"),
    ("rows a string", lambda g: _set(g, "sessions.0.rows", "12"), "sessions[0].rows"),
    ("rows a boolean", lambda g: _set(g, "sessions.0.rows", True), "sessions[0].rows"),
    ("a session not an object", lambda g: _set(g, "sessions.1", [1]), "sessions[1]"),
    ("a session listed twice", lambda g: _set(g, "sessions.1.date", DATES[0]), "listed twice"),
    ("made_with an array", lambda g: _set(g, "made_with", []), "field 'made_with'"),
] + [
    (f"date {bad!r}", lambda g, bad=bad: _set(g, "sessions.0.date", bad), "sessions[0].date")
    for bad in ("2025-13-45", "2025-11-14T00:00:00", " 2025-11-14", "20251114", "2025-W46-5")
]
CASES += [
    Case(f"regress golden: {name}", lambda w, e=edit: _regress(w, _golden(w, e)), 2, culprit)
    for name, edit, culprit in GOLDEN_EDITS
]
CASES += [
    Case(
        "regress golden: deep nesting",
        lambda w: _regress(w, _golden_text(w, "[" * 200_000)),
        2,
        "RecursionError",
    ),
    Case(
        "regress golden: a JSON array",
        lambda w: _regress(w, _golden_text(w, "[1, 2]")),
        2,
        "a JSON list",
    ),
]
CASES += [
    Case(
        f"{cmd} {opt} {bad!r}",
        lambda w, opt=opt, bad=bad, cmd=cmd: _with_date(w, cmd, opt, bad),
        2,
        "YYYY-MM-DD",
    )
    for bad in ("2025-13-45", "2025-11-14T00:00:00", " 2025-11-14", "20251114", "2025-W46-5")
    for cmd, opt in (("replay", "--date"), ("replay", "--end-date"), ("label", "--date"))
]
CASES += [
    Case(
        f"{cmd} --scheduler {bad!r}",
        lambda w, bad=bad, cmd=cmd: _on(w, cmd, bad),
        2,
        "is not a Dask address",
    )
    for bad in (
        "",
        "not a url",
        "http://127.0.0.1:8786",
        "ucx://127.0.0.1:8786",
        "inproc://127.0.0.1/1/1",
        "tcp://127.0.0.1:99999",
        "tcp://:8786",
    )
    for cmd in ("replay", "regress", "label")
]
CASES += [
    Case(
        f"{cmd} --scheduler at a {kind} listener",
        lambda w, k=kind, c=cmd: _on(w, c, _listener(k)),
        2,
        "cannot use the Dask scheduler",
    )
    for kind in ("silent", "http", "garbage", "closed")
    for cmd in ("replay", "regress")
]
CASES += [
    Case("replay --connect-timeout 0", lambda w: w.range("--connect-timeout", "0"), 2,
         "--connect-timeout 0"),
    Case("replay --connect-timeout nan", lambda w: w.range("--connect-timeout", "nan"), 2,
         "--connect-timeout nan"),
]  # fmt: skip


def _with_date(w: World, cmd: str, opt: str, bad: str) -> list[str]:
    if cmd == "label":
        return ["label", "--lake", str(w.lake), "--gold", str(w.out), "--date", bad]
    args = w.range(out=w.root / "o")
    args[args.index(opt) + 1] = bad
    return args


def _on(w: World, cmd: str, scheduler: str) -> list[str]:
    tail = ["--scheduler", scheduler, *SCHEDULER]
    if cmd == "regress":
        return _regress(w, str(w.root / "golden.json"), *tail)
    if cmd == "label":
        args = ["label", "--lake", str(w.lake), "--gold", str(w.out), "--date", DATES[0]]
        return [*args, "--end-date", DATES[-1], *tail]
    return w.range(*tail, out=w.root / "o")


def _gold_bytes(out: Path) -> dict[str, bytes | None]:
    return {d: (p.read_bytes() if (p := gold_file(out, _d(d))).is_file() else None) for d in DATES}


RESULTS: list[tuple[str, int, float, str]] = []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_nightly_machinery_refuses_or_repairs_by_name(world: World, case: Case) -> None:
    args = case.build(world)
    before = _gold_bytes(world.out)
    clean = _gold_bytes(world.clean)
    t0 = time.monotonic()
    res = runner.invoke(app, args)
    took = time.monotonic() - t0
    out = res.output
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()] or [""]
    first = next((ln for ln in lines if case.culprit in ln), lines[0])
    RESULTS.append((case.name, res.exit_code, took, first[:150]))
    assert "Traceback" not in out, out
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == case.exit, out
    assert case.culprit in out, out
    assert took < BOUND + (30 if case.dask else 0), f"{case.name} took {took:.1f} s"
    # the committed run: each session unchanged, or replaced by the clean run's bytes
    for d, now in _gold_bytes(world.out).items():
        assert now in (before[d], clean[d]), f"{case.name}: session {d} changed"
    leftovers = [p.name for p in staging_dir(world.out).glob("*.tmp-*")]
    assert leftovers == [] or case.name == "resume: a killed writer's temp file", leftovers
    if case.check is not None:
        case.check(world)


def test_a_damaged_earlier_date_fails_the_sessions_that_read_it(world: World) -> None:
    """11-14's trades partition replaced by a file: 11-14 fails (its own input), 11-17 fails
    (its PDH/PDL/PDC input), 11-18 is resumed; both failed sessions keep their committed pair."""
    _dir_to_file(world, _part("futures_trades", DATES[0]))
    before = {d: world.manifest(d).read_bytes() for d in DATES}
    res = runner.invoke(app, world.range("--resume"))
    assert res.exit_code == 1, res.output
    doc = json.loads((world.out / "gold/_runs/replay-summary.json").read_text())
    status = {s["date"]: s["status"] for s in doc["sessions"] if s["status"] != "skipped"}
    assert status == {DATES[0]: "failed", DATES[1]: "failed", DATES[2]: "resumed"}
    assert {d: world.manifest(d).read_bytes() for d in DATES} == before


def test_the_corpus_names_each_case_once() -> None:
    """A duplicate name would make two cases one pytest id and hide one of them."""
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


@pytest.fixture(scope="module", autouse=True)
def _table() -> Iterator[None]:
    """Print the corpus table at the end of the module (seen with ``-s``)."""
    yield
    print("\n| case | exit | s | first line naming the culprit |\n|---|---|---|---|")
    for name, code, took, line in RESULTS:
        print(f"| {name} | {code} | {took:.1f} | {line.replace('|', '/')} |")
