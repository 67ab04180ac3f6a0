"""Sessions on a Dask distributed cluster (``--scheduler``, SPEC §7), bounded in time.

Nothing here waits without a limit: the address must be a Dask TCP address; the scheduler must
answer Dask's own handshake and an ``identity`` call within ``connect_timeout`` (a silent
listener, an HTTP server or a program answering garbage is named at once, not waited on); while
sessions run, a cluster with no worker left (the last one lost) or a scheduler that stops
answering fails the sessions still pending after ``connect_timeout``, and a session whose worker
died is rerun by the scheduler on another worker (its writes are atomic and idempotent). Paths
travel absolute (a relative ``--lake`` means the client's working directory, never a worker's),
and each session a worker reports done is checked from the client: the pair must be visible
here and whole, or the session failed ("written where this client cannot see it").
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import re
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from replay.common.errors import UserError
from replay.gold.manifest import OUTPUT_LIBRARIES, code_digest, library_versions

DEFAULT_CONNECT_TIMEOUT = 10.0
_ADDRESS = re.compile(r"tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})")
EXPECTED_ADDRESS = "a Dask scheduler address tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)"


def scheduler_address(text: str) -> str:
    """``--scheduler`` checked: ``tcp://HOST:PORT`` with a port in 1..65535 (Dask's other
    transports — inproc, ucx, tls — need setup a command line cannot carry)."""
    m = _ADDRESS.fullmatch(text)
    if m is None or not 0 < int(m["port"]) < 65536:
        raise UserError(f"--scheduler {text!r} is not a Dask address", expected=EXPECTED_ADDRESS)
    return text


def check_connect_timeout(seconds: float) -> float:
    if not (0 < seconds <= 600):
        raise UserError(f"--connect-timeout {seconds}", expected="seconds in (0, 600]")
    return seconds


async def _identity(address: str, timeout: float) -> object:
    from distributed.comm import connect

    comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
    try:
        await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
        return await asyncio.wait_for(comm.read(), timeout)
    finally:
        comm.abort()


def _reachable(address: str, timeout: float) -> None:
    """A plain TCP connect first: a refused port is known at once, where Dask's own connect
    retries it with backoff for the whole timeout."""
    m = _ADDRESS.fullmatch(address)
    assert m is not None  # scheduler_address checked it
    with socket.create_connection((m["host"].strip("[]"), int(m["port"])), timeout=timeout):
        pass


def probe_scheduler(address: str, timeout: float) -> dict[str, Any]:
    """The scheduler's identity, asked in Dask's own protocol within ``timeout`` seconds; a user
    error naming the address when nothing, or something other than a Dask scheduler, answers."""
    try:
        _reachable(address, timeout)
        ident = asyncio.run(_identity(address, timeout))
    except ConnectionRefusedError:
        why = "nothing listens there (connection refused)"
    except TimeoutError:
        why = f"no Dask handshake within {timeout:g} s (nothing listening, or not a scheduler)"
    except OSError as exc:  # no route, unknown host
        why = f"it cannot be reached ({type(exc).__name__}: {str(exc)[:120]})"
    except Exception as exc:  # refused, reset, or bytes that are not Dask's (any decoder error)
        why = f"it does not speak Dask's protocol ({type(exc).__name__}: {str(exc)[:120]})"
    else:
        if isinstance(ident, dict) and ident.get("type") == "Scheduler":
            return ident
        why = f"it answered, but not as a Dask scheduler ({str(ident)[:120]!r})"
    raise UserError(
        f"cannot use the Dask scheduler: {why}",
        path=address,
        expected=f"a running Dask scheduler (dask scheduler, or a LocalCluster) at that address; "
        f"--connect-timeout sets the wait ({timeout:g} s)",
    )


def task_key(job: Any, nonce: str) -> str:
    """A Dask task key for one session (SPEC §7): a hash of the whole job plus this run's nonce,
    so no two runs (and no two different jobs) ever share a key or a cached result."""
    command = getattr(job, "command", "replay")
    doc = dataclasses.asdict(job) | {"command": command, "config": job.config.to_dict()}
    blob = json.dumps(doc, sort_keys=True, default=str).encode()
    return f"{command}-{job.date.isoformat()}-{hashlib.sha256(blob).hexdigest()[:16]}-{nonce}"


def build_identity() -> dict[str, object]:
    """What a worker must share with the client: the code digest and the versions of the
    libraries that shape Gold bytes."""
    return {"code_digest": code_digest(), "libraries": library_versions(OUTPUT_LIBRARIES)}


def check_workers(identities: dict[str, dict[str, object]], mine: dict[str, object]) -> None:
    """Refuse a cluster whose workers run other code or other output-shaping libraries."""
    if not identities:
        raise UserError("the Dask cluster has no workers", expected="at least one worker")
    bad = sorted(w for w, ident in identities.items() if ident != mine)
    if bad:
        raise UserError(
            f"{len(bad)} Dask worker(s) run other code or libraries than this client: "
            f"{', '.join(bad)} (worker {identities[bad[0]]}, client {mine})",
            expected="workers installed from the same commit and requirements.lock",
        )


def absolute_paths(job: Any) -> Any:
    """The job with every path field absolute in this (the client's) working directory."""
    changes = {
        f.name: Path(v).absolute()
        for f in dataclasses.fields(job)
        if isinstance(v := getattr(job, f.name), Path)
    }
    return dataclasses.replace(job, **changes)


def _cluster_problem(client: Any, address: str, timeout: float) -> str | None:
    """Why the cluster cannot finish the pending sessions now (None: it can)."""
    if client.status not in ("running", "connecting"):
        return f"the Dask scheduler at {address} was lost (client {client.status})"
    try:
        ident = client.sync(client.scheduler.identity, n_workers=0, callback_timeout=timeout)
    except Exception as exc:
        return f"the Dask scheduler at {address} stopped answering ({type(exc).__name__})"
    if not ident.get("n_workers"):
        return f"the Dask cluster at {address} has no worker left (lost)"
    return None


def _finished(futures: list[Any], within: float) -> list[Any]:
    """The futures that have finished, polled for up to ``within`` seconds.

    Polled rather than ``distributed.wait``: that needs a default client, and this client is
    never made the default (a library call must not change the caller's global Dask state)."""
    deadline = time.monotonic() + within
    while True:
        done = [f for f in futures if f.done()]
        if done or time.monotonic() >= deadline:
            return done
        time.sleep(0.05)


FETCH_TRIES = 3
"""How many times a finished session's result is asked for (``connect_timeout`` each) before
the session is failed: a result held by a worker that died is recomputed by the scheduler."""


def _quiet_abandoned_fetches(client: Any) -> None:
    """Drop the ``AllExit`` of a result fetch given up on (its worker was lost): distributed
    raises it in a background task when the client closes, and asyncio would print that task's
    traceback on stderr though the session was already reported failed. Everything else still
    reaches asyncio's handler."""
    from distributed.client import AllExit

    loop = client.loop.asyncio_loop
    previous = loop.get_exception_handler()

    def handler(lp: Any, context: dict[str, Any]) -> None:
        if isinstance(context.get("exception"), AllExit):
            return
        if previous is not None:
            previous(lp, context)
        else:
            lp.default_exception_handler(context)

    loop.set_exception_handler(handler)


@contextlib.contextmanager
def _distributed_logs_silenced() -> Iterator[None]:
    """Keep distributed's own log lines (reconnect attempts and their tracebacks, lost workers)
    off stderr while a run is on: every loss they describe reaches the user once, as a FAILED
    session naming the address, and a traceback there reads as a crash of this tool."""
    import distributed  # noqa: F401  (its import sets the levels saved and restored here)

    names = [
        "distributed",
        *(n for n in logging.root.manager.loggerDict if n.startswith("distributed.")),
    ]
    saved = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for n, level in saved.items():
            logging.getLogger(n).setLevel(level)


def _lost_reason(exc: BaseException, address: str) -> str:
    """Why the scheduler gave up a session, in a line: a cancelled future means the client lost
    the scheduler; anything else (KilledWorker: it killed each worker it ran on) as it came."""
    if "scheduler-connection-lost" in str(exc) or type(exc).__name__ == "FutureCancelledError":
        return f"the Dask scheduler at {address} was lost while it ran"
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"task lost ({type(exc).__name__}: {first[:200]})"


def run_dask(
    jobs: list[Any],
    scheduler: str,
    resume: bool,
    runner: Any,
    confirm: Any,
    failed: Any,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> Iterator[Any]:
    """The jobs on a Dask cluster, one task per session, each report yielded as it completes.

    ``confirm(job, report)`` checks a worker's report from the client (a report in return);
    ``failed(job, reason)`` makes a FAILED report. Sessions still pending when the cluster has
    had no worker, or no answering scheduler, for ``connect_timeout`` seconds are failed."""
    address = scheduler_address(scheduler)
    check_connect_timeout(connect_timeout)
    with _distributed_logs_silenced():
        yield from _run_dask(jobs, address, resume, runner, confirm, failed, connect_timeout)


def _run_dask(
    jobs: list[Any],
    address: str,
    resume: bool,
    runner: Any,
    confirm: Any,
    failed: Any,
    connect_timeout: float,
) -> Iterator[Any]:
    from distributed import Client

    probe_scheduler(address, connect_timeout)
    try:
        client = Client(address, timeout=f"{connect_timeout}s", set_as_default=False)
    except Exception as exc:
        raise UserError(
            f"cannot connect to the Dask scheduler ({type(exc).__name__}: {str(exc)[:120]})",
            path=address,
            expected="a running scheduler at tcp://host:port",
        ) from None
    _quiet_abandoned_fetches(client)
    try:
        check_workers(client.run(build_identity), build_identity())
        nonce = secrets.token_hex(8)  # per run: never a result cached from another run
        n = len(client.scheduler_info().get("workers", {}))
        jobs = [absolute_paths(dataclasses.replace(j, executor="dask", workers=n)) for j in jobs]
        pending = {
            client.submit(runner, job, None, resume, key=task_key(job, nonce), pure=False): job
            for job in jobs
        }
        trouble_since: float | None = None
        misses: dict[Any, int] = {}
        while pending:
            done = _finished(list(pending), within=1.0)
            for fut in sorted(done, key=lambda f: pending[f].date):
                job = pending[fut]
                try:
                    rep = fut.result(timeout=connect_timeout)
                except TimeoutError:  # its result sat on a worker since lost: recomputed, or
                    misses[job.date] = misses.get(job.date, 0) + 1  # failed when no worker is
                    if misses[job.date] < FETCH_TRIES:  # left (below) or after FETCH_TRIES
                        continue
                    del pending[fut]
                    yield failed(
                        job,
                        f"its result could not be fetched from the Dask cluster at {address} "
                        f"in {FETCH_TRIES} tries of {connect_timeout:g} s",
                    )
                    continue
                except Exception as exc:  # the scheduler gave up on it (KilledWorker)
                    del pending[fut]
                    yield failed(job, _lost_reason(exc, address))
                    continue
                del pending[fut]
                yield confirm(job, rep)
            if not pending or done:
                trouble_since = None
                continue
            problem = _cluster_problem(client, address, connect_timeout)
            if problem is None:
                trouble_since = None
                continue
            trouble_since = trouble_since or time.monotonic()
            if time.monotonic() - trouble_since >= connect_timeout:
                for fut, job in sorted(pending.items(), key=lambda kv: kv[1].date):
                    fut.release()
                    yield failed(job, f"{problem} for {connect_timeout:g} s; not waited on")
                pending.clear()
    finally:
        with contextlib.suppress(Exception):  # a lost scheduler cannot be told goodbye
            client.close(timeout=connect_timeout)
