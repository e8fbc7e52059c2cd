"""The morning digest: open and overdue tasks per person, working days only, once a day."""

from __future__ import annotations

from service.usecases.digest import send_daily_digests

from .helpers import DOST_LEAD, DOST_OFFICER, HEAD, at, complete, deliver, email_of, nomination_at_dost_check, outbox


def test_digest_lists_overdue_then_open_tasks_once_a_working_day(mail_runtime, smtp, clock):
    runtime = mail_runtime
    late = nomination_at_dost_check(runtime, "Ủy ban nhân dân phường Hiến Nam")  # due 20/4 17:00
    clock.set(at("2026-04-15", 9))
    fresh = nomination_at_dost_check(runtime, "Sở Tài chính tỉnh Hưng Yên")  # due 22/4 17:00
    clock.set(at("2026-04-21", 7, 0))
    assert send_daily_digests(runtime) == 0  # before 07:30 the day's digest is not due
    clock.set(at("2026-04-21", 7, 30))
    # Both tasks are in the officer's queue; the unit head's queue is empty, so no digest for him.
    assert send_daily_digests(runtime) == 1
    assert send_daily_digests(runtime) == 0  # a second run (or a second worker) enqueues nothing
    deliver(runtime)

    [mail] = smtp.messages()
    assert mail.to == [email_of(runtime, DOST_OFFICER)]
    assert mail.subject == "[nomflow] Tổng hợp công việc ngày 21/04/2026: 2 nhiệm vụ chờ xử lý, 1 quá hạn"
    assert mail.message_id.startswith("<digest.20260421.")
    text = mail.text
    assert "tính đến 07:30 thứ Ba, ngày 21/04/2026." in text
    overdue, upcoming = text.index("Nhiệm vụ đã quá hạn (1):"), text.index("Nhiệm vụ đang trong hạn (1):")
    assert overdue < text.index(late) < upcoming < text.index(fresh)
    assert "- Kiểm tra hồ sơ – Ủy ban nhân dân phường Hiến Nam" in text
    assert "  Hạn xử lý: 17:00 thứ Hai, ngày 20/04/2026 – đã quá hạn 1 ngày làm việc" in text
    assert "  Hạn xử lý: 17:00 thứ Tư, ngày 22/04/2026 – còn 1 ngày làm việc" in text
    assert f"  http://127.0.0.1:5000/nominations/{late}" in text
    assert "<ul" in mail.html and f'href="http://127.0.0.1:5000/nominations/{fresh}"' in mail.html
    assert email_of(runtime, HEAD) not in {m.to_addr for m in outbox(runtime)}


def test_no_digest_on_weekends_and_holidays(mail_runtime, smtp, clock):
    runtime = mail_runtime
    nomination_at_dost_check(runtime)
    # Saturday, Sunday, Giỗ Tổ Hùng Vương (in lieu), 30/4, 1/5
    for day in ("2026-04-18", "2026-04-19", "2026-04-27", "2026-04-30", "2026-05-01"):
        clock.set(at(day, 8))
        assert send_daily_digests(runtime) == 0, day
    clock.set(at("2026-05-04", 8))
    assert send_daily_digests(runtime) == 1


def test_digest_in_english_and_for_the_lead_after_escalation(mail_runtime, smtp, clock):
    runtime = mail_runtime
    from sqlalchemy import select

    from service.db.models import User

    with runtime.uow() as uow:
        lead = uow.session.scalars(select(User).where(User.username == DOST_LEAD)).one()
        lead.language = "en"
        uow.commit()
    nomination_id = nomination_at_dost_check(runtime)
    complete(runtime, DOST_OFFICER, nomination_id, "dost_review", {"decision": "complete"})
    clock.set(at("2026-04-14", 8))
    send_daily_digests(runtime)
    deliver(runtime)
    [mail] = smtp.to(email_of(runtime, DOST_LEAD))
    assert mail.subject == "[nomflow] Your tasks on 14/04/2026: 1 waiting"
    assert "Within their deadline (1):" in mail.text
    assert "- Lựa chọn, đề nghị khen thưởng – Ủy ban nhân dân phường Hiến Nam" in mail.text
    assert "Due: 17:00 Monday 27/04/2026" not in mail.text  # 27/4 is a rest day; the deadline skips it
    assert "working days left" in mail.text
