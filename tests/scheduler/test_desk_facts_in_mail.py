"""Mails about a nomination cite the unit head's tờ trình number, as the pages do (issue 16)."""

from __future__ import annotations

from .helpers import at, deliver, nomination_at_dost_check, wake


def test_a_reminder_cites_the_units_submission_number(mail_runtime, smtp, clock):
    nomination_at_dost_check(mail_runtime)  # the unit head signed tờ trình 12/TTr-UBND
    clock.set(at("2026-04-17", 8, 0, 30))  # the DOST check's reminder, one working day before its due day
    assert wake(mail_runtime).woken == 1
    assert deliver(mail_runtime).sent == 1
    [mail] = smtp.messages()
    assert "  Tờ trình của đơn vị: số 12/TTr-UBND" in mail.text
    assert "12/TTr-UBND</td>" in mail.html
