"""Browser sessions live on the server (issue 14 item 5): log-out, a password or role change, a lock and a
deactivation end them wherever the cookie was copied; log-in starts a new session and a new CSRF secret;
sessions end when idle (8 h) or old (7 days), both configurable."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from service.app import create_app
from service.usecases.setup import add_user

from .helpers import ADMIN, HIEN_NAM, STAFF, assert_problem, user_id
from .test_auth_pages import PASSWORD, csrf_token, login


def copy_of(client, app):
    """A second browser holding a copy of the first one's cookie (what a thief would hold)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def signed_in(client) -> bool:
    return client.get("/api/v1/me").status_code == 200


def test_a_cookie_copied_before_log_out_stops_working(app, client):
    assert login(client, STAFF, PASSWORD).status_code == 302
    thief = copy_of(client, app)
    assert signed_in(thief)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
    assert not signed_in(client)
    assert_problem(thief.get("/api/v1/me"), 401)
    assert thief.get("/inbox").status_code == 302  # pages send it to the log-in


def test_log_in_rotates_the_session_and_the_csrf_secret(app, client):
    before = csrf_token(client)  # an anonymous cookie, e.g. planted by someone else (session fixation)
    planted = copy_of(client, app)
    assert login(client, STAFF, PASSWORD, token=before).status_code == 302
    assert not signed_in(planted)  # the cookie from before log-in did not become a signed-in one
    body = {"unit_id": HIEN_NAM, "data": {}}
    assert_problem(client.post("/api/v1/nominations", json=body, headers={"X-CSRFToken": before}), 400)
    after = csrf_token(client, "/inbox")
    assert after != before
    assert client.post("/api/v1/nominations", json=body, headers={"X-CSRFToken": after}).status_code == 201


def test_sessions_end_after_eight_idle_hours(client, clock):
    assert login(client, STAFF, PASSWORD).status_code == 302
    for _ in range(3):  # in use: it lives on
        clock.advance(timedelta(hours=7, minutes=58))
        assert signed_in(client)
    clock.advance(timedelta(hours=8, minutes=1))
    assert not signed_in(client)


def test_sessions_end_seven_days_after_log_in_even_in_use(client, clock):
    assert login(client, STAFF, PASSWORD).status_code == 302
    for _ in range(23):  # 161 hours, in use every 7
        clock.advance(timedelta(hours=7))
        assert signed_in(client)
    clock.advance(timedelta(hours=7, minutes=1))  # 7 days and 1 minute after log-in
    assert not signed_in(client)
    assert login(client, STAFF, PASSWORD).status_code == 302 and signed_in(client)


def test_lifetimes_are_configurable(runtime, clock):
    app = create_app(replace(runtime.config, session_idle_minutes=30, session_max_days=1), clock=clock)
    try:
        client = app.test_client()
        assert login(client, STAFF, PASSWORD).status_code == 302
        clock.advance(timedelta(minutes=29))
        assert signed_in(client)
        clock.advance(timedelta(minutes=31))
        assert not signed_in(client)
    finally:
        app.extensions["nomflow"].db.dispose()


def test_a_password_change_ends_the_sessions(app, client, runtime):
    assert login(client, STAFF, PASSWORD).status_code == 302
    add_user(runtime, STAFF, "Nguyễn Thị Hoa", "unit_staff", HIEN_NAM, password="a-new-password-1")
    assert not signed_in(client)
    assert login(client, STAFF, "a-new-password-1").status_code == 302


def test_a_role_change_ends_the_sessions(client, auth, runtime):
    assert login(client, STAFF, PASSWORD).status_code == 302
    response = client.post(f"/api/v1/users/{user_id(runtime, STAFF)}/roles", headers=auth(ADMIN),
                           json={"role": "unit_head", "unit_id": HIEN_NAM})
    assert response.status_code == 200
    assert not signed_in(client)
    assert login(client, STAFF, PASSWORD).status_code == 302
    assert {"role": "unit_head", "unit_id": HIEN_NAM} in client.get("/api/v1/me").get_json()["roles"]


def test_lock_and_deactivation_end_the_sessions(client, auth, runtime):
    for action in ("lock", "deactivate"):
        client.delete_cookie("session")
        if action == "deactivate":
            client.post(f"/api/v1/users/{user_id(runtime, STAFF)}/unlock", headers=auth(ADMIN))
        assert login(client, STAFF, PASSWORD).status_code == 302
        assert client.post(f"/api/v1/users/{user_id(runtime, STAFF)}/{action}", headers=auth(ADMIN)).status_code == 200
        assert not signed_in(client), action
