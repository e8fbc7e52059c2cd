"""Security headers on every kind of response (pages, API, errors, redirects) and Secure cookies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service.app import create_app
from service.core.config import ServiceConfig
from service.usecases.outbox import enqueue

from .helpers import ADMIN, DOST_OFFICER, STAFF
from .test_auth_pages import PASSWORD, login

EXPECTED = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def assert_headers(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.headers)
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_every_kind_of_response_has_the_headers(client, auth):
    for response in (client.get("/login"), client.get("/inbox"), client.get("/cong-khai"),
                     client.get("/api/v1/me", headers=auth(STAFF)), client.get("/api/v1/me"),
                     client.get("/api/v1/nominations/NOPE", headers=auth(STAFF)), client.get("/no-such-page"),
                     client.get("/api/openapi.json"), client.get("/static/app.css")):
        assert_headers(response)


def test_session_cookies_are_secure_by_default(client):
    response = login(client, STAFF, PASSWORD)
    assert response.status_code == 302
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_secure_cookies_can_be_turned_off_for_plain_http(app, clock):
    plain = create_app(replace(app.extensions["nomflow"].config, secure_cookies=False), clock=clock)
    try:
        response = login(plain.test_client(), STAFF, PASSWORD)
        cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))
        assert "Secure" not in cookie
    finally:
        plain.extensions["nomflow"].db.dispose()


@pytest.mark.parametrize("value,secure", [(None, True), ("1", True), ("0", False), ("false", False)])
def test_nomflow_secure_cookies_from_the_environment(monkeypatch, value, secure):
    monkeypatch.delenv("NOMFLOW_SECURE_COOKIES", raising=False)
    if value is not None:
        monkeypatch.setenv("NOMFLOW_SECURE_COOKIES", value)
    assert ServiceConfig.from_env().secure_cookies is secure


def test_the_mail_preview_has_its_own_narrow_policy_and_is_for_admins(app, runtime):
    with runtime.uow() as uow:
        mail = enqueue(uow.session, runtime, "hoa@example.com", "awarded", {
            "user": {"full_name": "Nguyễn Thị Hoa"}, "recipient_title": None, "subject_name": "UBND phường",
            "nomination": None, "unit": None, "batch": None, "decision_number": "12/QĐ-UBND",
            "decision_title": None, "url": "http://127.0.0.1:5000/x"})
        uow.session.flush()
        mail_id = mail.id
        uow.commit()
    officer = app.test_client()
    login(officer, DOST_OFFICER, PASSWORD)
    assert officer.get(f"/admin/outbox/{mail_id}/html").status_code == 403
    admin = app.test_client()
    login(admin, ADMIN, PASSWORD)
    response = admin.get(f"/admin/outbox/{mail_id}/html")
    assert response.status_code == 200 and "Kính gửi" in response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script" not in policy
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
