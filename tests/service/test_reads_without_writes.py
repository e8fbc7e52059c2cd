"""Reads never need a write (issue 13, point 7): with the database unable to write, every GET still
answers 200, for API tokens (whose last use is recorded, best effort) and browser sessions alike.

SQLite: the database file sits on a real 4 MB tmpfs that is then filled up (the attachments live
elsewhere, as by default). PostgreSQL: the database is switched to read-only transactions, so each
write fails as it would on a server whose disk is full.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import make_url

from service.app import create_app
from service.db.models import ApiToken
from service.usecases.accounts import create_token
from tests.support.smalldisk import fill, small_disk

from .helpers import ADMIN, STAFF, actor, assert_problem, create_nomination
from .test_full_disk import log_in, pdf


@pytest.fixture
def stuck_app(app, clock, tmp_path, database_url):
    """An app whose database takes reads but refuses writes once `refuse_writes()` was called."""
    base = app.extensions["nomflow"].config
    if database_url.startswith("sqlite"):
        with small_disk(tmp_path / "dbdisk", 4096) as disk:
            shutil.copyfile(make_url(database_url).database, disk / "nomflow.sqlite3")
            made = create_app(replace(base, database_url=f"sqlite:///{disk / 'nomflow.sqlite3'}",
                                      attachments_reserve_mb=0), clock=clock)

            def refuse_writes():
                raw = sqlite3.connect(disk / "nomflow.sqlite3", isolation_level=None)
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no WAL left to write into
                raw.close()
                fill(disk)

            yield made, refuse_writes
            made.extensions["nomflow"].db.dispose()
        return
    made = create_app(replace(base, attachments_reserve_mb=0), clock=clock)

    def refuse_writes():
        runtime = made.extensions["nomflow"]
        name = make_url(database_url).database
        with runtime.db.engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
            conn.commit()
        runtime.db.dispose()  # the pools' next connections start read-only

    yield made, refuse_writes
    made.extensions["nomflow"].db.dispose()


def test_gets_answer_200_when_the_database_cannot_write(stuck_app, clock):
    app, refuse_writes = stuck_app
    runtime = app.extensions["nomflow"]
    tokens = {name: create_token(runtime, actor(runtime, name), "test") for name in (STAFF, ADMIN)}

    def auth(name):
        return {"Authorization": f"Bearer {tokens[name]}"}

    api, browser = app.test_client(), app.test_client()
    nomination_id = create_nomination(api, auth)
    sha = api.post(f"/api/v1/nominations/{nomination_id}/attachments", headers=auth(STAFF),
                   data={"file": (io.BytesIO(pdf(2000)), "to-trinh.pdf")},
                   content_type="multipart/form-data").get_json()["sha256"]
    log_in(browser, STAFF)
    with runtime.uow() as uow:  # every token is due to have its last use recorded again
        uow.session.execute(update(ApiToken).values(last_used_at=clock.now() - timedelta(hours=1)))
        uow.commit()
    runtime.touches.clear()

    refuse_writes()

    for path in ("/api/v1/me", "/api/v1/tokens", "/api/v1/nominations", f"/api/v1/nominations/{nomination_id}",
                 f"/api/v1/nominations/{nomination_id}/history", f"/api/v1/nominations/{nomination_id}/attachments",
                 f"/api/v1/nominations/{nomination_id}/attachments/{sha}", "/api/v1/tasks", "/api/v1/processes"):
        for _ in range(2):  # the second time, after the first failed attempt to record the token's use
            response = api.get(path, headers=auth(STAFF))
            assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    for path in ("/api/v1/users", "/api/v1/units", "/api/v1/audit", "/api/v1/batches"):
        assert api.get(path, headers=auth(ADMIN)).status_code == 200, path
    for path in ("/inbox", "/nominations", f"/nominations/{nomination_id}",
                 f"/nominations/{nomination_id}/edit", f"/nominations/{nomination_id}/files/{sha}",
                 f"/nominations/{nomination_id}/diagram.bpmn", "/cong-khai"):
        response = browser.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])

    if runtime.db.is_sqlite:  # a write on the full disk: 507 and its reason, not a bare 500
        response = api.patch(f"/api/v1/nominations/{nomination_id}/draft", headers=auth(STAFF),
                             json={"data": {"nominee_name": "Tên mới"}})
        assert "không còn đủ chỗ trống" in assert_problem(response, 507)["detail"]
