"""Migrating a running instance onto a newer diagram: what counts as safe, and what happens to timers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from workflows.clock import FixedClock
from workflows.diagrams import BPMN_DIR, ProcessDefinition
from workflows.engine import WorkflowEngine
from workflows.migration import MigrationError, plan_migration

from .conftest import VN, act, draft_data, drive_to_selection, task_named

NOMINATION = (BPMN_DIR / "nomination.bpmn").read_text(encoding="utf-8")


def at(day: str, hour: int) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=VN)


def boundary_of(text: str, task: str) -> tuple[int, int]:
    start = text.index(f'<bpmn:boundaryEvent id="{task}_reminder_before"')
    return start, text.index("<bpmn:serviceTask", start)


def with_days(task: str, old: int, new: int, text: str = NOMINATION) -> str:
    start, end = boundary_of(text, task)
    timers = (text[start:end].replace(f"working_days({old - 1}, hour=8)", f"working_days({new - 1}, hour=8)")
              .replace(f"working_days({old}, hour=8)", f"working_days({new}, hour=8)")
              .replace(f"working_days({old})", f"working_days({new})"))
    return text[:start] + timers + text[end:]


@pytest.fixture
def load(roles, forms, settings):
    loader = WorkflowEngine.loader(roles, forms, settings)

    def load(text: str) -> ProcessDefinition:
        return loader.load(text.encode(), "nomination.bpmn")["nomination"]

    return load


@pytest.fixture
def at_dost_check(start_nomination):
    instance, _ = start_nomination()
    drive_to_selection(instance)  # dost_check_dossier opened Monday 13/4 09:00
    return instance


def opened(instance, task_id: str, when: datetime) -> dict[str, datetime]:
    return {task_named(instance, task_id).id: when}


def test_a_changed_timer_on_the_open_task_is_safe_and_counts_from_when_the_task_opened(
        engine, at_dost_check, load, clock: FixedClock):
    task = task_named(at_dost_check, "dost_check_dossier")
    assert task.due_at == at("2026-04-20", 17)
    clock.set(at("2026-04-15", 10))  # migrated two days later: the deadline still counts from Monday
    target = load(with_days("dost_check_dossier", 5, 3))
    plan = plan_migration(at_dost_check, target, opened(at_dost_check, "dost_check_dossier", at("2026-04-13", 9)))
    assert plan.safe, plan.reasons
    assert {(c.element_id, c.state, c.blocking) for c in plan.changes} == {
        ("dost_check_dossier_reminder_before", "waiting", False),
        ("dost_check_dossier_reminder_due", "waiting", False),
        ("dost_check_dossier_deadline", "waiting", False)}
    [due] = plan.open_tasks
    assert (due.task_uuid, due.due_before, due.due_after) == (task.id, at("2026-04-20", 17), at("2026-04-16", 17))
    assert plan.next_wake_after == at("2026-04-15", 8)  # already past: fires at the next scheduler run

    migrated = plan.migrated
    assert migrated is not None and migrated.definition is target
    state = migrated.serialize()
    assert state["checksum"] == target.checksum
    restored = engine.restore(state)
    assert task_named(restored, "dost_check_dossier").due_at == at("2026-04-16", 17)
    outcome = restored.fire_due_timers()
    assert [n.params["kind"] for n in outcome.notifications] == ["before_due"]


def test_without_an_opening_time_a_changed_timer_counts_from_now(at_dost_check, load, clock: FixedClock):
    clock.set(at("2026-04-14", 9))
    plan = plan_migration(at_dost_check, load(with_days("dost_check_dossier", 5, 3)))
    assert plan.safe and plan.open_tasks[0].due_after == at("2026-04-17", 17)


def test_unchanged_timers_keep_their_exact_due_time(at_dost_check, load, clock: FixedClock):
    clock.set(at("2026-04-16", 9))
    # A change further down the path (home affairs' appraisal now has 15 days) leaves DOST's timers alone.
    target = load(with_days("home_affairs_appraise", 20, 15))
    plan = plan_migration(at_dost_check, target, {})
    assert plan.safe and plan.changes == []
    assert plan.open_tasks[0].due_after == plan.open_tasks[0].due_before == at("2026-04-20", 17)
    assert plan.next_wake_after == plan.next_wake_before == at("2026-04-17", 8)


def test_a_downstream_change_reaches_the_planned_tasks(at_dost_check, load):
    renamed = NOMINATION.replace('name="Lựa chọn, đề nghị khen thưởng"', 'name="Bình chọn"', 1)
    plan = plan_migration(at_dost_check, load(renamed), {})
    assert plan.safe
    assert [(c.element_id, c.state, c.blocking) for c in plan.changes] == [("dost_select", "planned", False)]
    instance = plan.migrated
    assert instance is not None
    act(instance, "dost_check_dossier", {"decision": "complete"})
    assert task_named(instance, "dost_select").name == "Bình chọn"


def test_a_change_to_a_step_already_taken_is_unsafe(at_dost_check, load):
    renamed = NOMINATION.replace('name="Lập hồ sơ đề nghị khen thưởng"', 'name="Lập hồ sơ"', 1)
    state = at_dost_check.serialize()
    plan = plan_migration(at_dost_check, load(renamed), {})
    assert not plan.safe and plan.migrated is None
    assert [(c.element_id, c.state, c.attributes) for c in plan.changes if c.blocking] == [
        ("draft_nomination", "completed", ("bpmn_name",))]
    assert at_dost_check.serialize() == state  # refused before anything was touched


def test_a_timer_that_already_fired_cannot_be_retimed(at_dost_check, load, clock: FixedClock):
    clock.set(at("2026-04-17", 8) + timedelta(minutes=1))
    at_dost_check.fire_due_timers()  # the day-before reminder went out
    plan = plan_migration(at_dost_check, load(with_days("dost_check_dossier", 5, 3)), {})
    assert not plan.safe
    assert [(c.element_id, c.state) for c in plan.changes if c.blocking] == [
        ("dost_check_dossier_reminder_before", "completed")]


def test_an_open_task_may_only_change_its_name_or_timers(at_dost_check, load):
    other_lane = NOMINATION.replace("<bpmn:flowNodeRef>dost_check_dossier</bpmn:flowNodeRef>", "", 1).replace(
        "<bpmn:flowNodeRef>dost_select</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>dost_select</bpmn:flowNodeRef><bpmn:flowNodeRef>dost_check_dossier</bpmn:flowNodeRef>", 1)
    plan = plan_migration(at_dost_check, load(other_lane), {})
    assert not plan.safe
    assert [(c.element_id, c.state, c.attributes) for c in plan.changes if c.blocking] == [
        ("dost_check_dossier", "ready", ("lane",))]

    renamed = NOMINATION.replace('name="Kiểm tra hồ sơ"', 'name="Kiểm tra, đối chiếu hồ sơ"', 1)
    plan = plan_migration(at_dost_check, load(renamed), {})
    assert plan.safe and plan.migrated is not None
    assert task_named(plan.migrated, "dost_check_dossier").name == "Kiểm tra, đối chiếu hồ sơ"


def test_adding_a_timer_to_a_task_already_open_is_unsafe(at_dost_check, load):
    start, _ = boundary_of(NOMINATION, "dost_check_dossier")
    extra = ('<bpmn:boundaryEvent id="dost_check_dossier_extra" name="Nhắc thêm" cancelActivity="false" '
             'attachedToRef="dost_check_dossier"><bpmn:outgoing>flow_extra</bpmn:outgoing>'
             '<bpmn:timerEventDefinition id="dost_check_dossier_extra_timer"><bpmn:timeDate '
             'xsi:type="bpmn:tFormalExpression">working_days(2)</bpmn:timeDate></bpmn:timerEventDefinition>'
             '</bpmn:boundaryEvent><bpmn:endEvent id="dost_check_dossier_extra_end" name="Kết thúc nhắc">'
             '<bpmn:incoming>flow_extra</bpmn:incoming></bpmn:endEvent><bpmn:sequenceFlow id="flow_extra" '
             'sourceRef="dost_check_dossier_extra" targetRef="dost_check_dossier_extra_end" />')
    text = NOMINATION[:start] + extra + NOMINATION[start:]
    lane_ref = "<bpmn:flowNodeRef>dost_check_dossier</bpmn:flowNodeRef>"
    text = text.replace(lane_ref, lane_ref + "<bpmn:flowNodeRef>dost_check_dossier_extra</bpmn:flowNodeRef>"
                        "<bpmn:flowNodeRef>dost_check_dossier_extra_end</bpmn:flowNodeRef>", 1)
    plan = plan_migration(at_dost_check, load(text), {})
    assert not plan.safe
    assert any(c.element_id == "dost_check_dossier" and "sự kiện biên" in c.reason
               for c in plan.changes if c.blocking), plan.reasons


def test_ended_instances_and_other_processes_are_refused(engine, start_nomination, definitions, load):
    instance, _ = start_nomination()
    act(instance, "draft_nomination", draft_data(award="giay_khen"))
    act(instance, "unit_head_review", {"decision": "submit", "submission_number": "1/TTr"})
    assert instance.status == "completed"
    plan = plan_migration(instance, load(with_days("dost_check_dossier", 5, 3)), {})
    assert not plan.safe and "đã kết thúc" in plan.reasons[0]
    with pytest.raises(MigrationError):
        plan_migration(instance, definitions["award_decision"], {})
