"""Batches and the Chairman's decision, end to end over the API."""

from __future__ import annotations

import pytest

from service.core.errors import Forbidden
from tests.support.signing import sign_batch

from .helpers import (
    ADMIN,
    CHAIRMAN,
    DOST_LEAD,
    DOST_OFFICER,
    HA_LEAD,
    HA_OFFICER,
    HEAD,
    OTHER_STAFF,
    STAFF,
    actor,
    assert_problem,
    awaiting_decision,
    complete,
    detail,
    submitted_nomination,
)
from .test_auth_pages import PASSWORD, login

DECISION_TITLE = "Khen thưởng phong trào thi đua năm 2026"
DRAFT = "Tặng Bằng khen của Chủ tịch UBND tỉnh cho các tập thể, cá nhân có thành tích xuất sắc."


def new_batch(client, auth) -> str:
    response = client.post("/api/v1/batches", headers=auth(HA_LEAD))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def batch_task(client, auth, batch_id: str, stage: str) -> dict:
    response = client.get(f"/api/v1/batches/{batch_id}", headers=auth(HA_LEAD))
    assert response.status_code == 200
    tasks = [t for t in response.get_json()["tasks"] if t["stage"] == stage]
    assert tasks, response.get_json()["tasks"]
    return tasks[0]


def prepare(client, auth, batch_id: str, nomination_ids: list[str]):
    task = batch_task(client, auth, batch_id, "batch_preparation")
    return complete(client, auth, HA_LEAD, task["id"], {
        "nomination_ids": nomination_ids, "decision_title": DECISION_TITLE, "decision_draft": DRAFT})


def test_two_nominations_through_the_whole_path_to_a_signed_decision(client, auth, runtime, pki):
    first = awaiting_decision(client, auth)
    second = awaiting_decision(client, auth)
    batch_id = new_batch(client, auth)

    assert prepare(client, auth, batch_id, [first, second]).status_code == 200
    shown = client.get(f"/api/v1/batches/{batch_id}", headers=auth(CHAIRMAN)).get_json()
    assert shown["title"] == DECISION_TITLE and shown["status"] == "open"
    assert {n["id"] for n in shown["nominations"]} == {first, second}
    assert all(n["unit_name"] == "Ủy ban nhân dân phường Hiến Nam" and n["status"] == "awaiting_decision"
               and n["nominee_name"] for n in shown["nominations"])
    [sign] = shown["tasks"]
    assert (sign["task_id"], sign["role"]) == ("sign_decision", "chairman")

    done = sign_batch(runtime, pki, batch_id, actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN))
    number = f"{done.number:02d}/QĐ-UBND"

    signed = client.get(f"/api/v1/batches/{batch_id}", headers=auth(HA_OFFICER)).get_json()
    assert (signed["status"], signed["decision_number"], signed["tasks"]) == ("signed", number, [])
    assert {n["id"]: n["status"] for n in signed["nominations"]} == {first: "awarded", second: "awarded"}
    assert "task_completed" in {e["kind"] for e in signed["history"]}

    for nomination_id in (first, second):
        assert detail(client, auth, nomination_id, user=STAFF)["status"] == "awarded"
        history = client.get(f"/api/v1/nominations/{nomination_id}/history", headers=auth(STAFF)).get_json()
        [decision] = [e for e in history if e["kind"] == "decision_received"]
        assert decision["detail"]["outcome"] == "awarded"
        assert decision["detail"]["batch_id"] == batch_id
        assert decision["detail"]["decision_title"] == DECISION_TITLE
        assert decision["detail"]["decision_number"] == number
        assert decision["detail"]["signed_on"] == done.signed_on.isoformat()
        assert history[-1]["kind"] == "instance_ended"

    listed = client.get("/api/v1/batches", headers=auth(HA_OFFICER)).get_json()
    assert [(b["id"], b["status"], b["nomination_count"]) for b in listed] == [(batch_id, "signed", 2)]


def test_preparing_refuses_nominations_not_awaiting_a_decision(client, auth):
    ready = awaiting_decision(client, auth)
    early = submitted_nomination(client, auth)
    batch_id = new_batch(client, auth)
    version = client.get(f"/api/v1/batches/{batch_id}", headers=auth(HA_LEAD)).get_json()["version"]

    response = prepare(client, auth, batch_id, [ready, early, "DNUNKNOWN"])
    body = assert_problem(response, 422)
    assert early in body["detail"] and "DNUNKNOWN" in body["detail"]
    after = client.get(f"/api/v1/batches/{batch_id}", headers=auth(HA_LEAD)).get_json()
    assert (after["version"], after["nominations"]) == (version, [])
    assert [t["task_id"] for t in after["tasks"]] == ["prepare_batch"]
    assert detail(client, auth, ready)["batch_id"] is None


def test_a_nomination_cannot_sit_in_two_batches(client, auth):
    ready = awaiting_decision(client, auth)
    assert prepare(client, auth, new_batch(client, auth), [ready]).status_code == 200
    assert_problem(prepare(client, auth, new_batch(client, auth), [ready]), 422)


def test_only_the_chairman_signs_and_only_with_a_digital_signature(client, auth, runtime, pki):
    ready = awaiting_decision(client, auth)
    batch_id = new_batch(client, auth)
    assert prepare(client, auth, batch_id, [ready]).status_code == 200
    sign = batch_task(client, auth, batch_id, "decision_signing")
    data = {"decision": "sign", "decision_number": "1/QĐ-UBND", "signed_on": "2026-12-01"}
    for user in (HA_LEAD, HA_OFFICER, HEAD, ADMIN):
        assert_problem(complete(client, auth, user, sign["id"], data), 403)
    # A typed number is refused: the register gives it when the decision is signed digitally.
    assert "chữ ký số" in assert_problem(complete(client, auth, CHAIRMAN, sign["id"], data), 422)["detail"]
    with pytest.raises(Forbidden):
        sign_batch(runtime, pki, batch_id, actor(runtime, HA_OFFICER), actor(runtime, HA_LEAD))
    assert sign_batch(runtime, pki, batch_id, actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN)).number == 1
    assert detail(client, auth, ready)["status"] == "awarded"


def test_preparing_is_the_home_affairs_leads_task(client, auth):
    batch_id = new_batch(client, auth)
    task = batch_task(client, auth, batch_id, "batch_preparation")
    for user in (HA_OFFICER, CHAIRMAN, STAFF):
        assert_problem(complete(client, auth, user, task["id"], {}), 403)


@pytest.mark.parametrize("user", [HA_OFFICER, DOST_LEAD, CHAIRMAN, ADMIN, STAFF, HEAD])
def test_only_the_home_affairs_lead_creates_batches(client, auth, user):
    assert_problem(client.post("/api/v1/batches", headers=auth(user)), 403)


@pytest.mark.parametrize("user", [STAFF, HEAD, OTHER_STAFF, DOST_OFFICER, DOST_LEAD])
def test_units_and_the_dost_do_not_see_batches(client, auth, user):
    """A batch holds the draft decision and the Chairman's send-back reasons: Home Affairs' and the
    Chairman's working papers. The DOST follows its nominations on the nominations themselves."""
    batch_id = new_batch(client, auth)
    assert_problem(client.get("/api/v1/batches", headers=auth(user)), 403)
    assert_problem(client.get(f"/api/v1/batches/{batch_id}", headers=auth(user)), 403)


@pytest.mark.parametrize("user", [HA_OFFICER, HA_LEAD, CHAIRMAN, ADMIN])
def test_home_affairs_the_chairman_and_admins_see_batches(client, auth, user):
    batch_id = new_batch(client, auth)
    assert [b["id"] for b in client.get("/api/v1/batches", headers=auth(user)).get_json()] == [batch_id]
    shown = client.get(f"/api/v1/batches/{batch_id}", headers=auth(user)).get_json()
    assert shown["status"] == "open" and shown["history"][0]["kind"] == "batch_created"


def test_unknown_batch_is_404(client, auth):
    assert_problem(client.get("/api/v1/batches/DTNOPE", headers=auth(HA_LEAD)), 404)


def test_the_api_and_the_pages_apply_one_rule_to_batches(app, client, auth):
    """Every demo user gets the same answer from the API and from the pages, for the list and for
    one batch (the draft decision and the Chairman's reasons are on both)."""
    batch_id = new_batch(client, auth)
    for user in (STAFF, HEAD, OTHER_STAFF, DOST_OFFICER, DOST_LEAD, HA_OFFICER, HA_LEAD, CHAIRMAN, ADMIN):
        browser = app.test_client()
        assert login(browser, user, PASSWORD).status_code == 302
        for api, page in (("/api/v1/batches", "/batches"), (f"/api/v1/batches/{batch_id}", f"/batches/{batch_id}")):
            api_status = client.get(api, headers=auth(user)).status_code
            page_status = browser.get(page).status_code
            assert (api_status, page_status) in ((200, 200), (403, 403)), (user, api, api_status, page_status)
        menu = browser.get("/inbox").get_data(as_text=True)
        assert ('href="/batches"' in menu) == (api_status == 200), user
