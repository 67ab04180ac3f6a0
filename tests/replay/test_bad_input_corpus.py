"""The bad-input corpus (SPEC §4, §8): every case through the CLI gets exit 2 (a user error) and
one paragraph naming the culprit — never a traceback — and leaves the lake and earlier Gold as they
were. Each case builds its input in a fresh directory from a small generated lake.

`python -m pytest tests/replay/test_bad_input_corpus.py -q -s` prints the table
(case → exit → first line of the message) that issue 12's closing note quotes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from replay.cli import app
from replay.sample import generate_session

runner = CliRunner()
DATE = "2025-11-14"
PART = "bronze/futures_mbp10/date=2025-11-14/part-00000.parquet"
TRADES = "bronze/futures_trades/date=2025-11-14/part-00000.parquet"
GOLD = "gold/levels_signals/date=2025-11-14/part-00000.parquet"
MANIFEST = "gold/_manifests/levels_signals/date=2025-11-14.json"


@dataclass
class World:
    """A fresh copy of the corpus's sources, lake and one replayed Gold run, per case."""

    root: Path
    src: Path
    lake: Path
    gold: Path

    def file(self, suffix: str) -> Path:
        return next(p for p in sorted(self.src.iterdir()) if p.name.endswith(suffix))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    generate_session(root / "src", minutes=2)
    files = [str(p) for p in sorted((root / "src").glob("*.dbn.zst"))]
    assert runner.invoke(app, ["ingest", *files, "--lake", str(root / "lake")]).exit_code == 0
    res = runner.invoke(
        app, ["replay", "--lake", str(root / "lake"), "--date", DATE, "--out", str(root / "gold")]
    )
    assert res.exit_code == 0, res.output
    return root


@pytest.fixture()
def world(base: Path, tmp_path: Path) -> World:
    for name in ("src", "lake", "gold"):
        shutil.copytree(base / name, tmp_path / name, symlinks=True)
    return World(tmp_path, tmp_path / "src", tmp_path / "lake", tmp_path / "gold")


def _tree(path: Path) -> dict[str, str]:
    """Every file's sha256 (lock files aside: empty, taken and released by each run)."""
    if not path.exists():
        return {}
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file() and "locks" not in p.parts
    }


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _cut(path: Path, keep: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _parquet(path: Path, table: pa.Table) -> Path:
    pq.write_table(table, path)
    return path


def _replay(w: World, *extra: str) -> list[str]:
    return ["replay", "--lake", str(w.lake), "--date", DATE, "--out", str(w.root / "out"), *extra]


def _regress(w: World, golden: Path) -> list[str]:
    return [
        "regress",
        "--lake",
        str(w.lake),
        "--golden",
        str(golden),
        "--report",
        str(w.root / "r"),
    ]


def _config(w: World, text: str | bytes) -> str:
    p = w.root / "c.toml"
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(p)


def _trades_parquet(w: World, **change: pa.Array) -> Path:
    """The trades file as a Databento-Parquet export, with columns replaced."""
    t = pq.read_table(w.lake / TRADES).drop_columns(["src_key", "src_row"])
    t = t.set_column(
        t.schema.get_field_index("ts_recv"), "ts_recv", t.column("ts_recv").cast(pa.uint64())
    )
    t = t.set_column(
        t.schema.get_field_index("ts_event"), "ts_event", t.column("ts_event").cast(pa.uint64())
    )
    for name, arr in change.items():
        t = t.set_column(t.schema.get_field_index(name), name, arr)
    return _parquet(w.root / "export.trades.parquet", t)


def _fill(w: World, value: int) -> pa.Array:
    return pa.array([value] * pq.ParquetFile(w.lake / TRADES).metadata.num_rows, pa.uint8())


def _fifo(w: World) -> Path:
    p = w.root / "pipe.dbn"
    os.mkfifo(p)
    return p


Case = tuple[str, Callable[[World], list[str]], str]
CASES: list[Case] = [
    # ---- ingest: files
    (
        "ingest: missing file",
        lambda w: ["ingest", str(w.root / "nope.dbn"), "--lake", str(w.lake)],
        "nope.dbn",
    ),
    (
        "ingest: empty file",
        lambda w: ["ingest", str(_write(w.root / "e.dbn", b"")), "--lake", str(w.lake)],
        "e.dbn",
    ),
    (
        "ingest: random bytes",
        lambda w: ["ingest", str(_write(w.root / "r.dbn", os.urandom(64))), "--lake", str(w.lake)],
        "r.dbn",
    ),
    (
        "ingest: text file",
        lambda w: ["ingest", str(_write(w.root / "t.csv", b"a,b\n1,2\n")), "--lake", str(w.lake)],
        "t.csv",
    ),
    (
        "ingest: truncated zstd",
        lambda w: ["ingest", str(_cut(w.file(".trades.dbn.zst"))), "--lake", str(w.lake)],
        "trades.dbn.zst",
    ),
    ("ingest: a FIFO", lambda w: ["ingest", str(_fifo(w)), "--lake", str(w.lake)], "pipe.dbn"),
    (
        "ingest: a character device",
        lambda w: ["ingest", "/dev/null", "--lake", str(w.lake)],
        "/dev/null",
    ),
    (
        "ingest: --lake is a file",
        lambda w: [
            "ingest",
            str(w.file(".trades.dbn.zst")),
            "--lake",
            str(w.file(".mbp-10.dbn.zst")),
        ],
        "mbp-10.dbn.zst",
    ),
    (
        "ingest: --chunk-rows 0",
        lambda w: [
            "ingest",
            str(w.file(".trades.dbn.zst")),
            "--lake",
            str(w.lake),
            "--chunk-rows",
            "0",
        ],
        "--chunk-rows 0",
    ),
    (
        "ingest: Parquet, null rtype",
        lambda w: [
            "ingest",
            str(
                _trades_parquet(w, rtype=pa.nulls(len(pq.read_table(w.lake / TRADES)), pa.uint8()))
            ),
            "--lake",
            str(w.lake),
        ],
        "rtype",
    ),
    (
        "ingest: Parquet, float price",
        lambda w: [
            "ingest",
            str(
                _trades_parquet(
                    w, price=pa.array([1.5] * len(pq.read_table(w.lake / TRADES)), pa.float64())
                )
            ),
            "--lake",
            str(w.lake),
        ],
        "price",
    ),
    (
        "ingest: Parquet, cut file",
        lambda w: ["ingest", str(_cut(_trades_parquet(w))), "--lake", str(w.lake)],
        "export.trades.parquet",
    ),
    (
        "ingest: garbage ingest log",
        lambda w: [
            "ingest",
            str(w.file(".trades.dbn.zst")),
            "--lake",
            str(_garbage(w.lake / "bronze/_ingest_log.parquet", w.lake)),
        ],
        "_ingest_log.parquet",
    ),
    (
        "ingest: a definitions partition of garbage in the lake",
        lambda w: [
            "ingest",
            str(_another_session(w)),
            "--lake",
            str(_garbage_world(w, "bronze/definitions/date=2025-11-14/part-00000.parquet").lake),
        ],
        "definitions/date=2025-11-14/part-00000.parquet",
    ),
    # ---- replay: paths, dates, options
    (
        "replay: --lake missing",
        lambda w: [
            "replay",
            "--lake",
            str(w.root / "nolake"),
            "--date",
            DATE,
            "--out",
            str(w.root / "o"),
        ],
        "nolake",
    ),
    (
        "replay: --lake is a file",
        lambda w: [
            "replay",
            "--lake",
            str(w.file(".trades.dbn.zst")),
            "--date",
            DATE,
            "--out",
            str(w.root / "o"),
        ],
        "trades.dbn.zst",
    ),
    (
        "replay: --out is a file",
        lambda w: [
            "replay",
            "--lake",
            str(w.lake),
            "--date",
            DATE,
            "--out",
            str(w.file(".trades.dbn.zst")),
        ],
        "trades.dbn.zst",
    ),
    (
        "replay: bad date",
        lambda w: ["replay", "--lake", str(w.lake), "--date", "2025-02-30"],
        "YYYY-MM-DD",
    ),
    (
        "replay: end before start",
        lambda w: [*_replay(w), "--end-date", "2025-11-01"],
        "before --date",
    ),
    (
        "replay: date with no data",
        lambda w: [
            "replay",
            "--lake",
            str(w.lake),
            "--date",
            "2025-11-12",
            "--out",
            str(w.root / "o"),
        ],
        "2025-11-12",
    ),
    (
        "replay: range with no data",
        lambda w: [
            "replay",
            "--lake",
            str(w.lake),
            "--date",
            "2026-01-05",
            "--end-date",
            "2026-01-09",
            "--out",
            str(w.root / "o"),
        ],
        "no replayable session",
    ),
    (
        "replay: output exists",
        lambda w: ["replay", "--lake", str(w.lake), "--date", DATE, "--out", str(w.gold)],
        "output already exists",
    ),
    ("replay: --workers 0", lambda w: _replay(w, "--workers", "0"), "--workers 0"),
    ("replay: --chunk-events 0", lambda w: _replay(w, "--chunk-events", "0"), "--chunk-events 0"),
    ("replay: unknown engine", lambda w: _replay(w, "--engine", "turbo"), "turbo"),
    ("replay: unknown --symbol", lambda w: _replay(w, "--symbol", "NQZ5"), "NQZ5"),
    (
        "replay: unreachable scheduler",
        lambda w: _replay(w, "--end-date", DATE, "--scheduler", "tcp://127.0.0.1:9"),
        "scheduler",
    ),
    ("replay: garbage partition", lambda w: _replay(_garbage_world(w, PART)), PART.split("/")[1]),
    (
        "replay: partition missing a column",
        lambda w: _replay(_drop_column(w, PART, "bid_px_00")),
        "bid_px_00",
    ),
    (
        "replay: edited partition",
        lambda w: _replay(_flip_byte(w, TRADES)),
        "changed since it was written",
    ),
    (  # a lake copied without the digest records: the damage shows as an unreadable page
        "replay: corrupt page, no digest record",
        lambda w: _replay(_no_digest(_flip_byte(w, TRADES), TRADES)),
        "part-00000.parquet",
    ),
    # ---- config
    (
        "config: missing file",
        lambda w: _replay(w, "--config", str(w.root / "none.toml")),
        "none.toml",
    ),
    (
        "config show: out of range",
        lambda w: ["config", "show", "--config", _config(w, "[engine]\nbreak_enter = 170\n")],
        "break_enter",
    ),
    # ---- verify, plot, info, silver, regress, sample
    ("verify: missing path", lambda w: ["verify", str(w.root / "nope"), str(w.gold)], "nope"),
    (
        "verify: a non-Gold file",
        lambda w: ["verify", str(w.file(".trades.dbn.zst")), str(w.gold)],
        "trades.dbn.zst",
    ),
    (
        "verify: cut Gold",
        lambda w: ["verify", str(_cut(w.gold / GOLD).parents[3]), str(w.gold)],
        "incomplete session",
    ),
    (
        "verify: garbage manifest",
        lambda w: ["verify", str(_garbage(w.gold / MANIFEST, w.gold)), str(w.gold)],
        "manifest",
    ),
    (
        "verify: Gold without manifest",
        lambda w: ["verify", str(_unlink(w.gold / MANIFEST, w.gold)), str(w.gold)],
        "incomplete session",
    ),
    (
        "plot: a non-Gold file",
        lambda w: ["plot", str(w.file(".trades.dbn.zst")), "--out", str(w.root / "p.png")],
        "trades.dbn.zst",
    ),
    (
        "plot: cut Gold",
        lambda w: ["plot", str(_cut(w.gold / GOLD)), "--out", str(w.root / "p.png")],
        "part-00000.parquet",
    ),
    (
        "plot: empty Gold",
        lambda w: ["plot", str(_empty_gold(w)), "--out", str(w.root / "p.png")],
        "no rows",
    ),
    (
        "plot: --out under a file",
        lambda w: ["plot", str(w.gold / GOLD), "--out", str(w.file(".trades.dbn.zst") / "p.png")],
        "trades.dbn.zst: File exists",
    ),
    (
        "ingest: Parquet definitions",
        lambda w: ["ingest", str(_trades_parquet(w, rtype=_fill(w, 19))), "--lake", str(w.lake)],
        "Parquet definitions are not supported",
    ),
    (
        "ingest: Parquet of another rtype",
        lambda w: ["ingest", str(_trades_parquet(w, rtype=_fill(w, 1))), "--lake", str(w.lake)],
        "rtype 1 is not supported",
    ),
    (
        "replay: empty --date",
        lambda w: ["replay", "--lake", str(w.lake), "--date", ""],
        "YYYY-MM-DD",
    ),
    (
        "replay: --config is a directory",
        lambda w: _replay(w, "--config", str(w.root)),
        "cannot be read",
    ),
    (
        "regress: --workers 0",
        lambda w: [*_regress(w, w.root / "g.json"), "--workers", "0"],
        "--workers 0",
    ),
    (
        "plot: missing file",
        lambda w: ["plot", str(w.root / "none.parquet"), "--out", str(w.root / "p.png")],
        "none.parquet",
    ),
    ("info: missing lake", lambda w: ["info", "--lake", str(w.root / "nolake")], "nolake"),
    (
        "info: garbage partition",
        lambda w: ["info", "--lake", str(_garbage_world(w, PART).lake)],
        PART.split("/")[1],
    ),
    (
        "silver: date without depth",
        lambda w: ["silver", "--lake", str(w.lake), "--date", "2025-11-12"],
        "2025-11-12",
    ),
    (
        "regress: golden missing",
        lambda w: _regress(w, w.root / "g.json"),
        "golden file not found",
    ),
    (
        "regress: golden garbage",
        lambda w: _regress(w, _write(w.root / "g.json", b"{[")),
        "not a golden file",
    ),
    (
        "sample: --minutes 0",
        lambda w: ["sample", "--out", str(w.root / "s"), "--minutes", "0"],
        "--minutes",
    ),
    (
        "sample: --start 25:99",
        lambda w: ["sample", "--out", str(w.root / "s"), "--start", "25:99"],
        "--start",
    ),
    (
        "sample: --intensity nan",
        lambda w: ["sample", "--out", str(w.root / "s"), "--intensity", "nan"],
        "--intensity",
    ),
    ("sample: --days 0", lambda w: ["sample", "--out", str(w.root / "s"), "--days", "0"], "--days"),
    (
        "sample: bad --date",
        lambda w: ["sample", "--out", str(w.root / "s"), "--date", "2025-13-01"],
        "YYYY-MM-DD",
    ),
    (
        "sample: --out is a file",
        lambda w: ["sample", "--out", str(w.file(".trades.dbn.zst")), "--minutes", "1"],
        "trades.dbn.zst",
    ),
    # ---- live mode (a reachable server is tested in tests/replay/live)
    (
        "publish: --speed nan",
        lambda w: [
            "publish",
            "--lake",
            str(w.lake),
            "--date",
            "2025-11-14",
            "--nats",
            "nats://127.0.0.1:9",
            "--speed",
            "nan",
        ],
        "--speed nan",
    ),
    (
        "live: unknown engine",
        lambda w: ["live", "--nats", "nats://127.0.0.1:9", "--engine", "turbo"],
        "unknown engine 'turbo'",
    ),
    (
        "publish: bad date",
        lambda w: [
            "publish",
            "--lake",
            str(w.lake),
            "--date",
            "2025-02-30",
            "--nats",
            "nats://127.0.0.1:9",
        ],
        "2025-02-30",
    ),
]


def _config_case(body: str | bytes) -> Callable[[World], list[str]]:
    return lambda w: _replay(w, "--config", _config(w, body))


CONFIG_BODIES: list[tuple[str, str | bytes, str]] = [  # case, config file, culprit
    ("not UTF-8", b"\xff\xfe[engine]", "not UTF-8"),
    ("invalid TOML", "[engine\n", "not valid TOML"),
    ("unknown key", "[engine]\nbreak_entr = 1\n", "break_entr"),
    ("wrong type", '[engine]\nhold_s = "3"\n', "hold_s"),
    ("NaN", "[engine]\nrate = nan\n", "'rate' = nan"),
    ("infinity", "[engine]\nhold_s = inf\n", "'hold_s' = inf"),
    ("tick below a unit", "[engine]\ntick_size_pts = 1e-12\n", "tick_size_pts"),
    ("huge snap", "[engine]\nsnap_interval_ms = 10000000\n", "snap_interval_ms"),
]
CASES += [(f"config: {name}", _config_case(body), culprit) for name, body, culprit in CONFIG_BODIES]


def _garbage(path: Path, root: Path) -> Path:
    path.write_bytes(b"PAR1 not parquet at all PAR1")
    return root


def _unlink(path: Path, root: Path) -> Path:
    path.unlink()
    return root


def _another_session(w: World) -> Path:
    """A trades file of the same date that the lake does not hold yet (another seed): its
    ingest must read the lake's definitions."""
    files = generate_session(w.root / "another", seed=9, minutes=1).files
    return next(p for p in sorted(files) if p.name.endswith(".trades.dbn.zst"))


def _garbage_world(w: World, rel: str) -> World:
    (w.lake / rel).write_bytes(b"PAR1 not parquet at all PAR1")
    return w


def _drop_column(w: World, rel: str, column: str) -> World:
    p = w.lake / rel
    pq.write_table(pq.read_table(p).drop_columns([column]), p)
    (p.parent / "_part-00000.sha256.json").unlink(missing_ok=True)  # no record: the reader sees it
    return w


def _flip_byte(w: World, rel: str) -> World:
    p = w.lake / rel
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    return w


def _no_digest(w: World, rel: str) -> World:
    p = w.lake / rel
    p.with_name(f"_{p.stem}.sha256.json").unlink()
    return w


def _empty_gold(w: World) -> Path:
    t = pq.read_table(w.gold / GOLD)
    p = w.root / "empty.parquet"
    pq.write_table(t.slice(0, 0), p)
    return p


RESULTS: list[tuple[str, int, str]] = []


@pytest.mark.parametrize(("name", "build", "culprit"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_exit_2_with_one_paragraph(
    world: World, name: str, build: Callable[[World], list[str]], culprit: str
) -> None:
    args = build(world)
    after_setup = {"lake": _tree(world.lake), "gold": _tree(world.gold)}
    res = runner.invoke(app, args)
    out = res.output
    RESULTS.append((name, res.exit_code, (out.strip().splitlines() or [""])[0][:140]))
    assert "Traceback" not in out, out
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == 2, out
    assert culprit in out, out
    # nothing the command did changed the lake or the earlier Gold (the case's own damage aside)
    assert {"lake": _tree(world.lake), "gold": _tree(world.gold)} == after_setup, name


@pytest.fixture(scope="module", autouse=True)
def _table() -> object:
    """Print the corpus table at the end of the module (seen with ``-s``)."""
    yield
    print("\n| case | exit | first line of the message |\n|---|---|---|")
    for name, code, line in RESULTS:
        print(f"| {name} | {code} | {line.replace('|', '/')} |")
