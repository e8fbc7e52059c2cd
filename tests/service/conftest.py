"""Service fixtures: an app on a fresh database with the demo organisation, a movable clock, and
API tokens per demo user.

Every test that takes `database_url` (and so `app`, `runtime`, `client`, `auth`) runs twice: on SQLite
and on a real PostgreSQL that `tests/support/postgres.py` starts once per session (or the server of
`NOMFLOW_TEST_PG_URL`). Each test gets its own database, dropped afterwards.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.app import create_app
from service.core.config import ServiceConfig
from service.core.runtime import Runtime
from service.db.models import User
from service.usecases.accounts import actor_for_user, create_token
from service.usecases.setup import init_db, seed_demo
from tests.support.pki import LocalPki, local_pki
from tests.support.postgres import PostgresServer, PostgresUnavailable, free_port, server_for_tests
from workflows.clock import FixedClock

VN = timezone(timedelta(hours=7))
DEMO_PASSWORD = "demo-password-1"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 4, 13, 9, 0, tzinfo=VN))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Started on first use only, so `-k sqlite` runs need no PostgreSQL at all; shared by every
    conftest that defines or imports this fixture (see `server_for_tests`)."""
    try:
        server = server_for_tests()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPki]:
    """A demo PKI (CA, TSA, OCSP, CRL) on loopback, for tests that sign decisions."""
    with local_pki(tmp_path_factory.mktemp("pki"), free_port()) as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "pg"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each kind, private to the test and dropped after it. Empty, except for tests that
    use `app`: theirs already holds what the app fixture would write (see SeededTemplates)."""
    templates: SeededTemplates | None = None
    start: datetime | None = None
    if "app" in request.fixturenames:
        templates = request.getfixturevalue("seeded_templates")
        start = request.getfixturevalue("clock").now()
    if request.param == "sqlite":
        path = tmp_path / "nomflow.sqlite3"
        url = f"sqlite:///{path}"
        if templates is not None and start is not None:
            shutil.copyfile(templates.sqlite(start), path)
            templates.seeded.add(url)
        yield url
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    if templates is not None and start is not None:
        name = server.clone(templates.postgres(server, start))
        templates.seeded.add(server.url(name))
    else:
        name = server.new_name()
        server.create_database(name)
    yield server.url(name)
    server.drop_later(name)


class SeededTemplates:
    """`init_db` + `seed_demo` cost ~3 s (12 argon2 hashes), so they run once per backend and clock
    start, into a template; each test gets a copy: a file copy on SQLite (~1 ms), `CREATE DATABASE ...
    TEMPLATE` on PostgreSQL (~0.1 s). The copy is the same database the two calls would have written."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.built: dict[tuple[str, datetime], str] = {}
        self.seeded: set[str] = set()  # URLs handed out already holding the seed

    def sqlite(self, start: datetime) -> str:
        key = ("sqlite", start)
        if key not in self.built:
            path = self.directory / f"seeded{len(self.built) + 1}.sqlite3"
            _seed(f"sqlite:///{path}", start, self.directory)
            with sqlite3.connect(path) as db:  # fold the WAL into the file so one copy holds everything
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                db.execute("PRAGMA journal_mode=DELETE")
            self.built[key] = str(path)
        return self.built[key]

    def postgres(self, server: PostgresServer, start: datetime) -> str:
        key = ("postgresql", start)
        if key not in self.built:
            name = server.new_name("seeded")  # kept until the server stops (or dropped by prefix)
            _seed(server.create_database(name), start, self.directory)
            self.built[key] = name
        return self.built[key]


def _seed(url: str, start: datetime, instance_dir: Path) -> None:
    config = ServiceConfig(instance_dir=instance_dir, database_url=url, testing=True, secret_key="seed",
                           scheduler_in_process=False)
    runtime = Runtime(config, clock=FixedClock(start))
    try:
        init_db(runtime)
        seed_demo(runtime, DEMO_PASSWORD)
    finally:
        runtime.db.dispose()  # a PostgreSQL template must have no open connections


_templates: SeededTemplates | None = None


@pytest.fixture(scope="session")
def seeded_templates(tmp_path_factory: pytest.TempPathFactory) -> SeededTemplates:
    # One per process: tests/scheduler star-imports these fixtures, which makes a second definition.
    global _templates
    if _templates is None:
        _templates = SeededTemplates(tmp_path_factory.mktemp("seeded"))
    return _templates


@pytest.fixture
def app(tmp_path: Path, clock: FixedClock, database_url: str, seeded_templates: SeededTemplates) -> Iterator[Flask]:
    config = ServiceConfig(instance_dir=tmp_path, database_url=database_url, testing=True,
                           secret_key="test-secret", scheduler_in_process=False)
    app = create_app(config, clock=clock)
    runtime: Runtime = app.extensions["nomflow"]
    if database_url not in seeded_templates.seeded:  # reached through getfixturevalue: seed it here
        init_db(runtime)
        seed_demo(runtime, DEMO_PASSWORD)
    yield app
    runtime.db.dispose()


@pytest.fixture
def runtime(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["nomflow"]
    return rt


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(runtime: Runtime):
    """auth("canbo.hiennam") → headers with a fresh Bearer token of that demo user."""
    cache: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in cache:
            with runtime.uow() as uow:
                user_id = uow.session.scalars(select(User.id).where(User.username == username)).one()
            found = actor_for_user(runtime, user_id)
            assert found is not None
            cache[username] = {"Authorization": "Bearer " + create_token(runtime, found[0], "test")}
        return cache[username]

    return headers
