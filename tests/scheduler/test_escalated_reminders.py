"""A task the lead took over after its deadline (issue 16, "Hearing about it"): it keeps the deadline
it missed, and the lead is reminded at his desk on the 1st and 3rd working morning after taking it
over. The reminders are diagram data (boundary timers declared remindsOnly on the escalated task),
read here from a real SMTP server, with the clock travelling across a weekend.
"""

from __future__ import annotations

from .helpers import DOST_LEAD, at, deliver, email_of, nomination_at_dost_check, open_tasks, wake

MISSED = at("2026-04-20", 17)  # the officer's check, opened Monday 13/4, was due Monday 20/4 17:00


def test_the_lead_is_reminded_of_a_task_he_took_over_and_it_stays_late(mail_runtime, smtp, clock):
    runtime = mail_runtime
    nomination_id = nomination_at_dost_check(runtime)
    clock.set(at("2026-04-22", 9))  # Wednesday: the deadline passed, the lead takes the check over
    assert wake(runtime).woken == 1
    deliver(runtime)
    [escalated] = open_tasks(runtime, nomination_id)
    assert escalated.task_id == "dost_check_dossier_escalated" and escalated.due_at == MISSED
    before = len(smtp.messages())

    clock.set(at("2026-04-23", 7, 59))
    assert wake(runtime).woken == 0  # not before the next working morning
    clock.set(at("2026-04-23", 8, 0, 30))  # Thursday, the 1st working day after the take-over
    assert wake(runtime).woken == 1
    deliver(runtime)
    [first] = smtp.messages()[before:]
    lead = email_of(runtime, DOST_LEAD)
    assert first.to == [lead]
    assert "Quá hạn" in first.subject and "Kiểm tra hồ sơ (lãnh đạo xử lý thay)" in first.subject, first.subject
    assert "20/04/2026" in first.text, first.text  # the deadline it missed, not one of its own

    # Friday 24/4 is the 2nd working day; then the weekend, and Monday 27/4 is off in lieu of the Hùng
    # Kings' day (10/3 lunar, Sunday 26/4; Labour Code art. 112).
    for day in ("2026-04-24", "2026-04-25", "2026-04-26", "2026-04-27"):
        clock.set(at(day, 10))
        assert wake(runtime).woken == 0
    clock.set(at("2026-04-28", 8, 1))  # Tuesday, the 3rd working day
    assert wake(runtime).woken == 1
    deliver(runtime)
    [second] = smtp.messages()[before + 1:]
    assert second.to == [lead] and second.subject == first.subject

    clock.set(at("2026-05-20", 9))  # nothing more: two reminders, no endless mail
    assert wake(runtime).woken == 0
    [still] = open_tasks(runtime, nomination_id)
    assert still.id == escalated.id and still.due_at == MISSED
