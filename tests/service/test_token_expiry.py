"""API tokens (issue 14 item 12): they expire (a default, or chosen at creation within a maximum), they
end when an admin locks or deactivates their owner, and their owner sees when each was last used."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from service.db.models import ApiToken

from .helpers import ADMIN, STAFF, assert_problem, error_fields, user_id


def new_token(client, auth, **body):
    response = client.post("/api/v1/tokens", headers=auth(STAFF), json={"name": "cli", **body})
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    return created, {"Authorization": f"Bearer {created['token']}"}


def works(client, bearer) -> bool:
    return client.get("/api/v1/me", headers=bearer).status_code == 200


def test_a_token_expires_after_ninety_days_by_default(client, auth, clock):
    created, bearer = new_token(client, auth)
    assert datetime.fromisoformat(created["expires_at"]) == clock.now() + timedelta(days=90)
    clock.advance(timedelta(days=90) - timedelta(seconds=1))
    assert works(client, bearer)
    clock.advance(timedelta(seconds=1))
    assert_problem(client.get("/api/v1/me", headers=bearer), 401)


def test_the_creator_chooses_a_shorter_life(client, auth, clock):
    created, bearer = new_token(client, auth, expires_in_days=7)
    assert datetime.fromisoformat(created["expires_at"]) == clock.now() + timedelta(days=7)
    clock.advance(timedelta(days=7))
    assert not works(client, bearer)


@pytest.mark.parametrize("days", [0, -1, 366, 10**6, "soon"])
def test_a_life_outside_the_limits_is_refused(client, auth, days):
    response = client.post("/api/v1/tokens", headers=auth(STAFF), json={"name": "cli", "expires_in_days": days})
    assert_problem(response, 422)
    assert error_fields(response) == {"expires_in_days"}
    assert len(client.get("/api/v1/tokens", headers=auth(STAFF)).get_json()) == 1  # only the fixture's own


def test_an_admin_lock_ends_the_tokens_even_after_unlock(client, auth, runtime):
    _, bearer = new_token(client, auth)
    staff = user_id(runtime, STAFF)
    locked = client.post(f"/api/v1/users/{staff}/lock", headers=auth(ADMIN), json={})
    assert locked.status_code == 200 and locked.get_json()["locked_until"]
    assert not works(client, bearer)
    assert client.post(f"/api/v1/users/{staff}/unlock", headers=auth(ADMIN)).status_code == 200
    assert not works(client, bearer)  # revoked, not paused: the owner makes a new one
    with runtime.read() as uow:
        assert set(uow.session.scalars(select(ApiToken.revoked).where(ApiToken.user_id == staff))) == {True}


def test_a_timed_lock_refuses_log_in_until_it_ends(client, auth, runtime, clock):
    from .test_auth_pages import PASSWORD, login

    until = (clock.now() + timedelta(hours=2)).isoformat()
    response = client.post(f"/api/v1/users/{user_id(runtime, STAFF)}/lock", headers=auth(ADMIN), json={"until": until})
    assert response.status_code == 200
    refused = login(client, STAFF, PASSWORD)
    assert refused.status_code == 403 and "khóa" in refused.get_data(as_text=True)
    clock.advance(timedelta(hours=2))
    assert login(client, STAFF, PASSWORD).status_code == 302


def test_deactivation_ends_the_tokens(client, auth, runtime):
    _, bearer = new_token(client, auth)
    assert client.post(f"/api/v1/users/{user_id(runtime, STAFF)}/deactivate", headers=auth(ADMIN)).status_code == 200
    assert not works(client, bearer)


def test_the_owner_sees_when_each_token_was_last_used(client, auth, clock):
    created, bearer = new_token(client, auth)
    listed = {t["id"]: t for t in client.get("/api/v1/tokens", headers=auth(STAFF)).get_json()}
    assert listed[created["id"]]["last_used_at"] is None
    clock.advance(timedelta(hours=3))
    assert works(client, bearer)
    listed = {t["id"]: t for t in client.get("/api/v1/tokens", headers=auth(STAFF)).get_json()}
    assert datetime.fromisoformat(listed[created["id"]]["last_used_at"]) == clock.now()
    assert listed[created["id"]]["expires_at"] == created["expires_at"]


def test_the_account_page_shows_last_use_and_expiry(client, auth, clock):
    from .test_auth_pages import PASSWORD, login

    created, bearer = new_token(client, auth, expires_in_days=30)
    clock.advance(timedelta(hours=1))
    assert works(client, bearer)
    assert login(client, STAFF, PASSWORD).status_code == 302
    page = client.get("/account").get_data(as_text=True)
    row = page[page.index(f'id="token-{created["id"]}"'):]
    row = row[:row.index("</tr>")]
    assert "13/04/2026 10:00" in row  # last used, local time
    assert "13/05/2026 09:00" in row  # expires
    assert "Còn hiệu lực" in row
