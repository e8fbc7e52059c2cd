"""The signed-in check of every request retries once on a fresh connection when the pooled one is
dead (its pool does not ping): on SQLite too (issue 16, loose ends: this retry had no test)."""

from __future__ import annotations

from typing import Any

from service.core.runtime import Runtime

from .conftest import log_in


def test_a_dead_pooled_connection_costs_the_signed_in_user_nothing(runtime: Runtime, app: Any) -> None:
    client = app.test_client()
    log_in(client, "chuyenvien.khcn")
    runtime.db.dispose()  # one pooled connection from now on: the one broken below
    pooled = runtime.db.engine.raw_connection()
    dbapi = pooled.dbapi_connection
    pooled.close()  # back in the pool, healthy...
    dbapi.close()  # ...then gone under the pool's feet (a file restored, a server restarted)
    page = client.get("/inbox")
    assert page.status_code == 200 and "Việc cần xử lý" in page.text
