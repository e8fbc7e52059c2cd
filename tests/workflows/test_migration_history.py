"""Migration keeps the instance's history readable: removing an element the instance passed by (a
cancelled reminder of a step it completed) is refused (issue 16, loose ends: this rule had no test)."""

from __future__ import annotations

from workflows.calendar import WorkingCalendar
from workflows.engine import WorkflowEngine
from workflows.migration import plan_migration

from .conftest import act, draft_data, task_named
from .test_migration import NOMINATION, boundary_of

EXTRA = ('<bpmn:boundaryEvent id="unit_head_review_extra" name="Nhắc thêm" cancelActivity="false" '
         'attachedToRef="unit_head_review"><bpmn:outgoing>flow_extra</bpmn:outgoing>'
         '<bpmn:timerEventDefinition id="unit_head_review_extra_timer"><bpmn:timeDate '
         'xsi:type="bpmn:tFormalExpression">working_days(2)</bpmn:timeDate></bpmn:timerEventDefinition>'
         '</bpmn:boundaryEvent><bpmn:endEvent id="unit_head_review_extra_end" name="Kết thúc nhắc">'
         '<bpmn:incoming>flow_extra</bpmn:incoming></bpmn:endEvent><bpmn:sequenceFlow id="flow_extra" '
         'sourceRef="unit_head_review_extra" targetRef="unit_head_review_extra_end" />')


def with_extra_reminder() -> str:
    """The shipped diagram plus one more reminder on the unit head's review."""
    start, _ = boundary_of(NOMINATION, "unit_head_review")
    text = NOMINATION[:start] + EXTRA + NOMINATION[start:]
    lane_ref = "<bpmn:flowNodeRef>unit_head_review</bpmn:flowNodeRef>"
    return text.replace(lane_ref, lane_ref + "<bpmn:flowNodeRef>unit_head_review_extra</bpmn:flowNodeRef>"
                        "<bpmn:flowNodeRef>unit_head_review_extra_end</bpmn:flowNodeRef>", 1)


def test_removing_a_cancelled_element_kept_in_history_is_unsafe(roles, forms, settings, clock):
    loader = WorkflowEngine.loader(roles, forms, settings)
    source = loader.load(with_extra_reminder().encode(), "nomination.bpmn")["nomination"]
    engine = WorkflowEngine({"nomination": source}, clock=clock, calendar=WorkingCalendar.default(),
                            settings=settings, roles=roles, forms=forms)
    instance, _ = engine.start("nomination", {"nomination_id": "N1", "unit_id": "U-hien-nam"})
    act(instance, "draft_nomination", draft_data())
    # The head signs before the extra reminder fires: the reminder is cancelled, and stays in the history.
    act(instance, "unit_head_review", {"decision": "submit", "submission_number": "12/TTr-UBND"})
    assert task_named(instance, "dost_check_dossier")

    shipped = loader.load(NOMINATION.encode(), "nomination.bpmn")["nomination"]
    plan = plan_migration(instance, shipped, {})
    assert not plan.safe and plan.migrated is None
    blocking = [(c.element_id, c.state, c.change) for c in plan.changes if c.blocking]
    assert ("unit_head_review_extra", "cancelled", "removed") in blocking, plan.reasons
    assert any("lịch sử" in c.reason for c in plan.changes if c.element_id == "unit_head_review_extra")
