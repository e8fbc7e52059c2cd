"""`nomflow worker` as a real subprocess, with its clock frozen (tests/support/frozen_cli.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from service.core.config import ROOT

MAIL_FROM = "nomflow <no-reply@nomflow.hungyen.gov.vn>"


def start_worker(database_url: str, instance_dir: Path, smtp_port: int, now: datetime,
                 log: Path, *extra: str, command: str = "worker",
                 env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`nomflow worker` (or `command`: "serve" and its options in `extra`) with the service's
    settings for this database and SMTP sink; `env` adds or overrides variables."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NOMFLOW_INSTANCE_DIR": str(instance_dir),
        "NOMFLOW_SECRET_KEY": "worker-test",
        "NOMFLOW_SCHEDULER": "0",
        "NOMFLOW_SMTP_HOST": "127.0.0.1",
        "NOMFLOW_SMTP_PORT": str(smtp_port),
        "NOMFLOW_SMTP_SECURITY": "none",
        "NOMFLOW_MAIL_FROM": MAIL_FROM,
        **(env or {}),
    }
    options = ["--wake-every", "0.2", "--deliver-every", "0.2", "--digest-at", "23:59"] if command == "worker" else []
    argv = [sys.executable, "-m", "tests.support.frozen_cli", now.isoformat(), command, *options, *extra]
    with log.open("ab") as out:
        # PR_SET_PDEATHSIG: if the test process itself dies, the worker gets SIGKILL instead of running on.
        return subprocess.Popen(argv, env=settings, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except OSError:
        pass


def wait_until(condition: Callable[[], bool], timeout: float, what: str, log: Path | None = None,
               interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")
