"""Gold and manifest of a live session: the same writer, layout, lock and pair rules as replay.

The session's date is known from its start message, so the writer is made then (``open``). The
Gold file is committed at the session's end, then its manifest (SPEC §3.2), whose one input is the
NATS stream: its name, the records applied and a sha256 over them in order (``LiveSession``).
A live run killed before the end leaves only a temp file, removed by the next writer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from pathlib import Path

from engines.contract.config import EngineConfig
from replay.common.hashing import sha256_file
from replay.common.locks import file_lock
from replay.gold.layout import (
    gold_file,
    manifest_file,
    output_key,
    session_lock,
    staging_dir,
    stale_temps,
)
from replay.gold.manifest import run_info, write_manifest
from replay.gold.writer import GoldWriter
from replay.live import subjects as sj
from replay.live.session import LiveSession
from replay.run.replay_job import check_existing
from replay.run.session import PartitionInfo, SessionSources
from replay.run.session_manifest import session_manifest


class LiveGold:
    """Opened by the session start; committed (with its manifest) after the session end."""

    def __init__(self, out: Path, force: bool = False, wait: bool = True) -> None:
        self.out = out
        self.force = force
        self.wait = wait
        self.writer: GoldWriter | None = None
        self._locks = contextlib.ExitStack()
        self._started = time.time()

    def open(self, start: sj.SessionStart) -> GoldWriter:
        date = start.date
        self._locks.enter_context(
            file_lock(session_lock(self.out, date), f"session {date} of {self.out}", wait=self.wait)
        )
        for tmp in stale_temps(self.out, date):
            tmp.unlink(missing_ok=True)
        check_existing(self.out, date, self.force)
        self.writer = GoldWriter(gold_file(self.out, date), staging_dir(self.out))
        return self.writer

    def commit(self, cfg: EngineConfig, session: LiveSession, stream: str, run: dict) -> Path:
        """Gold, then its manifest; returns the manifest's path."""
        assert self.writer is not None and session.setup is not None and session.engine
        setup = session.setup
        gold = self.writer.commit()
        sources = SessionSources(
            date=setup.date,
            primary_id=setup.primary_id,
            primary_symbol=setup.primary_symbol,
            depth_path=None,
            trades_path=None,
            options_path=None,
            trades_from_depth=bool(session.start and session.start.trades_from_depth),
            silver_path=None,
            options=setup.options,
            option_trades_without_definition=0,
            partitions=(
                PartitionInfo("nats", f"nats:{stream}", session.digest(), session.counts.records),
            ),
            ingest_quality={},
        )
        info = run_info(_iso(self._started), time.time() - self._started, None, 1, "live")
        manifest = session_manifest(
            cfg=cfg,
            sources=sources,
            setup=setup,
            counters=session.engine.counters(),
            rows=self.writer.rows,
            outputs={output_key(self.out, gold): sha256_file(gold)},
            run=info | run,
        )
        man = manifest_file(self.out, setup.date)
        write_manifest(man, manifest, staging_dir(self.out))
        return man

    def close(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.abort()
        self._locks.close()


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
