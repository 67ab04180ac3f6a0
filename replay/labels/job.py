"""One session's labels as a value: ``LabelJob`` → ``label_session(job)`` → outcomes + manifest.

Labels are derived from a committed Gold pair and the lake it was replayed from. The job holds the
session's Gold lock (a replay of the session never changes Gold under it), checks that the lake's
partitions are the ones the Gold manifest records, then streams: Gold in row batches, the primary
future's trades in a buffer that reaches one horizon past the batch, so memory is one batch plus
the trades of its span. Each row's label depends on its own window only, so the bytes are the same
whatever the batch size or executor. Outcomes are written like Gold (temp, fsync, rename), then
their manifest, which names the Gold ``outputs_digest`` the labels were built from: labels of a
Gold that changed since are *stale*, and every reader says so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engines.contract.events import UNDEF_PRICE
from replay.common.atomic import commit, temp_path_for, writes_into
from replay.common.errors import LevelReplayError, UserError
from replay.common.hashing import sha256_file
from replay.common.locks import file_lock
from replay.common.one_in_flight import OneInFlight
from replay.gold.layout import gold_file, manifest_file, output_key, session_lock, staging_dir
from replay.gold.manifest import (
    OUTPUT_LIBRARIES,
    TOOL,
    build_manifest,
    code_digest,
    library_versions,
    outputs_digest,
    read_manifest,
    run_info,
    tool_version,
    utc_iso,
    write_manifest,
)
from replay.gold.verify import NotAGoldRun, SessionOutput, read_session
from replay.gold.writer import PARQUET_OPTIONS
from replay.labels.config import LabelConfig
from replay.labels.layout import labelled_dates, outcomes_file, outcomes_manifest
from replay.labels.outcomes import Outcomes, label_rows
from replay.labels.schema import GOLD_KEYS, LEVEL_OUTCOMES, OUTCOMES
from replay.lake.layout import read_errors_named
from replay.lake.reader import batches, trade_columns, trade_rows
from replay.run.executor import (
    FAILED,
    OK,
    RESUMED,
    SKIPPED,
    SessionReport,
    date_range,
)
from replay.run.session import SessionSources, max_ts_recv, resolve_session

GOLD_BATCH_ROWS = 1 << 16
OUTCOMES_ROW_GROUP = 1 << 17
DICTIONARY_COLUMNS = ["level_id", "level_kind", "direction", "signal", "outcome"]
CURRENT, STALE, MISSING, INCOMPLETE = "current", "stale", "missing", "incomplete"


@dataclass(frozen=True)
class LabelJob:
    """Everything that decides one session's labels."""

    lake: Path
    date: dt.date
    out: Path  # the Gold run's output root; labels go beside Gold
    config: LabelConfig = field(default_factory=LabelConfig)
    chunk_rows: int | None = None  # Gold rows per batch (None: 65,536); never changes the bytes
    force: bool = False  # relabel even when the committed labels are current
    executor: str = "serial"
    workers: int = 1
    wait: bool = True
    command = "label"

    def __post_init__(self) -> None:
        if self.chunk_rows is not None and self.chunk_rows < 1:
            raise UserError(f"--chunk-rows {self.chunk_rows}", expected="a positive row count")

    def unseen_here(self, outputs_digest: str) -> str | None:
        """Why this process cannot see the labels a worker reported (None: it can)."""
        if outcomes_manifest(self.out, self.date).is_file():
            return None
        return f"no {outcomes_manifest(self.out, self.date)} here"


@dataclass(frozen=True)
class LabelResult:
    date: dt.date
    rows: int
    kept: bool  # the committed labels were current and left as they are
    was: str  # the labels' state before this job (CURRENT, STALE, MISSING, INCOMPLETE)
    digest: str
    outputs_digest: str
    seconds: float


@dataclass(frozen=True)
class LabelState:
    """Where a session's labels stand against its Gold."""

    state: str  # CURRENT, STALE, MISSING or INCOMPLETE
    reason: str
    manifest: dict | None = None


def label_state(out: Path, date: dt.date, gold: SessionOutput | None = None) -> LabelState:
    """CURRENT when the outcomes file is the one its manifest records and that manifest names
    the committed Gold's ``outputs_digest``; STALE when Gold changed (or is gone) since."""
    f, m = outcomes_file(out, date), outcomes_manifest(out, date)
    if not f.exists() and not m.exists():
        return LabelState(MISSING, f"session {date} has no labels")
    try:
        man = read_manifest(m)
        recorded = man["deterministic"]["outputs"]
        built_from = man["deterministic"]["gold_outputs_digest"]
    except (OSError, ValueError, KeyError, TypeError):
        return LabelState(INCOMPLETE, f"labels of session {date} have no readable manifest")
    if not f.is_file() or recorded.get(output_key(out, f)) != sha256_file(f):
        return LabelState(INCOMPLETE, f"labels of session {date}: manifest and file disagree")
    try:
        gold = gold or read_session(out, date.isoformat())
    except NotAGoldRun:
        return LabelState(STALE, f"labels of session {date}: their Gold is gone or incomplete", man)
    now = gold.det["outputs_digest"]
    if now != built_from:
        why = f"labels of session {date} are stale: built from Gold {built_from[:16]}, Gold is "
        return LabelState(STALE, why + f"now {now[:16]} (run levelreplay label again)", man)
    return LabelState(CURRENT, f"labels of session {date} are current", man)


def _same_job(man: dict, job: LabelJob) -> bool:
    det = man["deterministic"]
    return (
        det.get("labels_sha256") == job.config.sha256()
        and det.get("code_digest") == code_digest()
        and det.get("libraries") == library_versions(OUTPUT_LIBRARIES)
    )


def label_session(job: LabelJob) -> LabelResult:
    """Label one session of a Gold run (kept as it is when its labels are current for this
    job, unless ``force``)."""
    t0 = time.perf_counter()
    started = time.time()
    lock = session_lock(job.out, job.date)
    with file_lock(lock, f"session {job.date} of {job.out}", wait=job.wait):
        gold = read_session(job.out, job.date.isoformat())
        was = label_state(job.out, job.date, gold)
        if was.state == CURRENT and not job.force and _same_job(was.manifest or {}, job):
            det = (was.manifest or {})["deterministic"]
            return LabelResult(
                job.date, det["rows"], True, was.state, det["digest"], det["outputs_digest"], 0.0
            )
        src = _sources(job, gold)
        with writes_into(job.out, f"the labels of session {job.date}"):
            rows, path = _write_outcomes(job, gold, src)
            outputs = {output_key(job.out, path): sha256_file(path)}
            tables = ("futures_mbp10", "futures_trades", "option_trades")
            det = {
                "tool": TOOL,
                "tool_version": tool_version(),
                "code_digest": code_digest(),
                "table": "level_outcomes",
                "labels": job.config.to_dict(),
                "labels_sha256": job.config.sha256(),
                "session_date": job.date.isoformat(),
                "instrument": src.primary_symbol,
                "instrument_id": src.primary_id,
                "trades_from_depth": src.trades_from_depth,
                "gold_outputs_digest": gold.det["outputs_digest"],
                "inputs": [p.record() for p in src.partitions if p.table in tables],
                "rows": rows,
                "outputs": outputs,
                "outputs_digest": outputs_digest(outputs),
                "libraries": library_versions(OUTPUT_LIBRARIES),
            }
            run = run_info(utc_iso(started), time.perf_counter() - t0, job.chunk_rows, job.workers)
            run["executor"] = job.executor
            man = build_manifest(det, run)
            write_manifest(outcomes_manifest(job.out, job.date), man, staging_dir(job.out))
    d = man["deterministic"]
    seconds = time.perf_counter() - t0
    return LabelResult(job.date, rows, False, was.state, d["digest"], d["outputs_digest"], seconds)


def _sources(job: LabelJob, gold: SessionOutput) -> SessionSources:
    """The session's partitions, refused unless they are the ones its Gold was replayed from."""
    det = gold.det
    src = resolve_session(job.lake, job.date, symbol=det["instrument"])
    if src.primary_id != det["instrument_id"]:
        raise UserError(
            f"session {job.date}: the lake's {det['instrument']} is instrument "
            f"{src.primary_id}, the Gold's is {det['instrument_id']}",
            path=str(job.lake),
            expected="the lake the Gold was replayed from",
        )
    recorded = {(p["table"], p["path"]): p["sha256"] for p in det["inputs"]}
    for p in src.partitions:
        if p.table in ("futures_mbp10", "futures_trades"):
            was = recorded.get((p.table, p.path))
            if was != p.sha256:
                raise UserError(
                    f"session {job.date}: partition {p.path} is not the one its Gold was "
                    f"replayed from (sha256 {p.sha256[:16]}, Gold recorded "
                    f"{(was or 'none')[:16]})",
                    path=str(job.lake),
                    expected="the same lake as the replay, or replay the session again first",
                )
    return src


def _trades(src: SessionSources) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The primary future's trades as the engines see them (SPEC §5.11): (ts_recv, price) in
    partition order (the merged order of trades; the partition's sha256 is the replay's), an
    undefined price excluded as the engines exclude it. Only the columns labels need are read."""
    path = src.trades_path or src.depth_path
    if path is None:
        return
    cols = ["ts_recv", "price", *trade_columns(src.trades_from_depth)]
    with read_errors_named(path):
        for t in batches(path, cols):
            t = trade_rows(t, src.primary_id, src.trades_from_depth)
            ts = t.column("ts_recv").to_numpy().astype(np.int64)
            px = t.column("price").to_numpy().astype(np.int64)
            ok = px != UNDEF_PRICE
            yield ts[ok], px[ok]


class _TradeWindow:
    """The trades from just after one batch's first snap through one horizon past its last."""

    def __init__(self, trades: Iterator[tuple[np.ndarray, np.ndarray]]):
        self._it = trades
        self.ts = np.empty(0, np.int64)
        self.px = np.empty(0, np.int64)
        self._done = False

    def cover(self, first: int, last: int) -> None:
        keep = np.searchsorted(self.ts, first, side="right")  # later rows never need them
        ts, px = [self.ts[keep:]], [self.px[keep:]]
        while not self._done and (ts[-1].shape[0] == 0 or int(ts[-1][-1]) <= last):
            nxt = next(self._it, None)
            if nxt is None:
                self._done = True
            else:
                ts.append(nxt[0])
                px.append(nxt[1])
        self.ts, self.px = np.concatenate(ts), np.concatenate(px)


def _write_outcomes(job: LabelJob, gold: SessionOutput, src: SessionSources) -> tuple[int, Path]:
    cfg = job.config
    horizons = cfg.horizons_ns
    ends = [max_ts_recv(p) for p in (src.depth_path, src.trades_path, src.options_path)]
    end_ns = max(x for x in ends if x is not None)
    window = _TradeWindow(_trades(src))
    final = outcomes_file(job.out, job.date)
    writer = _OutcomesWriter(final, staging_dir(job.out))
    cols = [*GOLD_KEYS, "spot_px"]
    try:
        pf = pq.ParquetFile(gold.gold)
        for batch in pf.iter_batches(batch_size=job.chunk_rows or GOLD_BATCH_ROWS, columns=cols):
            t = batch.column("ts_ns").to_numpy()
            if t.shape[0] == 0:
                continue
            window.cover(int(t[0]), int(t[-1]) + horizons[-1])
            side = np.where(batch.column("direction").to_numpy(zero_copy_only=False)
                            == "RESISTANCE", 1, -1)  # fmt: skip
            o = label_rows(
                window.ts,
                window.px,
                t,
                batch.column("level_px").to_numpy(),
                batch.column("spot_px").to_numpy(),
                side,
                horizons,
                cfg.barrier_units,
                end_ns,
            )
            writer.put(_table(batch, o, cfg.horizons_s))
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return writer.rows, final


def _nullable(x: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = np.isnan(x) if valid is None else ~valid
    return pa.array(x, type=pa.float64(), mask=mask)


def _table(batch: pa.RecordBatch, o: Outcomes, horizons_s: tuple[int, ...]) -> pa.Table:
    """The outcome rows of a Gold batch: each Gold row repeated once per horizon."""
    h = len(horizons_s)
    idx = pa.array(np.repeat(np.arange(batch.num_rows), h))
    keys = pa.Table.from_batches([batch.select(list(GOLD_KEYS))]).take(idx)
    far = o.code == OUTCOMES.index("FAR")
    names = pa.array(list(OUTCOMES), type=pa.string())
    arrays = {
        **{k: keys.column(k) for k in GOLD_KEYS},
        "horizon_s": pa.array(np.tile(np.asarray(horizons_s, np.int32), batch.num_rows)),
        "outcome": names.take(pa.array(o.code.astype(np.int32))),
        "t_hit_ms": _nullable(o.t_hit_ms),
        "mfe_pts": _nullable(o.mfe_pts, ~far),
        "mae_pts": _nullable(o.mae_pts, ~far),
        "fwd_ret_pts": _nullable(o.fwd_ret_pts, ~far),
        "label_end_ns": pa.array(o.label_end_ns, type=pa.int64()),
    }
    return pa.table([arrays[f.name] for f in LEVEL_OUTCOMES], schema=LEVEL_OUTCOMES)


class _OutcomesWriter:
    """Outcome rows into one Parquet file, in row groups of exactly ``OUTCOMES_ROW_GROUP`` rows
    (the last one shorter) whatever the batches it is handed: the same bytes for any chunking."""

    def __init__(self, final: Path, staging: Path):
        self.final = final
        self.tmp = temp_path_for(final, "writing", staging)
        self.tmp.parent.mkdir(parents=True, exist_ok=True)
        self._w = pq.ParquetWriter(
            self.tmp,
            LEVEL_OUTCOMES,
            use_dictionary=DICTIONARY_COLUMNS,  # repeated strings only: 20 % faster, smaller
            **PARQUET_OPTIONS,
        )
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.rows = 0
        self._encoder = OneInFlight("outcomes-encode")

    def put(self, t: pa.Table) -> None:
        self._pending.append(t)
        self._pending_rows += t.num_rows
        self.rows += t.num_rows
        while self._pending_rows >= OUTCOMES_ROW_GROUP:
            all_ = pa.concat_tables(self._pending)
            self._write(all_.slice(0, OUTCOMES_ROW_GROUP))
            rest = all_.slice(OUTCOMES_ROW_GROUP)
            self._pending, self._pending_rows = [rest], rest.num_rows

    def _write(self, t: pa.Table) -> None:
        """Encoded while the next batch is labelled; the bytes of a synchronous write."""
        self._encoder.submit(
            self._w.write_table, t.combine_chunks(), row_group_size=OUTCOMES_ROW_GROUP
        )

    def commit(self) -> None:
        if self._pending_rows or self.rows == 0:
            self._write(pa.concat_tables(self._pending) if self._pending else
                        LEVEL_OUTCOMES.empty_table())  # fmt: skip
        self._encoder.stop()
        self._w.close()
        commit(self.tmp, self.final)

    def abort(self) -> None:
        with contextlib.suppress(BaseException):  # a failed write: the temp file goes anyway
            self._encoder.stop()
        try:
            self._w.close()
        finally:
            self.tmp.unlink(missing_ok=True)


def run_label_job(job: LabelJob, on_snap: object = None, resume: bool = False) -> SessionReport:
    """Label one session for an executor: never raises (a failure is the report's reason).
    Current labels kept are RESUMED; relabelled stale ones say so in ``reason``."""
    t0 = time.perf_counter()
    try:
        r = label_session(job)
    except LevelReplayError as exc:
        return SessionReport(job.date, FAILED, str(exc), seconds=time.perf_counter() - t0)
    except Exception as exc:  # one session's crash must not stop the others
        why = f"{type(exc).__name__}: {exc}"
        return SessionReport(job.date, FAILED, why, seconds=time.perf_counter() - t0)
    note = None if r.was in (CURRENT, MISSING) else f"labels were {r.was}: relabelled"
    return SessionReport(
        job.date,
        RESUMED if r.kept else OK,
        note,
        rows=r.rows,
        digest=r.digest,
        outputs_digest=r.outputs_digest,
        seconds=r.seconds,
    )


def label_jobs(job: LabelJob, end: dt.date | None) -> tuple[list[LabelJob], list[SessionReport]]:
    """A job for every session of the range with Gold in ``job.out`` (a single date is always a
    job, so a missing Gold fails with its own message); other dates are SKIPPED."""
    if end is None:
        return [job], []
    jobs, skipped = [], []
    for d in date_range(job.date, end):
        if manifest_file(job.out, d).exists() or gold_file(job.out, d).exists():
            jobs.append(dataclasses.replace(job, date=d))
        else:
            skipped.append(SessionReport(d, SKIPPED, "no Gold in this run"))
    return jobs, skipped


def label_notes(run: Path) -> list[str]:
    """One line per session of a Gold run whose labels are not current (``verify``,
    ``regress``): labels are never used silently after their Gold changed."""
    root = run if (run / "gold").is_dir() else None
    if root is None:
        return []
    out = []
    for d in labelled_dates(root):
        st = label_state(root, d)
        if st.state != CURRENT:
            out.append(f"note: {st.reason.replace(f'session {d}', f'session {d} in {root}', 1)}")
    return out


STATUS_WORDS = {OK: "labelled", RESUMED: "current", FAILED: "failed", SKIPPED: "skipped"}


def label_summary_lines(reports: list[SessionReport]) -> list[str]:
    """A label run's table in date order: rows written (or kept), and the labels' digest."""
    lines = [f"{'session':<10}  {'labels':<8} {'rows':>10}  {'seconds':>7}  outputs digest"]
    for r in sorted(reports, key=lambda r: r.date):
        word = STATUS_WORDS[r.status]
        if r.status in (OK, RESUMED):
            tail = (r.outputs_digest or "")[:16] + (f"  ({r.reason})" if r.reason else "")
            lines.append(f"{r.date}  {word:<8} {r.rows:>10,}  {r.seconds:>7.1f}  {tail}")
        else:
            lines.append(f"{r.date}  {word:<8} {'':>10}  {'':>7}  {r.reason or ''}")
    n = {st: sum(r.status == st for r in reports) for st in STATUS_WORDS}
    lines.append(
        f"{n[OK]} labelled, {n[RESUMED]} current (kept), {n[FAILED]} failed; "
        f"{n[SKIPPED]} dates without Gold"
    )
    return lines


def label_mark(out: Path, date: dt.date) -> dict[str, str]:
    """What a golden file records of a session's labels: their ``outputs_digest``, the Gold
    ``outputs_digest`` they were built from, and the ``[labels]`` sha256."""
    det = read_manifest(outcomes_manifest(out, date))["deterministic"]
    return {
        "outputs_digest": det["outputs_digest"],
        "gold": det["gold_outputs_digest"],
        "labels_sha256": det["labels_sha256"],
    }
