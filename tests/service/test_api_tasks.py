"""Tasks over the API: inbox and queue, completing with form data, claim / release / reassign, substitutes.

A task the caller may not act on answers 403 (the inbox already shows tasks by role)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.usecases.setup import add_user

from .helpers import (
    ADMIN,
    DOST_LEAD,
    DOST_OFFICER,
    HA_LEAD,
    HA_OFFICER,
    HEAD,
    HIEN_NAM,
    OTHER_HEAD,
    OTHER_STAFF,
    STAFF,
    TAI_CHINH,
    assert_problem,
    complete,
    detail,
    drive,
    error_fields,
    open_task,
    submitted_nomination,
    user_id,
)

SUBMIT = {"decision": "submit", "submission_number": "12/TTr-UBND"}
CHECKED = {"decision": "complete", "criteria_met": ["a1", "a3"]}
PASSWORD = "another-password-1"


def inbox(client, auth, user, query=""):
    response = client.get(f"/api/v1/tasks{query}", headers=auth(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def claim(client, auth, user, task_id):
    return client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth(user))


def release(client, auth, user, task_id):
    return client.post(f"/api/v1/tasks/{task_id}/release", headers=auth(user))


def reassign(client, auth, user, task_id, to):
    return client.post(f"/api/v1/tasks/{task_id}/reassign", headers=auth(user), json={"user_id": to})


@pytest.fixture
def second_officer(runtime) -> str:
    add_user(runtime, "chuyenvien2.khcn", "Trịnh Văn Bình", "dost_officer", None, password=PASSWORD)
    return "chuyenvien2.khcn"


# --- inbox ---------------------------------------------------------------------------------------------

def test_the_unit_heads_queue_holds_his_units_tasks_only(client, auth):
    nomination_id = submitted_nomination(client, auth)
    [task] = inbox(client, auth, HEAD, "?scope=queue")
    assert (task["nomination_id"], task["task_id"], task["unit_id"]) == (nomination_id, "unit_head_review", HIEN_NAM)
    assert task["nominee_name"] and task["overdue"] is False
    assert inbox(client, auth, HEAD) == []  # "mine": nothing claimed yet
    for user in (OTHER_HEAD, OTHER_STAFF, DOST_OFFICER, ADMIN):
        assert inbox(client, auth, user, "?scope=all") == []


def test_queue_filters(client, auth, clock):
    first = submitted_nomination(client, auth)
    drive(client, auth, first, until="dost_selection")
    second = submitted_nomination(client, auth, staff=OTHER_STAFF, unit_id=TAI_CHINH)
    drive(client, auth, second, until="unit_review")
    assert [t["nomination_id"] for t in inbox(client, auth, DOST_LEAD, "?scope=queue")] == [first]
    assert inbox(client, auth, DOST_LEAD, "?scope=queue&kind=ca_nhan") == []
    assert inbox(client, auth, DOST_LEAD, "?scope=queue&unit_id=so-tai-chinh") == []
    assert len(inbox(client, auth, DOST_LEAD, f"?scope=queue&q={first[-4:]}")) == 1
    assert inbox(client, auth, DOST_LEAD, "?scope=queue&overdue=true") == []
    [task] = inbox(client, auth, OTHER_HEAD, "?scope=queue")
    assert task["nomination_id"] == second


def test_bad_query_is_422(client, auth):
    response = client.get("/api/v1/tasks?scope=everything&limit=0", headers=auth(HEAD))
    assert_problem(response, 422)
    assert error_fields(response) == {"scope", "limit"}


# --- complete ------------------------------------------------------------------------------------------

def test_a_unit_head_cannot_act_on_another_units_task(client, auth):
    nomination_id = submitted_nomination(client, auth)
    task = open_task(client, auth, nomination_id, "unit_review")
    for user in (OTHER_HEAD, STAFF, DOST_OFFICER, ADMIN):
        assert_problem(complete(client, auth, user, task["id"], SUBMIT), 403)
        assert_problem(claim(client, auth, user, task["id"]), 403)
    assert complete(client, auth, HEAD, task["id"], SUBMIT).status_code == 200


def test_invalid_form_data_lists_every_field_and_changes_nothing(client, auth):
    nomination_id = submitted_nomination(client, auth)
    before = detail(client, auth, nomination_id)
    task = before["tasks"][0]
    response = complete(client, auth, HEAD, task["id"], {"decision": "maybe", "submission_number": 7,
                                                         "colour": "blue"})
    body = assert_problem(response, 422)
    assert {"decision", "submission_number", "colour"} <= {e["field"] for e in body["errors"]}
    after = detail(client, auth, nomination_id)
    assert (after["version"], after["tasks"], after["status"]) == (before["version"], before["tasks"], "unit_review")
    assert after["history"] == before["history"]


def test_a_return_needs_its_reason(client, auth):
    nomination_id = submitted_nomination(client, auth)
    task = open_task(client, auth, nomination_id, "unit_review")
    response = complete(client, auth, HEAD, task["id"], {"decision": "return"})
    assert_problem(response, 422)
    assert error_fields(response) == {"reason"}


def test_complete_body_is_checked(client, auth):
    nomination_id = submitted_nomination(client, auth)
    task = open_task(client, auth, nomination_id, "unit_review")
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=auth(HEAD),
                           json={"data": [], "version": "new", "when": "now"})
    assert_problem(response, 422)
    assert error_fields(response) == {"data", "version", "when"}


def test_stale_version_is_409_and_changes_nothing(client, auth):
    nomination_id = submitted_nomination(client, auth)
    before = detail(client, auth, nomination_id)
    task = before["tasks"][0]
    assert_problem(complete(client, auth, HEAD, task["id"], SUBMIT, version=before["version"] - 1), 409)
    assert detail(client, auth, nomination_id)["tasks"] == before["tasks"]
    response = complete(client, auth, HEAD, task["id"], SUBMIT, version=before["version"])
    assert response.status_code == 200
    assert response.get_json()["version"] > before["version"]


def test_completing_a_completed_task_is_409(client, auth):
    nomination_id = submitted_nomination(client, auth)
    task = open_task(client, auth, nomination_id, "unit_review")
    assert complete(client, auth, HEAD, task["id"], SUBMIT).status_code == 200
    assert_problem(complete(client, auth, HEAD, task["id"], SUBMIT), 409)
    assert_problem(claim(client, auth, HEAD, task["id"]), 409)


def test_unknown_task_is_404(client, auth):
    for response in (complete(client, auth, HEAD, "no-such-task", SUBMIT), claim(client, auth, HEAD, "nope"),
                     release(client, auth, HEAD, "nope"), reassign(client, auth, ADMIN, "nope", 1)):
        assert_problem(response, 404)


# --- claim / release / reassign ------------------------------------------------------------------------

def dost_task(client, auth) -> dict:
    nomination_id = submitted_nomination(client, auth)
    drive(client, auth, nomination_id, until="dost_review")
    return open_task(client, auth, nomination_id, "dost_review")


def test_a_claimed_task_is_the_claimants_alone(client, auth, second_officer):
    task = dost_task(client, auth)
    assert claim(client, auth, DOST_OFFICER, task["id"]).status_code == 204
    assert [t["id"] for t in inbox(client, auth, DOST_OFFICER)] == [task["id"]]
    assert inbox(client, auth, second_officer, "?scope=queue") == []
    assert_problem(claim(client, auth, second_officer, task["id"]), 403)
    assert_problem(complete(client, auth, second_officer, task["id"], CHECKED), 403)
    assert_problem(release(client, auth, second_officer, task["id"]), 403)
    assert release(client, auth, DOST_OFFICER, task["id"]).status_code == 204
    assert claim(client, auth, second_officer, task["id"]).status_code == 204
    assert complete(client, auth, second_officer, task["id"], CHECKED).status_code == 200


def test_the_lead_releases_and_reassigns_within_the_role(client, auth, runtime, second_officer):
    task = dost_task(client, auth)
    assert claim(client, auth, DOST_OFFICER, task["id"]).status_code == 204
    assert reassign(client, auth, DOST_LEAD, task["id"], user_id(runtime, second_officer)).status_code == 204
    [mine] = inbox(client, auth, second_officer)
    assert mine["assignee_id"] == user_id(runtime, second_officer)
    assert_problem(complete(client, auth, DOST_OFFICER, task["id"], CHECKED), 403)
    assert release(client, auth, DOST_LEAD, task["id"]).status_code == 204
    assert inbox(client, auth, second_officer) == []
    kinds = [e["kind"] for e in detail(client, auth, task["nomination_id"])["history"]]
    assert {"task_claimed", "task_reassigned", "task_released"} <= set(kinds)


def test_the_target_of_a_reassignment_must_hold_the_role(client, auth, runtime):
    task = dost_task(client, auth)
    for target in (DOST_LEAD, HA_OFFICER, HEAD):
        response = reassign(client, auth, DOST_LEAD, task["id"], user_id(runtime, target))
        assert_problem(response, 422)
    assert_problem(reassign(client, auth, DOST_LEAD, task["id"], 999_999), 422)
    assert open_task(client, auth, task["nomination_id"], "dost_review")["assignee_id"] is None


def test_others_cannot_reassign(client, auth, runtime, second_officer):
    task = dost_task(client, auth)
    target = user_id(runtime, second_officer)
    for user in (DOST_OFFICER, HA_LEAD, HEAD):  # unclaimed: an officer cannot hand it out; other leads neither
        assert_problem(reassign(client, auth, user, task["id"], target), 403)
    assert claim(client, auth, DOST_OFFICER, task["id"]).status_code == 204
    assert_problem(reassign(client, auth, second_officer, task["id"], target), 403)
    # The assignee delegates to a colleague of the same role.
    assert reassign(client, auth, DOST_OFFICER, task["id"], target).status_code == 204
    assert reassign(client, auth, ADMIN, task["id"], user_id(runtime, DOST_OFFICER)).status_code == 204


def test_a_unit_lead_reassigns_only_inside_the_unit(client, auth, runtime):
    add_user(runtime, "canbo2.hiennam", "Lý Thị Thu", "unit_staff", HIEN_NAM, password=PASSWORD)
    nomination_id = create_returned(client, auth)
    task = open_task(client, auth, nomination_id, "draft")
    colleague = user_id(runtime, "canbo2.hiennam")
    assert_problem(reassign(client, auth, OTHER_HEAD, task["id"], colleague), 403)
    assert_problem(reassign(client, auth, HEAD, task["id"], user_id(runtime, OTHER_STAFF)), 422)
    assert reassign(client, auth, HEAD, task["id"], colleague).status_code == 204


def create_returned(client, auth) -> str:
    nomination_id = submitted_nomination(client, auth)
    task = open_task(client, auth, nomination_id, "unit_review")
    response = complete(client, auth, HEAD, task["id"], {"decision": "return",
                                                         "reason": "Bổ sung biên bản họp Hội đồng."})
    assert response.status_code == 200
    assert detail(client, auth, nomination_id)["status"] == "returned"
    return nomination_id


def test_reassign_body_is_checked(client, auth):
    task = dost_task(client, auth)
    response = client.post(f"/api/v1/tasks/{task['id']}/reassign", headers=auth(DOST_LEAD), json={"user": 1})
    assert_problem(response, 422)
    assert error_fields(response) == {"user", "user_id"}


# --- substitutes ---------------------------------------------------------------------------------------

def test_a_substitute_acts_for_an_absent_head_between_the_dates_only(client, auth, runtime, clock):
    nomination_id = submitted_nomination(client, auth)
    task = open_task(client, auth, nomination_id, "unit_review")
    assert claim(client, auth, HEAD, task["id"]).status_code == 204
    assert_problem(complete(client, auth, OTHER_HEAD, task["id"], SUBMIT), 403)

    today = clock.now().date()
    response = client.post("/api/v1/substitutes", headers=auth(ADMIN), json={
        "absent_id": user_id(runtime, HEAD), "substitute_id": user_id(runtime, OTHER_HEAD),
        "starts_on": (today + timedelta(days=1)).isoformat(), "ends_on": (today + timedelta(days=3)).isoformat()})
    assert response.status_code == 201

    assert_problem(complete(client, auth, OTHER_HEAD, task["id"], SUBMIT), 403)  # not yet
    clock.advance(timedelta(days=4))
    assert_problem(complete(client, auth, OTHER_HEAD, task["id"], SUBMIT), 403)  # over
    assert inbox(client, auth, OTHER_HEAD, "?scope=all") == []
    clock.advance(timedelta(days=-2))
    [seen] = inbox(client, auth, OTHER_HEAD, "?scope=all")  # claimed by the head he stands in for
    assert seen["id"] == task["id"]
    me = client.get("/api/v1/me", headers=auth(OTHER_HEAD)).get_json()
    assert me["acting_for"] == [user_id(runtime, HEAD)] and HIEN_NAM in me["units"]
    assert complete(client, auth, OTHER_HEAD, task["id"], SUBMIT).status_code == 200
    completed = [e for e in detail(client, auth, nomination_id)["history"] if e["kind"] == "task_completed"]
    assert completed[-1]["actor_id"] == user_id(runtime, OTHER_HEAD)
