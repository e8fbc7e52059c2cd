"""Nominations over the API: drafts, submission, who sees what.

Visibility rule: a nomination the caller may not see answers 404, exactly like a missing one, so another
unit's pipeline is not revealed; acting on something visible but not yours answers 403."""

from __future__ import annotations

import pytest

from tests.workflows.conftest import draft_data

from .helpers import (
    ADMIN,
    CHAIRMAN,
    DOST_OFFICER,
    HA_LEAD,
    HEAD,
    HIEN_NAM,
    OTHER_HEAD,
    OTHER_STAFF,
    STAFF,
    TAI_CHINH,
    assert_problem,
    create_nomination,
    detail,
    error_fields,
    submit,
    submitted_nomination,
)

PROVINCE = [DOST_OFFICER, HA_LEAD, CHAIRMAN]


def test_staff_creates_a_draft_that_starts_its_process(client, auth):
    nomination_id = create_nomination(client, auth, data={"nominee_name": "Phường Hiến Nam"})
    shown = detail(client, auth, nomination_id, user=STAFF)
    assert (shown["status"], shown["unit_id"], shown["nominee_name"]) == ("draft", HIEN_NAM, "Phường Hiến Nam")
    assert [t["task_id"] for t in shown["tasks"]] == ["draft_nomination"]
    assert shown["version"] >= 1 and shown["history"][0]["kind"] == "nomination_created"


@pytest.mark.parametrize("user,unit", [(OTHER_STAFF, HIEN_NAM), (HEAD, HIEN_NAM), (DOST_OFFICER, HIEN_NAM),
                                       (ADMIN, HIEN_NAM), (STAFF, TAI_CHINH)])
def test_only_the_units_own_staff_creates_its_drafts(client, auth, user, unit):
    response = client.post("/api/v1/nominations", headers=auth(user), json={"unit_id": unit, "data": {}})
    assert_problem(response, 403)


def test_draft_fields_are_checked_each_one(client, auth):
    response = client.post("/api/v1/nominations", headers=auth(STAFF), json={
        "unit_id": HIEN_NAM, "data": {"nominee_kind": "hanh_tinh", "award": 3, "surprise": "x"}})
    body = assert_problem(response, 422)
    assert {"nominee_kind", "award"} <= error_fields(response)
    assert body["detail"]


def test_a_draft_is_seen_by_its_unit_and_admins_only(client, auth):
    nomination_id = create_nomination(client, auth)
    for user in (STAFF, HEAD, ADMIN):
        assert detail(client, auth, nomination_id, user=user)["id"] == nomination_id
    for user in (OTHER_STAFF, OTHER_HEAD, *PROVINCE):
        for suffix in ("", "/history", "/audit", "/attachments"):
            assert_problem(client.get(f"/api/v1/nominations/{nomination_id}{suffix}", headers=auth(user)), 404)
        listed = client.get("/api/v1/nominations", headers=auth(user)).get_json()
        assert nomination_id not in {n["id"] for n in listed}


def test_once_submitted_province_roles_see_it_other_units_still_do_not(client, auth):
    nomination_id = submitted_nomination(client, auth)
    for user in PROVINCE:
        assert detail(client, auth, nomination_id, user=user)["status"] == "unit_review"
        listed = client.get("/api/v1/nominations", headers=auth(user)).get_json()
        assert nomination_id in {n["id"] for n in listed}
    for user in (OTHER_STAFF, OTHER_HEAD):
        assert_problem(client.get(f"/api/v1/nominations/{nomination_id}", headers=auth(user)), 404)
        assert client.get("/api/v1/nominations", headers=auth(user)).get_json() == []


def test_list_filters_by_status(client, auth):
    draft = create_nomination(client, auth)
    sent = submitted_nomination(client, auth)
    by_status = {s: [n["id"] for n in client.get(f"/api/v1/nominations?status={s}", headers=auth(STAFF)).get_json()]
                 for s in ("draft", "unit_review")}
    assert by_status == {"draft": [draft], "unit_review": [sent]}


def test_saving_a_draft_merges_fields(client, auth):
    nomination_id = create_nomination(client, auth, data={"nominee_name": "Phường Hiến Nam"})
    response = client.patch(f"/api/v1/nominations/{nomination_id}/draft", headers=auth(STAFF),
                            json={"data": {"award": "bang_khen"}})
    assert response.status_code == 204
    shown = detail(client, auth, nomination_id, user=STAFF)
    assert shown["data"] == {"nominee_name": "Phường Hiến Nam", "award": "bang_khen"}
    assert shown["history"][-1]["kind"] == "draft_saved"


def test_saving_refuses_other_units_heads_and_bad_bodies(client, auth):
    nomination_id = create_nomination(client, auth)
    url = f"/api/v1/nominations/{nomination_id}/draft"
    assert_problem(client.patch(url, headers=auth(OTHER_STAFF), json={"data": {}}), 404)
    assert_problem(client.patch(url, headers=auth(DOST_OFFICER), json={"data": {}}), 404)
    assert_problem(client.patch(url, headers=auth(HEAD), json={"data": {}}), 403)
    response = client.patch(url, headers=auth(STAFF), json={"data": {}, "extra": 1})
    assert error_fields(response) == {"extra"} and response.status_code == 422
    response = client.patch(url, headers=auth(STAFF), json={"data": {"achievement_summary": "ngắn"}})
    assert error_fields(response) == {"achievement_summary"} and response.status_code == 422


def test_a_sent_nomination_is_no_longer_a_draft(client, auth):
    """409 like any task already done (issue 13): the request was right when the draft was open."""
    nomination_id = submitted_nomination(client, auth)
    response = client.patch(f"/api/v1/nominations/{nomination_id}/draft", headers=auth(STAFF),
                            json={"data": {"award": "bang_khen"}})
    assert "đã được gửi đi" in assert_problem(response, 409)["detail"]
    assert "đã được xử lý" in assert_problem(submit(client, auth, nomination_id), 409)["detail"]


def test_submitting_an_incomplete_draft_lists_every_missing_field_and_changes_nothing(client, auth):
    nomination_id = create_nomination(client, auth, data={"nominee_name": "Phường Hiến Nam"})
    before = detail(client, auth, nomination_id)
    response = submit(client, auth, nomination_id)
    assert_problem(response, 422)
    assert {"nominee_kind", "award", "achievement_summary", "criteria", "dossier"} <= error_fields(response)
    after = detail(client, auth, nomination_id)
    assert (after["version"], after["status"], after["tasks"]) == (before["version"], "draft", before["tasks"])
    assert after["history"] == before["history"]


def test_submitting_moves_it_to_the_unit_head(client, auth):
    nomination_id = create_nomination(client, auth)
    response = submit(client, auth, nomination_id)
    assert response.status_code == 200
    assert response.get_json()["status"] == "running"
    shown = detail(client, auth, nomination_id, user=HEAD)
    assert shown["status"] == "unit_review"
    assert [(t["task_id"], t["unit_id"]) for t in shown["tasks"]] == [("unit_head_review", HIEN_NAM)]


def test_submitting_is_for_the_units_staff_only(client, auth):
    nomination_id = create_nomination(client, auth)
    assert_problem(submit(client, auth, nomination_id, staff=OTHER_STAFF), 404)
    assert_problem(submit(client, auth, nomination_id, staff=HEAD), 403)
    assert detail(client, auth, nomination_id)["status"] == "draft"


def test_submit_body_is_checked(client, auth):
    nomination_id = create_nomination(client, auth)
    response = client.post(f"/api/v1/nominations/{nomination_id}/submit", headers=auth(STAFF),
                           json={"data": "all of it"})
    assert error_fields(response) == {"data"} and response.status_code == 422


def test_history_and_audit_are_the_same_trail(client, auth):
    nomination_id = submitted_nomination(client, auth)
    history = client.get(f"/api/v1/nominations/{nomination_id}/history", headers=auth(HEAD)).get_json()
    audit = client.get(f"/api/v1/nominations/{nomination_id}/audit", headers=auth(DOST_OFFICER)).get_json()
    assert history == audit
    kinds = [e["kind"] for e in history]
    assert kinds[0] == "nomination_created" and "task_completed" in kinds
    completed = next(e for e in history if e["kind"] == "task_completed")
    assert completed["detail"]["task"] == "draft_nomination"
    assert completed["detail"]["data"]["nominee_name"] == draft_data()["nominee_name"]


def test_unknown_nomination_is_404(client, auth):
    for suffix in ("", "/history", "/audit", "/attachments"):
        assert_problem(client.get(f"/api/v1/nominations/DNNOPE{suffix}", headers=auth(ADMIN)), 404)
