"""Log-in page (slow-down: see test_login_throttle.py) and CSRF: cookie sessions need the token, tokens do not."""

from __future__ import annotations

import re
from datetime import timedelta

from .helpers import HIEN_NAM, STAFF, assert_problem

PASSWORD = "demo-password-1"
WRONG = "wrong-password-1"
BAD_CREDENTIALS = "Tên đăng nhập hoặc mật khẩu không đúng."


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def login(client, username: str, password: str, token: str | None = None, next_url: str = ""):
    token = token if token is not None else csrf_token(client)
    return client.post(f"/login{next_url}", data={"username": username, "password": password, "csrf_token": token})


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Đăng nhập" in text(response) and 'name="csrf_token"' in text(response)


def test_anonymous_pages_go_to_the_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_right_password_logs_in(client):
    response = login(client, STAFF, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/api/v1/me").get_json()["username"] == STAFF  # the session cookie works for GETs


def test_next_only_goes_to_this_site(client):
    assert login(client, STAFF, PASSWORD, next_url="?next=/api/v1/me").headers["Location"] == "/api/v1/me"
    assert login(client, STAFF, PASSWORD, next_url="?next=//evil.example/").headers["Location"] == "/"
    assert login(client, STAFF, PASSWORD, next_url="?next=https://evil.example/").headers["Location"] == "/"


def test_wrong_password_and_unknown_user_read_the_same(client):
    for username, password in ((STAFF, WRONG), ("nobody.here", PASSWORD)):
        response = login(client, username, password)
        assert response.status_code == 401
        assert BAD_CREDENTIALS in text(response)
    assert_problem(client.get("/api/v1/me"), 401)


def test_login_without_csrf_token_is_refused(client):
    client.get("/login")
    assert login(client, STAFF, PASSWORD, token="").status_code == 400
    assert login(client, STAFF, PASSWORD, token="forged").status_code == 400


def test_slow_down_after_repeated_failures(client, clock):
    for _ in range(3):
        assert login(client, STAFF, WRONG).status_code == 401
    response = login(client, STAFF, PASSWORD)  # even the right password must wait now
    assert response.status_code == 429 and "Vui lòng chờ 2 giây" in text(response)
    clock.advance(timedelta(seconds=2))
    assert login(client, STAFF, PASSWORD).status_code == 302


def test_logout_needs_the_csrf_token(client):
    assert login(client, STAFF, PASSWORD).status_code == 302
    assert client.post("/logout").status_code == 400
    assert client.get("/api/v1/me").status_code == 200  # still logged in
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302
    assert_problem(client.get("/api/v1/me"), 401)


def test_api_writes_with_a_session_cookie_need_the_csrf_token(client):
    assert login(client, STAFF, PASSWORD).status_code == 302
    body = {"unit_id": HIEN_NAM, "data": {}}
    response = client.post("/api/v1/nominations", json=body)
    assert_problem(response, 400)
    assert client.get("/api/v1/nominations").get_json() == []
    response = client.post("/api/v1/nominations", json=body, headers={"X-CSRFToken": csrf_token(client, "/login")})
    assert response.status_code == 201


def test_bearer_token_calls_need_no_csrf_token(client, auth):
    response = client.post("/api/v1/nominations", headers=auth(STAFF), json={"unit_id": HIEN_NAM, "data": {}})
    assert response.status_code == 201
    token = client.post("/api/v1/tokens", headers=auth(STAFF), json={"name": "cli"}).get_json()
    assert client.delete(f"/api/v1/tokens/{token['id']}", headers=auth(STAFF)).status_code == 204
