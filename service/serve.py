"""`nomflow serve`: gunicorn for the web, and the background jobs in a process of their own.

With the jobs on (NOMFLOW_SCHEDULER=1, the embedded default) this process forks two children and
watches them: the gunicorn arbiter (which forks its web worker) and a jobs process running what
`nomflow worker` runs. The jobs used to run as threads inside the web worker, where they competed
with every request for the interpreter lock; in a process of their own they do not, and a mail a
request enqueues rings them awake (jobs/wakeup.py).

SIGTERM or SIGINT here is passed on as SIGTERM to both children, which stop gracefully within
NOMFLOW_SHUTDOWN_GRACE seconds: gunicorn stops accepting connections and lets the requests under
way finish (its graceful_timeout), the jobs end their current batch or mail (jobs/scheduler.py).
Whatever is still running after that is killed: its transaction was never committed, so nothing of
it is written. This process then exits 0 if both children did. If the jobs process dies on its
own it is started again; if the web server dies, the jobs are stopped and this process exits 1,
for systemd (or whoever started it) to restart the whole.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from flask import Flask

from service.core.runtime import Runtime

log = logging.getLogger(__name__)

# The children have this much longer than the grace period to exit before they are killed: the
# arbiter needs a moment after its own graceful timeout to kill a stuck web worker and exit.
KILL_MARGIN = 5.0
RESTART_DELAY = 2.0


def serve(app: Flask, runtime: Runtime, host: str, port: int, threads: int, with_jobs: bool) -> None:
    """The caller warms the runtime up first (cli._warm_up): parsed before the forks, the diagrams
    are shared by the children."""
    if not with_jobs:
        run_web(app, runtime, host, port, threads)
        return
    sys.exit(Supervisor(runtime, {
        "web": lambda: run_web(app, runtime, host, port, threads),
        "jobs": lambda: run_jobs(runtime),
    }).run())


def run_web(app: Flask, runtime: Runtime, host: str, port: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", 1)
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")
            self.cfg.set("graceful_timeout", math.ceil(runtime.config.shutdown_grace))  # whole seconds
            # Connections opened before the fork (init-db, seeding) must not be shared with the worker.
            self.cfg.set("post_fork", lambda _server, _worker: runtime.db.dispose(close=False))

        def load(self) -> Any:
            return app

    _Server().run()


def run_jobs(runtime: Runtime) -> None:
    from service.jobs.scheduler import run_worker, worker_logging

    worker_logging()
    run_worker(runtime)


class Supervisor:
    def __init__(self, runtime: Runtime, roles: dict[str, Callable[[], None]]):
        self.runtime = runtime
        self.roles = roles
        self.children: dict[int, str] = {}
        self.stopping_since: float | None = None
        self.exit_code = 0

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for role in self.roles:
            self._start(role)
        kill_at = None
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                if self.stopping_since is not None:
                    kill_at = kill_at or self.stopping_since + self.runtime.config.shutdown_grace + KILL_MARGIN
                    if time.monotonic() > kill_at:
                        self._signal_all(signal.SIGKILL)
                time.sleep(0.1)
                continue
            self._ended(self.children.pop(pid, ""), os.waitstatus_to_exitcode(status))
        return self.exit_code

    def _ended(self, role: str, code: int) -> None:
        if self.stopping_since is not None:
            if code != 0:
                log.error("serve: %s exited with %s while stopping", role, code)
                self.exit_code = 1
            return
        log.error("serve: %s exited with %s", role, code)
        if role == "jobs":
            time.sleep(RESTART_DELAY)
            self._start(role)
        elif role:
            self.exit_code = 1
            self._stop(signal.SIGTERM, None)

    def _stop(self, _signum: int, _frame: Any) -> None:
        if self.stopping_since is None:
            self.stopping_since = time.monotonic()
        self._signal_all(signal.SIGTERM)

    def _signal_all(self, signum: int) -> None:
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def _start(self, role: str) -> None:
        pid = os.fork()
        if pid:
            self.children[pid] = role
            return
        code = 1
        try:
            self._become_child()
            self.roles[role]()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)  # not the parent's atexit handlers

    def _become_child(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        # A terminal's Ctrl-C reaches the whole foreground group: only this supervisor should get it
        # (it passes SIGTERM on), or gunicorn would take SIGINT as "stop now" and cut requests off.
        os.setpgid(0, 0)
        _die_with_parent()
        self.runtime.db.dispose(close=False)  # the parent's connections stay the parent's


def _die_with_parent() -> None:
    """If the supervisor is killed outright, its children get SIGTERM instead of running on unwatched."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
