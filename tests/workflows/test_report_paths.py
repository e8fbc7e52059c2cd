"""The reporting diagrams (bpmn/unit_report.bpmn, unit_plan.bpmn) on the engine alone, and the end
event an instance reports when a non-interrupting reminder branch ended before the main path."""

from __future__ import annotations

from datetime import timedelta

from .conftest import act, draft_data

FIGURES = {k: {"value": 1} for k in (
    "c2_1_initiatives", "c2_2_infrastructure", "c2_3_online_services", "c2_3_processes_digitised",
    "c2_4_enterprises_supported", "c2_5_people_trained", "c2_6_incidents_handled", "c2_7_cooperation")}


def start_report(engine, clock, process_id: str = "unit_report"):
    now = clock.now()
    return engine.start(process_id, {"unit_id": "U1", "due_at": (now + timedelta(days=7)).isoformat(),
                                     "remind_at": (now + timedelta(days=5)).isoformat()})


def test_a_report_reminded_and_overdue_still_ends_accepted(engine, clock):
    instance, opened = start_report(engine, clock)
    assert [t.task_id for t in opened.opened] == ["fill"] and opened.opened[0].role == "unit_staff"
    clock.advance(timedelta(days=8))
    fired = instance.fire_due_timers()
    assert [(n.action, n.params["kind"], n.to_role) for n in fired.notifications] == [
        ("remind_report", "before_due", "unit_staff"), ("remind_report", "overdue", "unit_head")]
    act(instance, "fill", FIGURES)
    act(instance, "approve", {"decision": "approve"})
    done = act(instance, "review", {"decision": "accept"})
    # The reminder branches ended first; the instance ended on the main path's end.
    assert (done.status, done.end_event) == ("completed", "end_accepted")


def test_a_nomination_whose_deadline_notice_fired_ends_on_its_own_end(engine, clock):
    instance, _ = engine.start("nomination", {"nomination_id": "N1", "unit_id": "U1"})
    act(instance, "draft_nomination", draft_data(award="giay_khen"))
    clock.advance(timedelta(days=14))
    assert instance.fire_due_timers().notifications  # the unit head's reminders and overdue notice
    done = act(instance, "unit_head_review", {"decision": "submit", "submission_number": "12/TTr-UBND"})
    assert (done.status, done.end_event) == ("completed", "end_unit_certificate")


def test_the_plan_diagram_has_the_same_path(engine, clock):
    instance, _ = start_report(engine, clock, "unit_plan")
    act(instance, "fill", {"plan_number": "25/KH-UBND", "plan_date": "2026-04-10",
                           "main_targets": "100% thủ tục hành chính trực tuyến toàn trình."})
    act(instance, "approve", {"decision": "return", "reason": "Bổ sung chỉ tiêu đào tạo kỹ năng số."})
    assert instance.data["return_count"] == 1 and [t.task_id for t in instance.open_tasks()] == ["fill"]
