"""A database outage under a real `nomflow serve` (issue 13, point 8): PostgreSQL stopped under it,
then started again. Every request that needs the database answers 503 with Retry-After and logs one
line (no traceback), /healthz stays 200, /readyz answers 503 until the database is back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.core.config import ServiceConfig
from service.core.runtime import Runtime
from service.usecases.setup import init_db
from tests.support.postgres import PostgresServer, PostgresUnavailable
from tests.support.served import Served, serve

BEARER = {"Authorization": "Bearer not-a-token-but-needs-the-database-to-say-so"}
FAILING = [("GET", "/api/v1/tasks", BEARER), ("GET", "/api/v1/nominations", BEARER),
           ("POST", "/api/v1/nominations", BEARER), ("GET", "/inbox", {**BEARER, "Accept": "text/html"})]


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A cluster of this test's own: stopping the session's shared one would fail the other tests."""
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def served(own_postgres: PostgresServer, tmp_path: Path) -> Iterator[Served]:
    url = own_postgres.create_database("outage")
    runtime = Runtime(ServiceConfig(instance_dir=tmp_path, database_url=url, secret_key="outage",
                                    scheduler_in_process=False))
    try:
        init_db(runtime)
    finally:
        runtime.db.dispose()
    with serve(url, tmp_path, threads=4, wait_for="/readyz") as (server,):
        yield server


def test_outage_answers_503_with_retry_after_and_one_log_line_each(own_postgres: PostgresServer, served: Served):
    assert served.request("GET", "/readyz")[::2] == (200, {"status": "ready", "database": "ok", "migrations": "head"})
    assert served.request(*FAILING[0][:2], headers=BEARER)[0] == 401  # the database answered: no such token

    own_postgres.pause()
    logged_before = served.log.read_text(errors="replace")
    for method, path, headers in FAILING * 3:
        status, response_headers, body = served.request(method, path, headers=headers)
        assert status == 503, (method, path, status, body)
        assert int(response_headers["retry-after"]) > 0
        if path.startswith("/api/"):
            assert response_headers["content-type"] == "application/problem+json"
            assert body["status"] == 503 and "Cơ sở dữ liệu" in body["detail"]
    assert served.request("GET", "/healthz")[::2] == (200, {"status": "ok"})
    status, response_headers, body = served.request("GET", "/readyz")
    assert (status, body["database"]) == (503, "unavailable") and int(response_headers["retry-after"]) > 0

    new_lines = served.log.read_text(errors="replace")[len(logged_before):].splitlines()
    failures = [line for line in new_lines if "database unavailable" in line]
    assert len(failures) == len(FAILING) * 3 + 1, "\n".join(new_lines)  # + the /readyz probe
    assert not any("Traceback" in line for line in new_lines), "\n".join(new_lines)
    # Besides those, only the access log's one line per request.
    others = [line for line in new_lines if line not in failures and '" 503 ' not in line and '" 200 ' not in line]
    assert not others, "\n".join(others)

    own_postgres.resume()
    assert served.request("GET", "/readyz")[0] == 200
    assert served.request(*FAILING[0][:2], headers=BEARER)[0] == 401  # served again, no restart needed


def test_readyz_says_when_migrations_are_not_at_head(own_postgres: PostgresServer, tmp_path: Path):
    url = own_postgres.create_database("empty")  # reachable, but never migrated
    with serve(url, tmp_path, threads=2, wait_for="/healthz") as (server,):
        status, headers, body = server.request("GET", "/readyz")
    assert (status, body["database"], body["migrations"]) == (503, "ok", "none")
    assert int(headers["retry-after"]) > 0
