"""Log-in throttling (issue 14 item 3): failures slow down one (username, client address) with growing
waits; nobody can lock someone else out; unknown usernames answer exactly like known ones; an admin
unlocks; X-Forwarded-For counts only from a configured proxy."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.app import create_app
from service.db.models import AuditEvent, LoginThrottle
from service.usecases import accounts

from .helpers import ADMIN, CHAIRMAN, STAFF, user_id
from .test_auth_pages import PASSWORD, WRONG

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def login_from(client, address: str, username: str, password: str, headers: dict[str, str] | None = None):
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                           environ_base=environ, headers=headers or {})
    client.delete_cookie("session")  # each attempt as a fresh browser
    return response


def error_of(response) -> str:
    match = re.search(r'<p class="error" role="alert">([^<]*)</p>', response.get_data(as_text=True))
    return match.group(1) if match else ""


def test_nobody_can_lock_the_chairman_out(client, clock):
    """The sweep locked the Chairman's account with five wrong passwords in 9 s, for 15 minutes, forever."""
    for _ in range(30):
        login_from(client, ATTACKER, CHAIRMAN, WRONG)
        clock.advance(timedelta(seconds=1))
    assert login_from(client, ATTACKER, CHAIRMAN, PASSWORD).status_code == 429  # the guesser waits
    assert login_from(client, OWNER, CHAIRMAN, PASSWORD).status_code == 302  # the Chairman does not


def test_waits_grow_for_one_client_and_are_capped(client, clock):
    waits = []
    for _ in range(14):
        response = login_from(client, ATTACKER, STAFF, WRONG)
        assert response.status_code == 401
        refused = login_from(client, ATTACKER, STAFF, WRONG)
        if refused.status_code == 429:
            seconds = int(re.search(r"chờ (\d+) giây", error_of(refused)).group(1))
            waits.append(seconds)
            clock.advance(timedelta(seconds=seconds))
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 512] + [900] * 4
    assert login_from(client, ATTACKER, STAFF, PASSWORD).status_code == 302  # after the wait, it works


@pytest.mark.parametrize("password", [WRONG, PASSWORD])
def test_unknown_and_deactivated_usernames_answer_like_known_ones(client, clock, auth, runtime, password):
    """Same statuses, same messages, same waits and the same work (one argon2 verify, the same rows)."""
    client.post(f"/api/v1/users/{user_id(runtime, 'canbo.taichinh')}/deactivate", headers=auth(ADMIN))
    tried = {"known": STAFF, "unknown": "nobody.here", "deactivated": "canbo.taichinh"}
    answers: dict[str, list[tuple[int, str]]] = {name: [] for name in tried}
    work: dict[str, list[tuple[int, int]]] = {name: [] for name in tried}
    real_verify, calls = accounts.verify_password, []
    accounts.verify_password = lambda *a: calls.append(1) or real_verify(*a)  # type: ignore[assignment]
    try:
        for _ in range(6):
            for name, username in tried.items():
                before = (len(calls), audit_rows(runtime))
                response = login_from(client, ATTACKER, username, WRONG if name == "known" else password)
                answers[name].append((response.status_code, error_of(response)))
                work[name].append((len(calls) - before[0], audit_rows(runtime) - before[1]))
            clock.advance(timedelta(seconds=1))
    finally:
        accounts.verify_password = real_verify  # type: ignore[assignment]
    assert answers["known"] == answers["unknown"] == answers["deactivated"]
    assert [status for status, _ in answers["known"]] == [401, 401, 401, 429, 401, 429]
    assert work["known"] == work["unknown"] == work["deactivated"]


def audit_rows(runtime) -> int:
    with runtime.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(AuditEvent)))


def test_an_admin_unlocks(client, clock, auth, runtime):
    for _ in range(4):
        login_from(client, ATTACKER, STAFF, WRONG)
    assert login_from(client, ATTACKER, STAFF, PASSWORD).status_code == 429
    response = client.post(f"/api/v1/users/{user_id(runtime, STAFF)}/unlock", headers=auth(ADMIN))
    assert response.status_code == 200
    assert login_from(client, ATTACKER, STAFF, PASSWORD).status_code == 302
    kinds = [e["kind"] for e in client.get("/api/v1/audit?security=true", headers=auth(ADMIN)).get_json()]
    assert {"login_failed", "login_throttled", "account_unlocked", "login"} <= set(kinds)


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client):
    """Anyone can write X-Forwarded-For: a guesser rotating it stays one client."""
    for n in range(4):
        login_from(client, ATTACKER, STAFF, WRONG, headers={"X-Forwarded-For": f"192.0.2.{n}"})
    assert login_from(client, ATTACKER, STAFF, PASSWORD, headers={"X-Forwarded-For": OWNER}).status_code == 429


def test_forwarded_for_counts_from_a_configured_proxy(runtime, clock):
    proxied = create_app(replace(runtime.config, trusted_proxies=("10.0.0.0/8",)), clock=clock)
    client = proxied.test_client()
    try:
        for _ in range(4):
            login_from(client, "10.1.2.3", STAFF, WRONG, headers={"X-Forwarded-For": ATTACKER})
        via_proxy = {"X-Forwarded-For": OWNER}
        assert login_from(client, "10.1.2.3", STAFF, PASSWORD, headers={"X-Forwarded-For": ATTACKER}).status_code == 429
        assert login_from(client, "10.1.2.3", STAFF, PASSWORD, headers=via_proxy).status_code == 302
        # A peer that is not the proxy is keyed by its own address whatever it claims.
        for _ in range(4):
            login_from(client, ATTACKER, STAFF, WRONG, headers={"X-Forwarded-For": f"{OWNER}"})
        assert login_from(client, ATTACKER, STAFF, PASSWORD, headers=via_proxy).status_code == 429
        assert login_from(client, "10.1.2.3", STAFF, PASSWORD, headers=via_proxy).status_code == 302
    finally:
        proxied.extensions["nomflow"].db.dispose()


def test_parallel_failures_are_all_counted_and_none_fails(app, runtime):
    """Eight wrong passwords at once from one client: each a clean 401 (or 429), each counted (no lost
    update, no clash on the first row: PostgreSQL answered 500 for those)."""
    from concurrent.futures import ThreadPoolExecutor

    def attempt(_: int) -> int:
        return int(login_from(app.test_client(), ATTACKER, CHAIRMAN, WRONG).status_code)

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(8)))
    assert set(statuses) <= {401, 429} and statuses.count(401) >= 3
    with runtime.read() as uow:
        assert uow.session.scalar(select(LoginThrottle.failures)) == statuses.count(401)


def test_a_mistyped_trusted_proxy_stops_the_start(tmp_path):
    from service.core.config import ServiceConfig

    with pytest.raises(ValueError):
        create_app(ServiceConfig(instance_dir=tmp_path, secret_key="x", trusted_proxies=("10.0.0.300",)))
