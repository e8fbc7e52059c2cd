"""Deactivating a user (issue 14, "also missing"): through the API, the admin page and the command line it
ends the user's sessions, tokens and substitutions and keeps their history; every security event is in
an audit row that admins read (API and /admin/security)."""

from __future__ import annotations

import pytest

from .helpers import (
    ADMIN,
    CHAIRMAN,
    DOST_LEAD,
    HEAD,
    STAFF,
    assert_problem,
    create_nomination,
    detail,
    submitted_nomination,
    user_id,
)
from .test_auth_pages import BAD_CREDENTIALS, PASSWORD, csrf_token, login


def test_deactivation_through_the_api_keeps_the_history(client, auth, runtime):
    nomination_id = create_nomination(client, auth)
    bearer = auth(STAFF)
    assert login(client, STAFF, PASSWORD).status_code == 302
    response = client.post(f"/api/v1/users/{user_id(runtime, STAFF)}/deactivate", headers=auth(ADMIN))
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert client.get("/api/v1/me").status_code == 401  # the browser session ended
    assert client.get("/api/v1/me", headers=bearer).status_code == 401  # the token too
    refused = login(client, STAFF, PASSWORD)  # and log-in answers as for an unknown name
    assert refused.status_code == 401 and BAD_CREDENTIALS in refused.get_data(as_text=True)
    # History stays: the nomination, its audit trail, the account row.
    assert detail(client, auth, nomination_id)["history"][0]["actor_id"] == user_id(runtime, STAFF)
    users = {u["username"]: u for u in client.get("/api/v1/users", headers=auth(ADMIN)).get_json()}
    assert users[STAFF]["active"] is False
    kinds = [e["kind"] for e in client.get("/api/v1/audit?security=true", headers=auth(ADMIN)).get_json()]
    assert kinds[:2] == ["login_failed", "user_deactivated"]


@pytest.mark.parametrize("user", [STAFF, HEAD, DOST_LEAD, CHAIRMAN])
def test_only_admins_lock_unlock_or_deactivate(client, auth, runtime, user):
    target = user_id(runtime, HEAD if user != HEAD else STAFF)
    for action in ("lock", "unlock", "deactivate"):
        assert_problem(client.post(f"/api/v1/users/{target}/{action}", headers=auth(user)), 403)
    assert_problem(client.get("/api/v1/audit?security=true", headers=auth(user)), 403)


def test_an_admin_does_not_lock_themself_out(client, auth, runtime):
    assert_problem(client.post(f"/api/v1/users/{user_id(runtime, ADMIN)}/deactivate", headers=auth(ADMIN)), 422)
    assert_problem(client.post("/api/v1/users/999999/deactivate", headers=auth(ADMIN)), 404)


def test_the_admin_pages_deactivate_and_list_security_events(client, auth, runtime):
    staff = login(client, STAFF, PASSWORD)
    assert staff.status_code == 302
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/security").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/inbox")})
    login(client, "nobody.here", "whatever-1")
    assert login(client, ADMIN, PASSWORD).status_code == 302
    page = client.get("/admin/users").get_data(as_text=True)
    target = user_id(runtime, STAFF)
    assert f'action="/admin/users/{target}/deactivate"' in page
    assert client.post(f"/admin/users/{target}/deactivate").status_code == 400  # no CSRF token
    response = client.post(f"/admin/users/{target}/deactivate", data={"csrf_token": csrf_token(client, "/inbox")})
    assert response.status_code == 302
    assert "Đã vô hiệu hóa" in client.get("/admin/users").get_data(as_text=True)
    events = client.get("/admin/security").get_data(as_text=True)
    for kind in ("user_deactivated", "login_failed", "login", "logout"):
        assert f"<code>{kind}</code>" in events
    assert "nobody.here" in events


def test_the_command_line_locks_unlocks_and_deactivates(app, client, auth):
    bearer = auth(STAFF)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "lock", STAFF])
    assert result.exit_code == 0, result.output
    assert "locked until 9999" in result.output
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert login(client, STAFF, PASSWORD).status_code == 403
    assert runner.invoke(args=["user", "unlock", STAFF]).exit_code == 0
    assert login(client, STAFF, PASSWORD).status_code == 302
    result = runner.invoke(args=["user", "deactivate", STAFF])
    assert result.exit_code == 0 and "deactivated" in result.output
    assert client.get("/api/v1/me").status_code == 401
    result = runner.invoke(args=["user", "deactivate", "nobody.here"])
    assert result.exit_code != 0 and "Không tìm thấy" in result.output


def test_tasks_claimed_by_a_deactivated_user_go_back_to_the_queue(client, auth, runtime):
    nomination_id = submitted_nomination(client, auth)
    [task] = client.get(f"/api/v1/nominations/{nomination_id}", headers=auth(HEAD)).get_json()["tasks"]
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=auth(HEAD)).status_code == 204
    assert client.post(f"/api/v1/users/{user_id(runtime, HEAD)}/deactivate", headers=auth(ADMIN)).status_code == 200
    [task] = client.get(f"/api/v1/nominations/{nomination_id}", headers=auth(ADMIN)).get_json()["tasks"]
    assert task["assignee_id"] is None
    history = client.get(f"/api/v1/audit?nomination_id={nomination_id}", headers=auth(ADMIN)).get_json()
    assert history[0]["kind"] == "task_released" and history[0]["detail"]["why"] == "user_deactivated"
