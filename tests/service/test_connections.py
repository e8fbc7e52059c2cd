"""Requests survive the database dropping every pooled connection (a PostgreSQL restart, a
connection killed by an administrator): the sign-in lookup, which skips the pool's ping, retries once."""

from __future__ import annotations

import psycopg
from flask.testing import FlaskClient
from sqlalchemy import make_url

from service.core.runtime import Runtime


def _drop_connections(runtime: Runtime) -> None:
    if runtime.db.is_sqlite:
        runtime.db.dispose()  # a file database has no server side to drop them
        return
    url = make_url(runtime.db.url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:  # outside both pools, so none of theirs survives
        killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
    assert killed is not None and killed[0] >= 2


def test_requests_after_every_connection_was_dropped_succeed(client: FlaskClient, runtime: Runtime, auth):
    headers = auth("canbo.hiennam")
    for _ in range(3):  # fill both pools with connections the server will drop
        assert client.get("/api/v1/tasks?scope=queue", headers=headers).status_code == 200
    _drop_connections(runtime)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["username"] == "canbo.hiennam"
    assert client.get("/api/v1/tasks?scope=queue", headers=headers).status_code == 200
