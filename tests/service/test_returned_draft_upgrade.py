"""A nomination sitting in a returned draft when the diagram with the returned-draft task is deployed.

Before, a return reopened the first drafting's task and the service gave it the deadline
(`resubmitWithinWorkingDays` on that task); now a return leads to a task of its own with timers.
An instance of the previous version cannot be moved onto the new one (the steps it went through
changed: a return no longer leads where it led), so it stays on its version, keeps the deadline its
inbox row was given, and goes on: resubmitted, reviewed, returned again, as its version says."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from service.db.models import InboxRow
from service.usecases.setup import init_db

from .helpers import ADMIN, HEAD, STAFF, act, create_nomination, detail, open_task, submit
from .test_legacy_versions import install_legacy, version_of
from .test_process_admin import BASE, at

PREVIOUS = (Path(__file__).resolve().parent.parent / "fixtures" / "nomination_before_returned_draft_task.bpmn")
RETURN = {"decision": "return", "reason": "Bổ sung báo cáo thành tích có xác nhận."}


def test_an_instance_in_a_returned_draft_stays_on_its_version_and_keeps_its_deadline(client, auth, runtime, clock):
    install_legacy(runtime, PREVIOUS.read_bytes())  # as the previous release's init_db left it: version 2
    nomination_id = create_nomination(client, auth)
    assert submit(client, auth, nomination_id).status_code == 200
    act(client, auth, nomination_id, "unit_review", HEAD, RETURN)  # Monday 13/4/2026
    draft = open_task(client, auth, nomination_id, "draft")
    with runtime.uow() as uow:  # the deadline the previous release gave at the return
        uow.session.execute(update(InboxRow).where(InboxRow.id == draft["id"]).values(due_at=at("2026-04-20", 17)))
        uow.commit()

    assert init_db(runtime) == ["nomination"]  # the upgrade deploys the shipped diagram: version 3
    preview = client.post(f"{BASE}/nomination/migrations/preview", headers=auth(ADMIN), json={"to_version": 3})
    assert preview.status_code == 200, preview.get_json()
    [plan] = preview.get_json()
    assert plan["nomination_id"] == nomination_id and plan["safe"] is False and plan["reasons"]
    migrated = client.post(f"{BASE}/nomination/migrations", headers=auth(ADMIN),
                           json={"to_version": 3, "instance_ids": [plan["instance_id"]]})
    assert migrated.status_code == 200 and migrated.get_json()[0]["migrated"] is False

    assert version_of(runtime, nomination_id, client, auth) == 2
    page = detail(client, auth, nomination_id)
    assert page["status"] == "returned"
    with runtime.read() as uow:
        row = uow.session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination_id)).one()
    assert row.due_at is not None and row.due_at.astimezone(at("2026-04-20", 17).tzinfo) == at("2026-04-20", 17)

    assert submit(client, auth, nomination_id, STAFF).status_code == 200  # resubmitted on its own version
    assert detail(client, auth, nomination_id)["status"] == "unit_review"
    act(client, auth, nomination_id, "unit_review", HEAD, {"decision": "submit", "submission_number": "7/TTr"})
    assert detail(client, auth, nomination_id)["status"] == "dost_review"
    assert version_of(runtime, nomination_id, client, auth) == 2


def test_an_upload_of_the_previous_shape_is_refused_with_the_element_named(client, auth):
    import io

    from .helpers import assert_problem

    body = assert_problem(client.post("/api/v1/admin/processes/validate", headers=auth(ADMIN),
                                      data={"file": (io.BytesIO(PREVIOUS.read_bytes()), "nomination.bpmn")},
                                      content_type="multipart/form-data"), 422)
    assert any(e.get("element_id") == "draft_nomination" and "lần trả lại phải dẫn tới một nhiệm vụ riêng"
               in e["message"] for e in body["errors"]), body["errors"]
