"""`nomflow serve` (gunicorn) as a real child process on a free port, for tests over real HTTP."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from service.core.config import ROOT
from tests.scheduler.worker_process import _die_with_parent
from tests.support.postgres import free_port


@dataclass
class Served:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        connection.connect()
        return connection

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                connection: http.client.HTTPConnection | None = None) -> tuple[int, dict[str, str], Any]:
        """(status, headers, decoded JSON body or None); over `connection` if given (kept open)."""
        own = connection is None
        connection = connection or self.connection()
        try:
            data = None if body is None else json.dumps(body).encode()
            sent = {**(headers or {}), **({"Content-Type": "application/json"} if data is not None else {})}
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            raw = response.read()
            decoded = json.loads(raw) if raw and "json" in (response.getheader("Content-Type") or "") else None
            return response.status, {k.lower(): v for k, v in response.getheaders()}, decoded
        finally:
            if own:
                connection.close()


@contextmanager
def serve(database_url: str, instance_dir: Path, threads: int = 8, env: dict[str, str] | None = None,
          wait_for: str = "/login", count: int = 1, frozen_at: datetime | None = None) -> Iterator[list[Served]]:
    """`count` `nomflow serve --no-scheduler` children on `database_url`, started together (each with its
    own instance folder and log under `instance_dir`); stopped with SIGTERM on leaving. With
    `frozen_at`, their clock stands at that instant (tests/support/frozen_cli.py)."""
    environment = {**os.environ, "DATABASE_URL": database_url, "NOMFLOW_SECRET_KEY": "served-test",
                   "NOMFLOW_SCHEDULER": "0", **(env or {})}
    started: list[Served] = []
    try:
        for index in range(count):
            folder = instance_dir / f"server{index}"
            folder.mkdir(parents=True, exist_ok=True)
            port, log = free_port(), folder / "server.log"
            entry = (["-c", "from service.cli import main; main()"] if frozen_at is None
                     else ["-m", "tests.support.frozen_cli", frozen_at.isoformat()])
            argv = [sys.executable, *entry, "serve", "--port", str(port), "--threads", str(threads), "--no-scheduler"]
            with log.open("ab") as out:
                process = subprocess.Popen(argv, env={**environment, "NOMFLOW_INSTANCE_DIR": str(folder)},
                                           cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
            started.append(Served(port, process, log))
        for served in started:
            _wait(served, wait_for)
        yield started
    finally:
        for served in started:
            served.process.terminate()
        for served in started:
            try:
                served.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                served.process.kill()
                served.process.wait()


def _wait(served: Served, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if served.process.poll() is not None:
            raise RuntimeError(f"nomflow serve exited ({served.process.returncode}):\n"
                               f"{served.log.read_text()[-3000:]}")
        try:
            if served.request("GET", path)[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"nomflow serve did not answer {path}:\n{served.log.read_text()[-3000:]}")
        time.sleep(0.1)
