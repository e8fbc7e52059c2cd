"""Reminders and escalation arrive on the right working day, read from a real SMTP server."""

from __future__ import annotations

from sqlalchemy import select

from service.db.models import InboxRow, OutboxMail, User
from service.reads.api import inbox

from .helpers import (
    DOST_LEAD,
    DOST_OFFICER,
    HEAD,
    actor,
    at,
    deliver,
    email_of,
    nomination_at_dost_check,
    open_tasks,
    outbox,
    submitted_nomination,
    wake,
)


def test_reminder_on_the_last_working_day_before_a_weekend_deadline(mail_runtime, smtp, clock):
    runtime = mail_runtime
    nomination_id = nomination_at_dost_check(runtime)  # Monday 13/4/2026 09:00: due Monday 20/4 17:00
    [check] = open_tasks(runtime, nomination_id)
    assert check.task_id == "dost_check_dossier" and check.due_at == at("2026-04-20", 17)

    clock.set(at("2026-04-17", 7, 59))  # Friday, before office hours
    assert wake(runtime).woken == 0  # nothing due: the sweep does not even open the instance
    clock.set(at("2026-04-17", 8, 0, 30))
    assert wake(runtime).woken == 1
    assert deliver(runtime).sent == 1

    [mail] = smtp.messages()
    officer = email_of(runtime, DOST_OFFICER)
    assert mail.to == [officer]
    assert mail.subject == ("[nomflow] Nhắc việc: còn 1 ngày làm việc – Kiểm tra hồ sơ – "
                            "Ủy ban nhân dân phường Hiến Nam")
    assert mail.message_id == outbox(runtime)[0].message_id
    assert mail.message_id.startswith("<") and mail.message_id.endswith("@nomflow.hungyen.gov.vn>")
    assert mail.text.startswith("Kính gửi Ông/Bà Hoàng Thị Lan – Chuyên viên Sở Khoa học và Công nghệ,")
    assert "sẽ đến hạn xử lý vào 17:00 thứ Hai, ngày 20/04/2026 (còn 1 ngày làm việc)." in mail.text
    assert f"  Hồ sơ: {nomination_id} – Ủy ban nhân dân phường Hiến Nam" in mail.text
    assert f"http://127.0.0.1:5000/nominations/{nomination_id}" in mail.text
    assert "Trân trọng./." in mail.text
    assert f'href="http://127.0.0.1:5000/nominations/{nomination_id}"' in mail.html
    assert "<th" in mail.html and "Hạn xử lý" in mail.html and "<pre" not in mail.html

    for day in ("2026-04-18", "2026-04-19"):  # the weekend: nothing falls due
        clock.set(at(day, 10))
        assert wake(runtime).woken == 0
    clock.set(at("2026-04-20", 8, 1))
    assert wake(runtime).woken == 1
    deliver(runtime)
    due_today = smtp.messages()[-1]
    assert due_today.subject.startswith("[nomflow] Nhắc việc: hôm nay là hạn cuối – Kiểm tra hồ sơ")
    assert "đến hạn xử lý vào 17:00 thứ Hai, ngày 20/04/2026 (hôm nay)." in due_today.text
    assert len(set(smtp.counts())) == 2 and max(smtp.counts().values()) == 1


def test_reminder_across_tet_2026(mail_runtime, smtp, clock):
    runtime = mail_runtime
    clock.set(at("2026-02-12", 10))  # Thursday before Tết Bính Ngọ: 14–22/02/2026 are rest days
    nomination_id = submitted_nomination(runtime)
    [review] = open_tasks(runtime, nomination_id)
    assert review.task_id == "unit_head_review" and review.due_at == at("2026-02-26", 17)  # 13, 23, 24, 25, 26

    for moment in (at("2026-02-13", 17, 30), at("2026-02-17", 9), at("2026-02-20", 12), at("2026-02-24", 16)):
        clock.set(moment)
        assert wake(runtime).woken == 0, moment
    assert outbox(runtime) == []

    clock.set(at("2026-02-25", 8, 5))
    assert wake(runtime).woken == 1
    deliver(runtime)
    [mail] = smtp.messages()
    assert mail.to == [email_of(runtime, HEAD)]
    assert mail.subject.startswith("[nomflow] Nhắc việc: còn 1 ngày làm việc – Xem xét, ký tờ trình")
    assert "17:00 thứ Năm, ngày 26/02/2026" in mail.text
    assert "Kính gửi Ông/Bà Trần Văn Minh – Thủ trưởng cơ quan, đơn vị," in mail.text


def test_escalation_moves_the_task_to_the_lead_who_gets_the_mail(mail_runtime, smtp, clock):
    runtime = mail_runtime
    nomination_id = nomination_at_dost_check(runtime)
    for moment in (at("2026-04-17", 8, 1), at("2026-04-20", 8, 1)):
        clock.set(moment)
        wake(runtime)
    clock.set(at("2026-04-20", 17, 0, 30))
    assert wake(runtime).woken == 1

    [task] = open_tasks(runtime, nomination_id)
    assert (task.task_id, task.role) == ("dost_check_dossier_escalated", "dost_lead")
    assert [t["task_id"] for t in inbox(runtime, actor(runtime, DOST_LEAD), scope="queue")] == [task.task_id]
    assert inbox(runtime, actor(runtime, DOST_OFFICER), scope="queue") == []

    deliver(runtime)
    [mail] = smtp.to(email_of(runtime, DOST_LEAD))
    assert mail.subject == ("[nomflow] Chuyển lãnh đạo xử lý thay do quá hạn: Kiểm tra hồ sơ – "
                            "Ủy ban nhân dân phường Hiến Nam")
    assert "Kính gửi Ông/Bà Ngô Văn Thắng – Lãnh đạo Sở Khoa học và Công nghệ," in mail.text
    assert ("đã hết hạn xử lý (17:00 thứ Hai, ngày 20/04/2026) mà Chuyên viên Sở Khoa học và Công nghệ chưa hoàn "
            "thành") in mail.text
    assert "  Nhiệm vụ: Kiểm tra hồ sơ (lãnh đạo xử lý thay)" in mail.text
    # before_due and due_today, then the news that the lead took it over (issue 16), nothing more
    reminded, _, taken = smtp.to(email_of(runtime, DOST_OFFICER))
    assert reminded.subject.startswith("[nomflow] Nhắc việc")
    assert taken.subject == ("[nomflow] Nhiệm vụ quá hạn đã chuyển lãnh đạo xử lý thay: Kiểm tra hồ sơ – "
                             "Ủy ban nhân dân phường Hiến Nam")
    assert "Lãnh đạo Sở Khoa học và Công nghệ đã nhận xử lý thay" in taken.text


def test_a_worker_down_for_days_catches_up_in_one_sweep(mail_runtime, smtp, clock):
    runtime = mail_runtime
    nomination_id = nomination_at_dost_check(runtime)
    clock.set(at("2026-04-22", 9))  # reminders and deadline all fell due while no worker ran
    assert wake(runtime).woken == 1
    assert [t.task_id for t in open_tasks(runtime, nomination_id)] == ["dost_check_dossier_escalated"]
    deliver(runtime)
    # The stale "due soon / due today" reminders of a task that has already moved to the lead are not
    # sent; the lead's escalation mail is, and the officer hears that the lead took it over.
    assert [(m.to, m.subject.split(":")[0]) for m in smtp.messages()] == [
        ([email_of(runtime, DOST_LEAD)], "[nomflow] Chuyển lãnh đạo xử lý thay do quá hạn"),
        ([email_of(runtime, DOST_OFFICER)], "[nomflow] Nhiệm vụ quá hạn đã chuyển lãnh đạo xử lý thay")]
    with runtime.uow() as uow:
        # the lead's copy keeps the deadline it missed (issue 16): late, not "without a deadline"
        assert uow.session.scalars(select(InboxRow.due_at)).all() == [at("2026-04-20", 17)]


def test_english_for_a_user_who_chose_english(mail_runtime, smtp, clock):
    runtime = mail_runtime
    with runtime.uow() as uow:
        officer = uow.session.scalars(select(User).where(User.username == DOST_OFFICER)).one()
        officer.language = "en"
        uow.commit()
    nomination_at_dost_check(runtime)
    clock.set(at("2026-04-17", 8, 1))
    wake(runtime)
    deliver(runtime)
    [mail] = smtp.messages()
    assert mail.subject == "[nomflow] Reminder: 1 working day left – Kiểm tra hồ sơ – Ủy ban nhân dân phường Hiến Nam"
    assert mail.text.startswith("Dear Hoàng Thị Lan (Department of Science and Technology officer),")
    assert "is due at 17:00 Monday 20/04/2026: 1 working day left." in mail.text
    assert '<html lang="en">' in mail.html


def test_claimed_task_reminds_only_its_holder(mail_runtime, smtp, clock):
    runtime = mail_runtime
    nomination_id = nomination_at_dost_check(runtime)
    with runtime.uow() as uow:
        second = User(username="chuyenvien2.khcn", full_name="Trịnh Văn Nam", email="nam@khcn.local",
                      password_hash="x", language="vi", active=True, failed_logins=0, created_at=clock.now())
        uow.session.add(second)
        uow.session.flush()
        from service.db.models import RoleAssignment

        uow.session.add(RoleAssignment(user_id=second.id, role="dost_officer"))
        task = uow.session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination_id)).one()
        task.assignee_id = second.id
        uow.commit()
    clock.set(at("2026-04-17", 8, 1))
    wake(runtime)
    deliver(runtime)
    assert [m.to for m in smtp.messages()] == [["nam@khcn.local"]]
    with runtime.uow() as uow:
        assert uow.session.scalars(select(OutboxMail.to_addr)).all() == ["nam@khcn.local"]
