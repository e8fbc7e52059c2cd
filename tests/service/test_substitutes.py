"""Substitutes (issue 14 item 6): a colleague with the same roles in the same unit acts at once; anyone
else only once the unit head or an admin approves; at most 90 days; listed and ended by the absent
person, their head and admins; every step is in the audit log."""

from __future__ import annotations

import pytest

from service.db.models import InboxRow
from service.usecases.notices import recipients
from service.usecases.setup import add_user
from workflows.actions import Notification

from .helpers import (
    ADMIN,
    CHAIRMAN,
    DOST_LEAD,
    HEAD,
    HIEN_NAM,
    OTHER_HEAD,
    OTHER_STAFF,
    STAFF,
    assert_problem,
    error_fields,
    submitted_nomination,
    user_id,
)

COLLEAGUE = "canbo2.hiennam"  # a second member of staff of the same unit


@pytest.fixture
def colleague(runtime) -> str:
    add_user(runtime, COLLEAGUE, "Lê Thị Thu", "unit_staff", HIEN_NAM, password="long-password-9")
    return COLLEAGUE


def name(client, auth, runtime, caller, absent, stand_in, starts="2026-04-13", ends="2026-04-20"):
    return client.post("/api/v1/substitutes", headers=auth(caller), json={
        "absent_id": user_id(runtime, absent), "substitute_id": user_id(runtime, stand_in),
        "starts_on": starts, "ends_on": ends})


def acting_for(client, auth, user) -> list[int]:
    return list(client.get("/api/v1/me", headers=auth(user)).get_json()["acting_for"])


def listed(client, auth, user) -> dict[int, dict]:
    return {row["id"]: row for row in client.get("/api/v1/substitutes", headers=auth(user)).get_json()}


def test_a_colleague_in_the_same_job_acts_at_once(client, auth, runtime, colleague):
    response = name(client, auth, runtime, STAFF, STAFF, colleague)
    assert response.status_code == 201
    assert listed(client, auth, STAFF)[response.get_json()["id"]]["status"] == "active"
    assert acting_for(client, auth, colleague) == [user_id(runtime, STAFF)]


def test_someone_of_another_unit_named_by_the_absent_person_waits_for_approval(client, auth, runtime):
    """The sweep: any user named anyone of any unit (or the admin) and they drafted for the other unit."""
    nomination_id = submitted_nomination(client, auth)
    for stand_in in (OTHER_STAFF, ADMIN):
        row = name(client, auth, runtime, STAFF, STAFF, stand_in).get_json()["id"]
        assert listed(client, auth, STAFF)[row]["status"] == "pending"
        assert acting_for(client, auth, stand_in) == []
    assert_problem(client.get(f"/api/v1/nominations/{nomination_id}", headers=auth(OTHER_STAFF)), 404)
    # The head of the absent person's unit approves; then the stand-in acts.
    pending = [r for r in listed(client, auth, HEAD).values() if r["substitute_id"] == user_id(runtime, OTHER_STAFF)]
    assert client.post(f"/api/v1/substitutes/{pending[0]['id']}/approve", headers=auth(HEAD)).status_code == 200
    assert acting_for(client, auth, OTHER_STAFF) == [user_id(runtime, STAFF)]


@pytest.mark.parametrize("approver", [STAFF, OTHER_STAFF, OTHER_HEAD, DOST_LEAD])
def test_only_the_unit_head_or_an_admin_approves(client, auth, runtime, approver):
    row = name(client, auth, runtime, STAFF, STAFF, OTHER_STAFF).get_json()["id"]
    response = client.post(f"/api/v1/substitutes/{row}/approve", headers=auth(approver))
    assert response.status_code in (403, 404)
    assert acting_for(client, auth, OTHER_STAFF) == []
    assert client.post(f"/api/v1/substitutes/{row}/approve", headers=auth(ADMIN)).status_code == 200


def test_a_head_or_an_admin_names_anyone_for_their_people(client, auth, runtime):
    assert name(client, auth, runtime, HEAD, STAFF, OTHER_STAFF).status_code == 201
    assert acting_for(client, auth, OTHER_STAFF) == [user_id(runtime, STAFF)]
    assert name(client, auth, runtime, ADMIN, HEAD, OTHER_HEAD).status_code == 201
    assert acting_for(client, auth, OTHER_HEAD) == [user_id(runtime, HEAD)]


@pytest.mark.parametrize("caller", [OTHER_STAFF, OTHER_HEAD, DOST_LEAD, CHAIRMAN])
def test_nobody_else_names_a_substitute(client, auth, runtime, caller):
    assert_problem(name(client, auth, runtime, caller, STAFF, OTHER_STAFF), 403)


@pytest.mark.parametrize(("starts", "ends", "field"), [
    ("2026-04-13", "2099-12-31", "ends_on"),  # the sweep's "until 2099"
    ("2026-04-13", "2026-07-12", "ends_on"),  # 91 days
    ("2026-04-12", "2026-04-20", "starts_on"),  # begun yesterday
    ("2027-06-01", "2027-06-02", "starts_on"),  # more than a year ahead
    ("2026-04-20", "2026-04-13", "ends_on"),
])
def test_the_period_is_bounded(client, auth, runtime, colleague, starts, ends, field):
    response = name(client, auth, runtime, ADMIN, STAFF, colleague, starts, ends)
    assert_problem(response, 422)
    assert error_fields(response) == {field}
    assert name(client, auth, runtime, ADMIN, STAFF, colleague, "2026-04-13", "2026-07-11").status_code == 201


def test_listed_and_ended_by_the_absent_person_their_head_and_admins(client, auth, runtime, colleague):
    for ender in (STAFF, HEAD, ADMIN):
        row = name(client, auth, runtime, STAFF, STAFF, colleague).get_json()["id"]
        for viewer in (STAFF, HEAD, ADMIN, colleague):
            assert row in listed(client, auth, viewer)
        for outsider in (OTHER_STAFF, OTHER_HEAD, DOST_LEAD):
            assert row not in listed(client, auth, outsider)
            assert_problem(client.post(f"/api/v1/substitutes/{row}/end", headers=auth(outsider)), 404)
        assert_problem(client.post(f"/api/v1/substitutes/{row}/end", headers=auth(colleague)), 403)
        assert acting_for(client, auth, colleague) == [user_id(runtime, STAFF)]
        ended = client.post(f"/api/v1/substitutes/{row}/end", headers=auth(ender))
        assert ended.status_code == 200 and ended.get_json()["status"] == "ended"
        assert acting_for(client, auth, colleague) == []


def test_every_step_is_audited(client, auth, runtime):
    row = name(client, auth, runtime, STAFF, STAFF, OTHER_STAFF).get_json()["id"]
    client.post(f"/api/v1/substitutes/{row}/approve", headers=auth(HEAD))
    client.post(f"/api/v1/substitutes/{row}/end", headers=auth(STAFF))
    events = client.get("/api/v1/audit?security=true", headers=auth(ADMIN)).get_json()
    steps = [(e["kind"], e["actor_id"]) for e in events if e["detail"].get("substitute_row") == row]
    assert steps == [("substitute_ended", user_id(runtime, STAFF)), ("substitute_approved", user_id(runtime, HEAD)),
                     ("substitute_added", user_id(runtime, STAFF))]


def test_deactivation_ends_the_substitutions(client, auth, runtime, colleague):
    row = name(client, auth, runtime, STAFF, STAFF, colleague).get_json()["id"]
    response = client.post(f"/api/v1/users/{user_id(runtime, colleague)}/deactivate", headers=auth(ADMIN))
    assert response.status_code == 200
    assert listed(client, auth, STAFF)[row]["status"] == "ended"


def test_reminders_reach_only_a_substitute_in_force(client, auth, runtime):
    """Mail follows the same rule as access: a pending or ended substitute is not reminded."""
    nomination_id = submitted_nomination(client, auth)
    [task] = [t for t in client.get(f"/api/v1/nominations/{nomination_id}", headers=auth(HEAD)).get_json()["tasks"]]
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=auth(HEAD)).status_code == 204
    note = Notification("send_reminder", "nomination", nomination_id, HIEN_NAM, task=task["task_id"])

    def reminded() -> set[str]:
        with runtime.read() as uow:
            return {u.username for u in recipients(uow.session, runtime, note, uow.session.get(InboxRow, task["id"]))}

    row = name(client, auth, runtime, HEAD, HEAD, OTHER_HEAD).get_json()["id"]  # another unit: pending
    assert reminded() == {HEAD}
    client.post(f"/api/v1/substitutes/{row}/approve", headers=auth(ADMIN))
    assert reminded() == {HEAD, OTHER_HEAD}
    client.post(f"/api/v1/substitutes/{row}/end", headers=auth(HEAD))
    assert reminded() == {HEAD}
