"""Reminders, due times and escalation, driven by moving an injected clock."""

from __future__ import annotations

from datetime import datetime

from workflows.clock import FixedClock

from .conftest import VN, act, draft_data, drive_to_selection, task_named


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00").replace(tzinfo=VN)


def test_due_time_is_the_deadline_in_working_days(start_nomination, clock: FixedClock):
    instance, _ = start_nomination()
    act(instance, "draft_nomination", draft_data())
    # Opened Monday 13/4/2026 09:00; 5 working days, Hùng Kings day in lieu (27/4) not counted.
    assert task_named(instance, "unit_head_review").due_at == at("2026-04-20", 17)


def test_home_affairs_appraisal_has_twenty_working_days(start_nomination, clock: FixedClock):
    instance, _ = start_nomination()
    drive_to_selection(instance)
    act(instance, "dost_check_dossier", {"decision": "complete"})
    act(instance, "dost_select", {"decision": "select"})
    act(instance, "home_affairs_check", {"decision": "complete"})
    # 13/4/2026 + 20 working days = 14/5/2026 (27/4, 30/4 and 1/5 are holidays).
    assert task_named(instance, "home_affairs_appraise").due_at == at("2026-05-14", 17)


def test_reminders_then_escalation_to_the_lead(start_nomination, clock: FixedClock):
    instance, _ = start_nomination()
    drive_to_selection(instance)
    check = task_named(instance, "dost_check_dossier")
    assert check.due_at == at("2026-04-20", 17)
    assert instance.next_wake_at() == at("2026-04-17", 8)

    clock.set(at("2026-04-17", 7, 59))
    assert instance.fire_due_timers().notifications == []

    clock.set(at("2026-04-17", 8, 1))
    outcome = instance.fire_due_timers()
    assert [(n.action, n.params["kind"], n.task, n.to_role) for n in outcome.notifications] == [
        ("send_reminder", "before_due", "dost_check_dossier", "dost_officer")]
    assert instance.next_wake_at() == at("2026-04-20", 8)

    clock.set(at("2026-04-20", 8, 30))
    outcome = instance.fire_due_timers()
    assert [n.params["kind"] for n in outcome.notifications] == ["due_today"]
    assert task_named(instance, "dost_check_dossier").id == check.id

    clock.set(at("2026-04-20", 17, 1))
    outcome = instance.fire_due_timers()
    assert [(n.action, n.to_role) for n in outcome.notifications] == [("escalate", "dost_lead")]
    assert [t.task_id for t in outcome.closed] == ["dost_check_dossier"]
    escalated = outcome.opened[0]
    assert (escalated.task_id, escalated.role, escalated.form) == (
        "dost_check_dossier_escalated", "dost_lead", "dost_check_dossier.schema.json")

    outcome = act(instance, "dost_check_dossier_escalated", {"decision": "complete"})
    assert [t.task_id for t in outcome.opened] == ["dost_select"]


def test_a_late_tick_fires_every_timer_that_fell_due(start_nomination, clock: FixedClock):
    instance, _ = start_nomination()
    drive_to_selection(instance)
    clock.set(at("2026-05-04", 9))  # the worker was down for two weeks
    outcome = instance.fire_due_timers()
    kinds = [n.params.get("kind", n.action) for n in outcome.notifications]
    assert kinds == ["before_due", "due_today", "escalate"]
    assert [t.task_id for t in instance.open_tasks()] == ["dost_check_dossier_escalated"]


def test_reminder_across_tet_2026(start_nomination, clock: FixedClock):
    clock.set(at("2026-02-12", 10))  # Thursday before Tết Bính Ngọ (rest 14–22/2)
    instance, _ = start_nomination()
    act(instance, "draft_nomination", draft_data())
    review = task_named(instance, "unit_head_review")
    # 13/2 is day 1, then 23, 24, 25, 26/2.
    assert review.due_at == at("2026-02-26", 17)
    clock.set(at("2026-02-20", 12))
    assert instance.fire_due_timers().notifications == []
    clock.set(at("2026-02-25", 8, 5))
    assert [n.params["kind"] for n in instance.fire_due_timers().notifications] == ["before_due"]


def test_lead_roles_get_an_overdue_notice_and_keep_the_task(start_nomination, clock: FixedClock):
    instance, _ = start_nomination()
    drive_to_selection(instance)
    act(instance, "dost_check_dossier", {"decision": "complete"})
    select = task_named(instance, "dost_select")
    clock.set(select.due_at.replace(minute=1))
    outcome = instance.fire_due_timers()
    assert [n.params["kind"] for n in outcome.notifications] == ["before_due", "due_today", "overdue"]
    assert task_named(instance, "dost_select").id == select.id


def test_time_comes_only_from_the_injected_clock(start_nomination, clock: FixedClock):
    clock.set(at("2031-03-03", 9))  # Monday
    instance, _ = start_nomination()
    act(instance, "draft_nomination", draft_data())
    assert task_named(instance, "unit_head_review").due_at == at("2031-03-10", 17)
