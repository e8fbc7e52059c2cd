"""A throwaway PostgreSQL server for the tests, started from the Debian package's binaries.

`PostgresServer.start()` runs `initdb` into a temporary directory and `pg_ctl start` on 127.0.0.1 with
a free port, the unix socket inside that directory and durability switched off (fsync,
synchronous_commit, full_page_writes): the data dies with the test session anyway. PostgreSQL refuses
to run as root, so as root the cluster belongs to an unprivileged system user (`nomflow-test`, created
with `useradd --system` when missing) and the binaries run through `runuser`.

`NOMFLOW_TEST_PG_URL` (e.g. `postgresql+psycopg://me:secret@db.local:5432/postgres`, a role allowed to
CREATE DATABASE) points the tests at an existing server instead; they create and drop their own
databases there, under a per-process name prefix.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

ENV_URL = "NOMFLOW_TEST_PG_URL"
SERVER_USER = "nomflow-test"  # the OS account that owns the cluster when the tests run as root
DB_SUPERUSER = "nomflow"  # the database role initdb creates; trust auth on loopback only
SEARCH_DIRS = ("/usr/lib/postgresql/*/bin", "/usr/local/bin", "/usr/local/pgsql/bin")
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "100",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",  # no replication: less WAL per CREATE DATABASE and per test
    "max_wal_senders": "0",
    "wal_init_zero": "off",
    # Deliberately not UTC, as on a server set up in Vietnam: the service must not depend on it.
    "timezone": "'Asia/Ho_Chi_Minh'",
    "log_min_messages": "warning",
    "logging_collector": "off",
}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries: the message says how to get them."""


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl: PATH first, then the Debian layout (newest major)."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    for pattern in SEARCH_DIRS:
        found = [Path(p) for p in glob.glob(pattern)]
        candidates += sorted(found, key=lambda p: _major(p), reverse=True)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH nor in "
        f"{', '.join(SEARCH_DIRS)}. Run `make test`: it installs the Debian `postgresql` package when it "
        f"is missing (or `apt-get install -y postgresql` as root), or set {ENV_URL} to use an existing server."
    )


def _major(path: Path) -> int:
    parent = path.parent.name
    return int(parent) if parent.isdigit() else 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_account() -> str | None:
    """The OS user to run PostgreSQL as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        created = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", SERVER_USER], capture_output=True, text=True)
        if created.returncode != 0:
            try:
                pwd.getpwnam(SERVER_USER)  # another test process created it meanwhile
            except KeyError:
                return "nobody"
    return SERVER_USER


@dataclass
class PostgresServer:
    """One server for the whole test session; a fresh database per test (`create_database`, `clone`)."""

    admin_url: URL
    prefix: str = "t"
    _owned_dir: Path | None = None
    _bindir: Path | None = None
    _account: str | None = None
    _counter: int = 0
    _admin: psycopg.Connection | None = field(default=None, repr=False)
    # One background thread with its own connection makes the next copy of a template while a test runs.
    _worker: ThreadPoolExecutor | None = field(default=None, repr=False)
    _worker_admin: psycopg.Connection | None = field(default=None, repr=False)
    _spares: dict[str, Future[str]] = field(default_factory=dict, repr=False)
    _dropping: list[Future[str]] = field(default_factory=list, repr=False)
    _watchdog: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    stopped: bool = False

    # ---- life cycle -------------------------------------------------------------------------------

    @classmethod
    def start(cls, attempts: int = 3) -> PostgresServer:
        bindir = find_bindir()
        account = server_account()
        base = Path(tempfile.mkdtemp(prefix="nomflow-pg-"))
        try:
            if account:
                shutil.chown(base, account)
            data = base / "data"
            _run(account, base, [str(bindir / "initdb"), "-D", str(data), "-U", DB_SUPERUSER,
                                 "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"])
            with (data / "postgresql.conf").open("a") as conf:
                conf.write("\n# nomflow tests: a throwaway cluster, speed over durability\n")
                conf.write(f"unix_socket_directories = '{base}'\n")
                for key, value in SETTINGS.items():
                    conf.write(f"{key} = {value}\n")
            for attempt in range(attempts):
                port = free_port()  # another process may grab it before the server binds: retry then
                started = _run(account, base, [str(bindir / "pg_ctl"), "start", "-D", str(data), "-w", "-t", "60",
                                               "-l", str(base / "server.log"), "-o", f"-p {port}"], check=False)
                if started.returncode == 0:
                    break
                if attempt == attempts - 1:
                    log = (base / "server.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"pg_ctl start failed:\n{started.stdout}{started.stderr}\n{log}")
            server = cls(URL.create("postgresql+psycopg", username=DB_SUPERUSER, host="127.0.0.1", port=port,
                                    database="postgres"), _owned_dir=base, _bindir=bindir, _account=account)
            server._watchdog = _watchdog(bindir, account, base)
            server.admin()  # fail here, not in the first test, if it does not answer
            atexit.register(server.stop)  # in case the session ends without its fixture teardown
            return server
        except BaseException:
            _stop_cluster(bindir, account, base)
            raise

    def pause(self) -> None:
        """An outage: stop this (owned) server, keeping its data; `resume()` starts it on the same port."""
        assert self._owned_dir is not None and self._bindir is not None, "only a server started here"
        _run(self._account, self._owned_dir, [str(self._bindir / "pg_ctl"), "stop", "-D",
                                              str(self._owned_dir / "data"), "-m", "fast", "-w"])

    def resume(self) -> None:
        assert self._owned_dir is not None and self._bindir is not None, "only a server started here"
        data, log = self._owned_dir / "data", self._owned_dir / "server.log"
        _run(self._account, self._owned_dir, [str(self._bindir / "pg_ctl"), "start", "-D", str(data), "-w", "-t", "60",
                                              "-l", str(log), "-o", f"-p {self.admin_url.port}"])

    @classmethod
    def from_url(cls, url: str) -> PostgresServer:
        """An existing server: its databases get a per-process prefix so parallel runs do not collide."""
        parsed = make_url(url).set(drivername="postgresql+psycopg")
        return cls(parsed, prefix=f"nomflow_test_{os.getpid()}_")

    def stop(self) -> None:
        """Idempotent: the fixture's teardown and the atexit hook may both call it."""
        self.stopped = True
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
            self._spares.clear()
            if self._worker_admin is not None:
                self._worker_admin.close()
            failed = [f.exception() for f in self._dropping if f.exception()]
            self._dropping.clear()
            if failed:
                warnings.warn(f"test databases not dropped: {failed}", stacklevel=1)
        if self._admin is not None:
            if self._owned_dir is None:  # a shared server: leave nothing behind
                for name in self._leftovers():
                    self.drop_database(name)
            self._admin.close()
            self._admin = None
        if self._owned_dir is not None and self._bindir is not None:
            _stop_cluster(self._bindir, self._account, self._owned_dir)
            self._owned_dir = None
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None

    # ---- databases --------------------------------------------------------------------------------

    def admin(self) -> psycopg.Connection:
        if self._admin is None or self._admin.closed:
            self._admin = self._connect()
        return self._admin

    def _connect(self) -> psycopg.Connection:
        u = self.admin_url
        return psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                               dbname=u.database or "postgres", autocommit=True, connect_timeout=10)

    def url(self, database: str) -> str:
        return self.admin_url.set(database=database).render_as_string(hide_password=False)

    def new_name(self, label: str = "") -> str:
        self._counter += 1
        return f"{self.prefix}{label}{self._counter}"

    def create_database(self, name: str, template: str = "template0") -> str:
        """`CREATE DATABASE name TEMPLATE template`; the template must have no open connections."""
        _create(self.admin(), name, template)
        return self.url(name)

    def clone(self, template: str) -> str:
        """A fresh database copied from `template`, its name. The next copy is made in the background
        while the caller's test runs, so a test only waits for a copy when it outruns the copying."""
        spare = self._spares.pop(template, None)
        if spare is not None:
            name = spare.result()
        else:
            name = self.new_name()
            self.create_database(name, template)
        self._spares[template] = self._in_background(_create, self.new_name(), template)
        return name

    def drop_later(self, name: str) -> None:
        """Drop in the background; `stop()` reports a failure."""
        self._dropping.append(self._in_background(_drop, name))

    def _in_background(self, action: Callable[..., None], *args: str) -> Future[str]:
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nomflow-pg")

        def run() -> str:
            if self._worker_admin is None:
                self._worker_admin = self._connect()
            action(self._worker_admin, *args)
            return args[0]

        return self._worker.submit(run)

    def drop_database(self, name: str) -> None:
        _drop(self.admin(), name)

    def _leftovers(self) -> list[str]:
        rows = self.admin().execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                    (self.prefix.replace("_", r"\_") + "%",)).fetchall()
        return [r[0] for r in rows]


def _create(admin: psycopg.Connection, name: str, template: str = "template0") -> None:
    # PostgreSQL 15 copies a template through the WAL by default; copying its files is faster here,
    # where the checkpoints that FILE_COPY needs cost little (fsync is off).
    strategy = sql.SQL(" STRATEGY FILE_COPY" if admin.info.server_version >= 150000 else "")
    admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
        sql.Identifier(name), sql.Identifier(template), strategy))


def _drop(admin: psycopg.Connection, name: str, *_: str) -> None:
    # FORCE (PostgreSQL 13+) ends connections a test forgot to close.
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _run(account: str | None, cwd: Path, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    command = ["runuser", "-u", account, "--", *argv] if account else argv
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TZ": "UTC"}
    # cwd: the server user may not enter the directory pytest runs in.
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


def _watchdog(bindir: Path, account: str | None, base: Path) -> subprocess.Popen[bytes]:
    """A shell that outlives a killed test run (SIGKILL skips every teardown) just long enough to stop
    its server and remove its directory; `stop()` ends it when the run ends normally."""
    stop = [str(bindir / "pg_ctl"), "stop", "-D", str(base / "data"), "-m", "immediate"]
    stop = ["runuser", "-u", account, "--", *stop] if account else stop
    script = (f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
              f"{shlex.join(stop)} >/dev/null 2>&1; rm -rf {shlex.quote(str(base))}")
    return subprocess.Popen(["sh", "-c", script], start_new_session=True, cwd=base, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop_cluster(bindir: Path, account: str | None, base: Path) -> None:
    data = base / "data"
    if (data / "postmaster.pid").exists():
        with contextlib.suppress(Exception):
            _run(account, base, [str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate", "-w"],
                 check=False)
    for _ in range(50):  # the postmaster removes its pid file last
        if not (data / "postmaster.pid").exists():
            break
        time.sleep(0.1)
    shutil.rmtree(base, ignore_errors=True)


_shared: PostgresServer | None = None


def server_for_tests() -> PostgresServer:
    """The process's one test server, made on first call: `NOMFLOW_TEST_PG_URL`'s if set, else a fresh
    local one. One per process even when several conftests define (or star-import) the fixture."""
    global _shared
    if _shared is None or _shared.stopped:
        url = os.environ.get(ENV_URL)
        _shared = PostgresServer.from_url(url) if url else PostgresServer.start()
    return _shared
