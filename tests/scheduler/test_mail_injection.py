"""Data cannot write the mail: line breaks, controls and bidi overrides in a nominee name or a
reason stay on the line the template gave them, in the text part, the HTML part and the headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy

from sqlalchemy import update

from service.db.models import Nomination, OutboxMail
from service.mail.smtp import build_message
from service.mail.text import render

from .helpers import DOST_LEAD, DOST_OFFICER, STAFF, complete, deliver, email_of, nomination_at_dost_check

PHISH = "KHẨN: xác nhận tài khoản tại https://evil.example/dang-nhap"
HOSTILE_NAME = f"Ủy ban nhân dân phường Hiến Nam\r\n\r\n{PHISH}\r\nBcc: victim@example.com\n- mục giả\u2028  Nhãn: giả"
HOSTILE_REASON = f"Thành tích chưa tiêu biểu.\n\n{PHISH}\x0b\x0c\x85\u2029\u202egnp.exe"
# What the form lets through (a text area keeps line breaks, refuses other controls): the rest of
# HOSTILE_REASON is checked at the template by test_every_interpolated_value_is_one_line.
TYPED_REASON = f"Thành tích chưa tiêu biểu.\r\n\r\n{PHISH}\n- mục giả"


def test_a_hostile_name_and_reason_stay_inside_their_lines(mail_runtime, smtp):
    runtime = mail_runtime
    nomination_id = nomination_at_dost_check(runtime)
    with runtime.uow() as uow:  # a name stored by any path, old or new: the mail layer must hold anyway
        uow.session.execute(update(Nomination).where(Nomination.id == nomination_id).values(
            nominee_name=HOSTILE_NAME))
        uow.commit()
    complete(runtime, DOST_OFFICER, nomination_id, "dost_review", {"decision": "complete"})
    complete(runtime, DOST_LEAD, nomination_id, "dost_selection", {"decision": "decline", "reason": TYPED_REASON})
    deliver(runtime)

    [mail] = [m for m in smtp.messages() if m.to == [email_of(runtime, STAFF)]]
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert mail.message["Bcc"] is None and mail.message.get_all("Subject") == [mail.subject]
    assert mail.text.startswith("Kính gửi Ông/Bà")
    lines = mail.text.splitlines()
    # The phishing text never starts a line: it sits after the name or the reason's label.
    assert [line for line in lines if "KHẨN" in line] and all(
        not line.lstrip().startswith(("KHẨN", "Bcc", "- mục", "Nhãn")) for line in lines)
    assert "  Lý do: Thành tích chưa tiêu biểu. KHẨN:" in mail.text
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", mail.text)
    # The HTML part is made from the same text: no paragraph or list item of its own for the data.
    assert not re.search(r"<(p|li)[^>]*>\s*KHẨN", mail.html)
    assert "evil.example" in mail.html and 'href="https://evil.example' not in mail.html  # shown, never a link


def test_every_interpolated_value_is_one_line():
    rendered = render("awarded", "vi", {
        "user": {"full_name": "Nguyễn Văn A\nB"}, "recipient_title": "Cán bộ\r\nthi đua",
        "subject_name": "Tên\nBcc: x@example.com", "nomination": None, "unit": None, "batch": None,
        "decision_number": "12/QĐ\r\n\r\nGiả", "decision_title": None, "url": "http://127.0.0.1/x"},
        "Asia/Ho_Chi_Minh")
    assert rendered.subject == "[nomflow] Thông báo kết quả: Tên Bcc: x@example.com được tặng Bằng khen"
    assert rendered.text.startswith("Kính gửi Ông/Bà Nguyễn Văn A B – Cán bộ thi đua,\n")
    assert "Quyết định số 12/QĐ Giả." in rendered.text
    bidi = render("awarded", "vi", {"user": {"full_name": "a\u202eb\u2066c\u200fd"}, "recipient_title": None,
                                    "subject_name": "x", "nomination": None, "unit": None, "batch": None,
                                    "decision_number": None, "decision_title": None, "url": "http://h/x"},
                  "Asia/Ho_Chi_Minh")
    assert bidi.text.startswith("Kính gửi Ông/Bà a b c d,\n")
    stored = render("awarded", "vi", {"user": {"full_name": HOSTILE_REASON}, "recipient_title": None,
                                      "subject_name": "x", "nomination": None, "unit": None, "batch": None,
                                      "decision_number": None, "decision_title": None, "url": "http://h/x"},
                    "Asia/Ho_Chi_Minh")
    first = stored.text.splitlines()[0]
    assert first.startswith("Kính gửi Ông/Bà Thành tích chưa tiêu biểu. KHẨN") and "gnp.exe" in first
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]", stored.text)


def test_a_name_that_is_only_an_address_is_not_a_link():
    rendered = render("awarded", "vi", {
        "user": {"full_name": "Hoa"}, "recipient_title": None, "subject_name": "x",
        "nomination": {"id": "DN1", "nominee_name": "https://evil.example/a", "award": None}, "unit": None,
        "batch": None, "decision_number": "https://evil.example/b", "decision_title": None,
        "url": "http://127.0.0.1:5000/nominations/DN1"}, "Asia/Ho_Chi_Minh")
    assert 'href="http://127.0.0.1:5000/nominations/DN1"' in rendered.html
    assert "evil.example/a" in rendered.html and 'href="https://evil' not in rendered.html


def test_the_subject_header_cannot_carry_a_header_of_its_own():
    """Belt and braces below render(): the stdlib's Header encodes a stray CR/LF into encoded words."""
    mail = OutboxMail(message_id="<x@nomflow.local>", to_addr="a@example.com", subject="Thư\r\nBcc: victim@example.com",
                      body_text="x\n", body_html="<p>x</p>", created_at=datetime(2026, 4, 13, tzinfo=UTC))
    parsed = message_from_bytes(build_message(mail, "nomflow <no-reply@example.com>").data, policy=policy.default)
    assert parsed["Bcc"] is None and "victim" in str(parsed["Subject"])
