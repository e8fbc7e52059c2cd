"""A unit's report is reminded before the round's due date and, once it is past, its head is told;
mails read from a real SMTP server (aiosmtpd), time moved with the injected clock."""

from __future__ import annotations

from service.reads.reports import board
from service.usecases.reports import open_round

from .helpers import DOST_OFFICER, HEAD, HIEN_NAM, STAFF, actor, at, deliver, email_of, wake


def test_a_report_is_reminded_before_its_due_date_and_its_head_told_after(mail_runtime, smtp, clock):
    runtime = mail_runtime
    # Monday 13/4/2026 09:00, 5 working days: due Monday 20/4 17:00, reminder Thursday 16/4 08:00.
    round_id = open_round(runtime, actor(runtime, DOST_OFFICER), "results", "Báo cáo kết quả năm 2026", 2026, 5,
                          [HIEN_NAM])
    clock.set(at("2026-04-16", 7, 59))
    assert wake(runtime).woken == 0
    clock.set(at("2026-04-16", 8, 0, 30))
    assert wake(runtime).woken == 1
    assert deliver(runtime).sent == 1
    [reminder] = smtp.messages()
    assert reminder.to == [email_of(runtime, STAFF)]
    assert reminder.subject == ("[nomflow] Nhắc việc: còn 2 ngày làm việc để nộp báo cáo – "
                                "Báo cáo kết quả năm 2026")
    assert "sẽ đến hạn nộp vào 17:00 thứ Hai, ngày 20/04/2026 (còn 2 ngày làm việc)" in reminder.text
    assert f"http://127.0.0.1:5000/rounds/{round_id}/units/{HIEN_NAM}" in reminder.text
    _, rows = board(runtime, actor(runtime, DOST_OFFICER), round_id)
    assert rows[0].last_reminder_at == at("2026-04-16", 8, 0, 30)
    assert rows[0].status == "not_started"

    clock.set(at("2026-04-20", 17, 0, 30))  # the due instant has passed: the unit head is told
    assert wake(runtime).woken == 1
    assert deliver(runtime).sent == 1
    overdue = smtp.messages()[-1]
    assert overdue.to == [email_of(runtime, HEAD)]
    assert overdue.subject == ("[nomflow] Quá hạn nộp báo cáo: Báo cáo kết quả năm 2026 – "
                               "Ủy ban nhân dân phường Hiến Nam")
    assert "Báo cáo gửi sau hạn vẫn được tiếp nhận nhưng được ghi nhận là chậm." in overdue.text
    _, rows = board(runtime, actor(runtime, DOST_OFFICER), round_id)
    assert rows[0].status == "late"
    assert wake(runtime).woken == 0  # each reminder once
