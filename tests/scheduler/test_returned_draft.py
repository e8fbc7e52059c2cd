"""A returned draft has a deadline and reminders from its diagram's own timers; a first draft has
neither. Mails read from a real SMTP server, with the injected clock moved across working days."""

from __future__ import annotations

from .helpers import HEAD, STAFF, at, complete, deliver, email_of, open_tasks, outbox, submitted_nomination, wake
from .test_arrivals import REASON

RESUBMIT = {"decision": "submit", "submission_number": "12/TTr-UBND"}


def returned_nomination(runtime) -> str:
    """Returned by the unit head on Monday 13/4/2026 09:00 (the fixtures' clock)."""
    nomination_id = submitted_nomination(runtime)
    complete(runtime, HEAD, nomination_id, "unit_review", {"decision": "return", "reason": REASON})
    return nomination_id


def test_a_returned_draft_is_reminded_the_day_before_and_told_when_late(mail_runtime, smtp, clock):
    runtime = mail_runtime
    nomination_id = returned_nomination(runtime)
    [draft] = open_tasks(runtime, nomination_id)
    # bpmn/nomination.bpmn: the returned draft's timers, working_days(4, hour=8) and working_days(5)
    assert (draft.stage, draft.name) == ("draft", "Hoàn thiện hồ sơ theo yêu cầu")
    assert draft.due_at == at("2026-04-20", 17)
    staff = email_of(runtime, STAFF)

    clock.set(at("2026-04-17", 7, 59))  # Friday, before the reminder
    assert wake(runtime).woken == 0
    clock.set(at("2026-04-17", 8, 0, 30))
    assert wake(runtime).woken == 1
    deliver(runtime)
    [reminder] = smtp.to(staff)
    assert reminder.subject == ("[nomflow] Nhắc việc: còn 1 ngày làm việc – Hoàn thiện hồ sơ theo yêu cầu – "
                                "Ủy ban nhân dân phường Hiến Nam")
    assert "sẽ đến hạn xử lý vào 17:00 thứ Hai, ngày 20/04/2026 (còn 1 ngày làm việc)." in reminder.text
    assert f"/nominations/{nomination_id}" in reminder.text

    for moment in (at("2026-04-18", 10), at("2026-04-20", 16, 59)):  # the weekend, the last working day
        clock.set(moment)
        assert wake(runtime).woken == 0, moment
    clock.set(at("2026-04-20", 17, 0, 30))
    assert wake(runtime).woken == 1
    deliver(runtime)
    late = smtp.to(staff)[-1]
    assert late.subject.startswith("[nomflow] Quá hạn") and "Hoàn thiện hồ sơ theo yêu cầu" in late.subject
    assert "17:00 thứ Hai, ngày 20/04/2026" in late.text
    [still_open] = open_tasks(runtime, nomination_id)  # the notice does not take the draft away from the unit
    assert still_open.id == draft.id and still_open.due_at == at("2026-04-20", 17)

    clock.set(at("2026-04-21", 9))  # resubmitted late: its timers are gone with it
    complete(runtime, STAFF, nomination_id, "draft", {})
    [review] = open_tasks(runtime, nomination_id)
    assert review.stage == "unit_review"
    sent = len(smtp.to(staff))
    clock.set(at("2026-05-29", 9))
    wake(runtime)
    deliver(runtime)
    assert len(smtp.to(staff)) == sent


def test_a_first_draft_has_no_deadline_and_no_reminder(mail_runtime, smtp, clock):
    from service.usecases.nominations import create_draft
    from tests.workflows.conftest import draft_data

    from .helpers import HIEN_NAM, actor

    runtime = mail_runtime
    nomination_id = create_draft(runtime, actor(runtime, STAFF), HIEN_NAM, draft_data())
    [draft] = open_tasks(runtime, nomination_id)
    assert draft.stage == "draft" and draft.due_at is None
    for day in ("2026-04-17", "2026-04-20", "2026-04-21", "2026-06-01"):
        clock.set(at(day, 9))
        assert wake(runtime).woken == 0, day
    assert outbox(runtime) == []


def test_each_return_starts_its_own_deadline(mail_runtime, smtp, clock):
    runtime = mail_runtime
    nomination_id = returned_nomination(runtime)
    clock.set(at("2026-04-15", 10))  # Wednesday: resubmitted, returned again
    complete(runtime, STAFF, nomination_id, "draft", {})
    complete(runtime, HEAD, nomination_id, "unit_review", {"decision": "return", "reason": REASON})
    [draft] = open_tasks(runtime, nomination_id)
    assert draft.due_at == at("2026-04-22", 17)
    clock.set(at("2026-04-17", 8, 30))  # the first return's reminder day: nothing left of its timers
    assert wake(runtime).woken == 0
    clock.set(at("2026-04-21", 8, 1))
    assert wake(runtime).woken == 1
    deliver(runtime)
    assert [m.subject.split(" – ")[0] for m in smtp.to(email_of(runtime, STAFF))] == [
        "[nomflow] Nhắc việc: còn 1 ngày làm việc"]
