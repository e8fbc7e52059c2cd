"""The DOST follows and urges the units (plan IV.5.1): a late unit-stage task shows on the DOST's
follow-up page and in its morning digest, not only in the unit head's own mail."""

from __future__ import annotations

from datetime import timedelta

from service.usecases.digest import send_daily_digests
from tests.web.conftest import log_in

from .helpers import DOST_OFFICER, HEAD, at, deliver, email_of, open_tasks, submitted_nomination


def test_a_late_unit_task_is_on_the_dost_follow_up_page_and_in_its_digest(mail_runtime, smtp, clock, app):
    nomination_id = submitted_nomination(mail_runtime)  # with the unit head, Monday 13/4/2026
    [review] = open_tasks(mail_runtime, nomination_id)
    assert review.due_at is not None
    clock.set(at("2026-04-24", 7, 30))  # past the unit head's deadline, a working morning
    assert review.due_at < clock.now() - timedelta(hours=1)

    assert send_daily_digests(mail_runtime) >= 1
    deliver(mail_runtime)
    [dost] = [m for m in smtp.messages() if m.to == [email_of(mail_runtime, DOST_OFFICER)]]
    assert "1 việc đơn vị chậm cần đôn đốc" in dost.subject
    assert "Việc quá hạn ở các đơn vị cần đôn đốc (1):" in dost.text
    assert (f"- Xem xét, ký tờ trình – Ủy ban nhân dân phường Hiến Nam ({nomination_id}) – "
            "Ủy ban nhân dân phường Hiến Nam") in dost.text
    assert "http://127.0.0.1:5000/follow-up" in dost.text

    client = app.test_client()
    log_in(client, DOST_OFFICER)
    page = client.get("/follow-up")
    assert page.status_code == 200 and nomination_id in page.text and "Xem xét, ký tờ trình" in page.text
    log_in(client, HEAD)  # the unit's own people have their inbox; the follow-up page is the DOST's
    assert client.get("/follow-up").status_code == 403


def test_the_person_who_claimed_an_escalated_task_is_told_it_was_taken_over(mail_runtime, smtp, clock):
    from service.usecases.tasks import claim

    from .helpers import DOST_LEAD, actor, nomination_at_dost_check, wake

    nomination_id = nomination_at_dost_check(mail_runtime)
    [check] = open_tasks(mail_runtime, nomination_id)
    claim(mail_runtime, actor(mail_runtime, DOST_OFFICER), check.id)
    clock.set(at("2026-04-22", 9))  # past the deadline: escalated to the lead
    wake(mail_runtime)
    deliver(mail_runtime)
    taken = [m for m in smtp.messages() if "đã chuyển lãnh đạo xử lý thay" in m.subject]
    assert [m.to for m in taken] == [[email_of(mail_runtime, DOST_OFFICER)]]
    assert smtp.to(email_of(mail_runtime, DOST_LEAD))  # and the lead has the escalation


def test_an_escalated_task_keeps_its_missed_deadline_and_the_digest_calls_it_overdue(mail_runtime, smtp, clock):
    from .helpers import DOST_LEAD, nomination_at_dost_check, wake

    nomination_id = nomination_at_dost_check(mail_runtime)  # the officer's check is due 20/4 17:00
    clock.set(at("2026-04-21", 7, 30))
    wake(mail_runtime)  # the deadline passed: the lead holds the task now
    [escalated] = open_tasks(mail_runtime, nomination_id)
    assert escalated.role == "dost_lead" and escalated.due_at == at("2026-04-20", 17)
    send_daily_digests(mail_runtime)
    deliver(mail_runtime)
    [digest] = [m for m in smtp.to(email_of(mail_runtime, DOST_LEAD)) if "Tổng hợp" in m.subject]
    assert "Nhiệm vụ đã quá hạn (1):" in digest.text and "đang trong hạn" not in digest.text
