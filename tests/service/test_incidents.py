"""Engine failures on every path (create, complete, timer) become incidents, never a 500 (issue 12).

The diagrams here validate (their expressions are sound) but fail when they run: `int("5000")`
working days is past the calendar's range, which only the running engine can know. The user who
triggered the run gets a clear Vietnamese 409; admins see the incident on the process page and in the
API, and retry it once the diagram is fixed and the instance migrated.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service.core.errors import Conflict
from service.core.runtime import Runtime
from service.db.models import AuditEvent, InstanceRow, Nomination, RegisterEntry
from service.usecases.timers import wake_due_instances
from tests.support.signing import sign_batch

from .helpers import ADMIN, HEAD, HIEN_NAM, STAFF, assert_problem, create_nomination, detail, draft_data, submit
from .test_process_admin import BASE, NOMINATION, deploy

# int() hides the number from the literal checks; 5,000 working days is past the calendar's range.
BROKEN = 'working_days(int("5000"))'
DRAFT_TIMER = '''    <bpmn:boundaryEvent id="draft_overdue" name="Quá hạn lập" cancelActivity="false"
      attachedToRef="draft_nomination">
      <bpmn:timerEventDefinition id="draft_overdue_timer">
        <bpmn:timeDate>{expr}</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="end_draft_overdue" name="Quá hạn lập" />
    <bpmn:sequenceFlow id="flow_draft_overdue" sourceRef="draft_overdue" targetRef="end_draft_overdue" />
  </bpmn:process>'''


def with_draft_timer(expr: str) -> bytes:
    return NOMINATION.replace(b"  </bpmn:process>", DRAFT_TIMER.format(expr=expr).encode(), 1)


def reminder_timer(expr: str) -> bytes:
    return NOMINATION.replace(b"working_days(4, hour=8)", expr.encode(), 1)


def reminder_parameter(expr: str) -> bytes:
    old = b'<spiffworkflow:parameter id="task" type="str" value="&quot;unit_head_review&quot;" />'
    assert old in NOMINATION
    value = expr.replace('"', "&quot;")
    return NOMINATION.replace(old, f'<spiffworkflow:parameter id="task" type="str" value="{value}" />'.encode(), 1)


def incident_rows(runtime: Runtime) -> list[InstanceRow]:
    with runtime.uow() as uow:
        return list(uow.session.scalars(select(InstanceRow).where(InstanceRow.incident.is_not(None))))


def nominate(client, auth):
    return client.post("/api/v1/nominations", headers=auth(STAFF), json={"unit_id": HIEN_NAM, "data": draft_data()})


def test_create_failure_is_an_incident_with_a_clear_409_then_retried_after_the_fix(client, auth, runtime):
    deploy(client, auth, with_draft_timer(BROKEN), note="hỏng", base=1)
    body = assert_problem(nominate(client, auth), 409)
    assert "Quy trình gặp sự cố" in body["detail"] and "working_days" in body["detail"]
    [row] = incident_rows(runtime)
    assert row.incident.startswith("create: ") and row.status == "running"
    with runtime.uow() as uow:
        nomination = uow.session.scalars(select(Nomination).where(Nomination.instance_id == row.id)).one()

    listed = client.get(f"{BASE}/incidents", headers=auth(ADMIN)).get_json()
    assert [(i["instance_id"], i["nomination_id"], i["version"]) for i in listed] == [(row.id, nomination.id, 2)]
    page = client.get("/admin/processes", headers=auth(ADMIN)).get_data(as_text=True)
    assert f'id="incident-{row.id}"' in page and "Chạy lại" in page

    # Retried before the fix: the same failure, still an incident, still a 409 (never a 500).
    assert_problem(client.post(f"{BASE}/incidents/{row.id}/retry", headers=auth(ADMIN)), 409)
    assert len(incident_rows(runtime)) == 1
    # The page's button does the same and says why on the page it comes back to.
    pressed = client.post(f"/admin/processes/incidents/{row.id}/retry", headers=auth(ADMIN))
    assert pressed.status_code == 302 and pressed.headers["Location"].endswith("/admin/processes#incidents")
    assert "working_days" in client.get("/admin/processes", headers=auth(ADMIN)).get_data(as_text=True)
    assert len(incident_rows(runtime)) == 1

    deploy(client, auth, with_draft_timer("working_days(5)"), note="sửa", base=2)
    migrated = client.post(f"{BASE}/nomination/migrations", headers=auth(ADMIN),
                           json={"to_version": 3, "instance_ids": [row.id]})
    assert [r["migrated"] for r in migrated.get_json()] == [True], migrated.get_json()
    retried = client.post(f"{BASE}/incidents/{row.id}/retry", headers=auth(ADMIN))
    assert retried.status_code == 200, retried.get_json()
    assert incident_rows(runtime) == []
    assert [t["task_id"] for t in detail(client, auth, nomination.id)["tasks"]] == ["draft_nomination"]
    assert client.get(f"{BASE}/incidents", headers=auth(ADMIN)).get_json() == []


def test_completion_failure_is_an_incident_and_the_step_is_not_kept(client, auth, runtime):
    deploy(client, auth, reminder_timer('working_days(int("5000"), hour=8)'), note="hỏng", base=1)
    nomination_id = create_nomination(client, auth)
    body = assert_problem(submit(client, auth, nomination_id), 409)
    assert "Quy trình gặp sự cố" in body["detail"]
    [row] = incident_rows(runtime)
    assert row.incident.startswith("complete: ")
    shown = detail(client, auth, nomination_id)
    assert shown["status"] == "draft" and [t["task_id"] for t in shown["tasks"]] == ["draft_nomination"]
    # The rest of the service is unaffected: another unit head's inbox, another nomination.
    assert client.get("/api/v1/tasks", headers=auth(HEAD)).status_code == 200


def test_timer_failure_is_an_incident_and_stops_waking(client, auth, runtime, clock):
    deploy(client, auth, reminder_parameter(BROKEN), note="hỏng", base=1)
    nomination_id = create_nomination(client, auth)
    assert submit(client, auth, nomination_id).status_code == 200
    clock.advance(timedelta(days=10))
    report = wake_due_instances(runtime)
    assert report.failed == 1
    [row] = incident_rows(runtime)
    assert row.incident.startswith("timer: ") and row.next_wake_at is None
    with runtime.uow() as uow:
        kinds = set(uow.session.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id == row.id)))
    assert "incident" in kinds
    assert wake_due_instances(runtime).failed == 0  # not tried again until an admin retries


def test_retry_of_an_instance_without_incident_is_a_409(client, auth, runtime):
    nomination_id = create_nomination(client, auth)
    instance_id = detail(client, auth, nomination_id)["instance_id"]
    assert_problem(client.post(f"{BASE}/incidents/{instance_id}/retry", headers=auth(ADMIN)), 409)
    assert_problem(client.post(f"{BASE}/incidents/{instance_id}/retry", headers=auth(STAFF)), 403)


def test_failure_of_the_instance_a_message_is_delivered_to_is_its_incident(client, auth, runtime, pki):
    """The Chairman signs; delivering the decision makes the nomination's engine fail: the signature is
    not kept, the nomination's instance (not the batch's) carries the incident, the Chairman gets a 409."""
    from .helpers import CHAIRMAN, HA_OFFICER, actor, awaiting_decision
    from .test_api_batches import batch_task, new_batch, prepare

    old = b'<spiffworkflow:parameter id="template" type="str" value="&quot;awarded&quot;" />'
    broken = b'<spiffworkflow:parameter id="template" type="str" value="working_days(int(&quot;5000&quot;))" />'
    assert old in NOMINATION
    deploy(client, auth, NOMINATION.replace(old, broken, 1), note="hỏng", base=1)
    nomination_id = awaiting_decision(client, auth)
    batch_id = new_batch(client, auth)
    assert prepare(client, auth, batch_id, [nomination_id]).status_code == 200
    sign = batch_task(client, auth, batch_id, "decision_signing")
    with pytest.raises(Conflict, match="Quy trình gặp sự cố"):
        sign_batch(runtime, pki, batch_id, actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN))
    with runtime.read() as uow:  # nothing of the signing is kept: no number taken, no signed file
        assert uow.session.scalars(select(RegisterEntry)).all() == []
    [row] = incident_rows(runtime)
    assert row.id == detail(client, auth, nomination_id)["instance_id"] and row.incident.startswith("message: ")
    assert batch_task(client, auth, batch_id, "decision_signing")["id"] == sign["id"]  # the signature was not kept
    assert detail(client, auth, nomination_id)["status"] == "awaiting_decision"
