"""Migrating running nominations to a newer deployed version: dry run, safety, due times, audit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from service.db.models import AuditEvent, InboxRow, ProcessVersion

from .helpers import ADMIN, DOST_OFFICER, STAFF, assert_problem, complete, detail, open_task
from .test_process_admin import (
    BASE,
    at,
    at_dost_check,
    counts,
    deploy,
    dost_check_days,
    instance_row,
    iso,
    renamed_draft_step,
    version_of,
)


def instant(value: str) -> datetime:
    """API instants compare as instants: the offset they are written with depends on the database."""
    return datetime.fromisoformat(value)


def test_changed_timer_applies_to_new_nominations_and_to_old_ones_once_migrated(client, auth, runtime, clock):
    older = at_dost_check(client, auth)  # opened Monday 13/4 09:00
    assert instant(open_task(client, auth, older, "dost_review")["due_at"]) == at("2026-04-20", 17)

    deploy(client, auth, dost_check_days(3))
    clock.set(at("2026-04-14", 9))
    newer = at_dost_check(client, auth)
    assert instant(open_task(client, auth, newer, "dost_review")["due_at"]) == at("2026-04-17", 17)
    assert instant(open_task(client, auth, older, "dost_review")["due_at"]) == at("2026-04-20", 17)
    old_row = instance_row(runtime, detail(client, auth, older))
    new_row = instance_row(runtime, detail(client, auth, newer))
    assert (version_of(runtime, old_row), version_of(runtime, new_row)) == (1, 2)

    # Dry run: only the older one is listed; it is safe; its new due time counts from when its task opened.
    before = counts(runtime)
    preview = client.post(f"{BASE}/nomination/migrations/preview", headers=auth(ADMIN), json={"to_version": 2})
    assert preview.status_code == 200, preview.get_json()
    [plan] = preview.get_json()
    assert (plan["nomination_id"], plan["safe"], plan["migrated"], plan["reasons"]) == (older, True, False, [])
    assert {c["element_id"] for c in plan["changes"]} == {
        "dost_check_dossier_reminder_before", "dost_check_dossier_reminder_due", "dost_check_dossier_deadline"}
    assert all(c["state"] == "waiting" and c["attributes"] == ["event_definition"] for c in plan["changes"])
    [due] = plan["open_tasks"]
    assert (due["task_id"], instant(due["due_before"]), instant(due["due_after"])) == (
        "dost_check_dossier", at("2026-04-20", 17), at("2026-04-16", 17))
    assert instant(plan["next_wake_after"]) == at("2026-04-15", 8)
    assert counts(runtime) == before
    unchanged = instance_row(runtime, detail(client, auth, older))
    assert (unchanged.version, unchanged.state) == (old_row.version, old_row.state)

    migrated = client.post(f"{BASE}/nomination/migrations", headers=auth(ADMIN),
                           json={"to_version": 2, "instance_ids": [old_row.id]})
    assert migrated.status_code == 200, migrated.get_json()
    assert [(r["instance_id"], r["migrated"]) for r in migrated.get_json()] == [(old_row.id, True)]
    task = open_task(client, auth, older, "dost_review")
    assert instant(task["due_at"]) == at("2026-04-16", 17)
    row = instance_row(runtime, detail(client, auth, older))
    with runtime.uow() as uow:
        v2 = uow.session.scalars(select(ProcessVersion).where(ProcessVersion.version == 2)).one()
        stored_due = uow.session.get(InboxRow, task["id"]).due_at
        event = uow.session.scalars(select(AuditEvent).where(AuditEvent.kind == "instance_migrated")).one()
    assert (row.process_version_id, row.state["checksum"]) == (v2.id, v2.checksum)
    assert row.next_wake_at == at("2026-04-15", 8)
    assert stored_due == at("2026-04-16", 17)
    assert (event.nomination_id, event.detail["from_version"], event.detail["to_version"]) == (older, 1, 2)
    assert event.detail["due"] == [{"task_id": "dost_check_dossier", "due_before": iso("2026-04-20", 17),
                                    "due_after": iso("2026-04-16", 17)}]

    # Nothing left to migrate; the migrated instance carries on under its new version.
    again = client.post(f"{BASE}/nomination/migrations/preview", headers=auth(ADMIN), json={"to_version": 2})
    assert again.get_json() == []
    response = complete(client, auth, DOST_OFFICER, task["id"], {"decision": "complete", "criteria_met": ["a1"]})
    assert response.status_code == 200, response.get_json()
    assert detail(client, auth, older)["status"] == "dost_selection"


def test_a_change_upstream_of_an_instance_is_unsafe_and_not_migrated(client, auth, runtime):
    passed = at_dost_check(client, auth)  # has completed draft_nomination
    fresh = client.post("/api/v1/nominations", headers=auth(STAFF),
                        json={"unit_id": "phuong-hien-nam", "data": {}}).get_json()["id"]  # still drafting
    deploy(client, auth, renamed_draft_step(), note="Đổi tên bước lập hồ sơ")
    rows = {n: instance_row(runtime, detail(client, auth, n)) for n in (passed, fresh)}

    preview = client.post(f"{BASE}/nomination/migrations/preview", headers=auth(ADMIN), json={"to_version": 2})
    plans = {p["nomination_id"]: p for p in preview.get_json()}
    assert plans[passed]["safe"] is False
    assert "draft_nomination" in plans[passed]["reasons"][0] and "upstream" in plans[passed]["reasons"][0]
    blocking = [c for c in plans[passed]["changes"] if c["blocking"]]
    assert [(c["element_id"], c["state"], c["attributes"]) for c in blocking] == [
        ("draft_nomination", "completed", ["bpmn_name"])]
    # The open task someone is still drafting only gets a new display name: safe.
    assert plans[fresh]["safe"] is True
    assert [(c["element_id"], c["state"]) for c in plans[fresh]["changes"]] == [("draft_nomination", "ready")]

    before = counts(runtime)
    response = client.post(f"{BASE}/nomination/migrations", headers=auth(ADMIN),
                           json={"to_version": 2, "instance_ids": [rows[passed].id, rows[fresh].id]})
    result = {r["instance_id"]: r for r in response.get_json()}
    assert (result[rows[passed].id]["migrated"], result[rows[fresh].id]["migrated"]) == (False, True)
    assert result[rows[passed].id]["reasons"] == plans[passed]["reasons"]
    kept = instance_row(runtime, detail(client, auth, passed))
    assert (kept.process_version_id, kept.version, kept.state) == (
        rows[passed].process_version_id, rows[passed].version, rows[passed].state)
    assert counts(runtime)[2] == before[2] + 1  # one audit event: the fresh one's migration only
    assert open_task(client, auth, fresh, "draft")["name"] == "Lập hồ sơ khen thưởng"


def test_migration_requests_are_checked(client, auth):
    deploy(client, auth, dost_check_days(3))
    assert_problem(client.post(f"{BASE}/nomination/migrations", headers=auth(ADMIN), json={"to_version": 2}), 422)
    assert_problem(client.post(f"{BASE}/nomination/migrations/preview", headers=auth(ADMIN),
                               json={"to_version": 9}), 404)
    result = client.post(f"{BASE}/nomination/migrations", headers=auth(ADMIN),
                         json={"to_version": 2, "instance_ids": ["nope"]}).get_json()
    assert result[0]["migrated"] is False and "no such instance" in result[0]["reasons"][0]


