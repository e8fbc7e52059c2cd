"""Delivery over SMTP: back-off while the server is down, failed after the last attempt, the admin
outbox page and its resend button, claims that never overlap, leases that expire."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from service.db.models import OutboxMail
from service.mail.smtp import SmtpMailer
from service.usecases import outbox as outbox_cases
from service.usecases.outbox import LEASE, MAX_ATTEMPTS, _claim, retry_delay

from .helpers import (
    ADMIN,
    DOST_OFFICER,
    at,
    deliver,
    email_of,
    enqueue_digests,
    nomination_at_dost_check,
    outbox,
    wake,
)
from .smtp_sink import SmtpSink


def one_reminder(runtime, clock) -> OutboxMail:
    nomination_at_dost_check(runtime)
    clock.set(at("2026-04-17", 8, 1))
    wake(runtime)
    [mail] = outbox(runtime)
    return mail


def test_retry_schedule_doubles_from_one_minute():
    assert [retry_delay(n) for n in range(1, MAX_ATTEMPTS)] == [timedelta(minutes=2 ** k) for k in range(7)]


def test_server_down_then_back_delivers_once(mail_runtime, smtp: SmtpSink, clock):
    runtime = mail_runtime
    mail = one_reminder(runtime, clock)
    smtp.stop()
    start = clock.now()

    assert deliver(runtime).retried == 1
    [row] = outbox(runtime)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, start + timedelta(minutes=1))
    assert "ConnectionRefusedError" in (row.last_error or "")

    assert deliver(runtime).retried == 0  # not due again before its back-off
    clock.advance(timedelta(minutes=1))
    assert deliver(runtime).retried == 1
    [row] = outbox(runtime)
    assert (row.attempts, row.next_attempt_at) == (2, clock.now() + timedelta(minutes=2))

    smtp.start()  # the server is back on the same port
    clock.advance(timedelta(minutes=1, seconds=59))
    assert deliver(runtime).sent == 0  # still inside the 2-minute back-off
    clock.advance(timedelta(seconds=1))
    assert deliver(runtime).sent == 1
    [row] = outbox(runtime)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 3, clock.now())
    assert [m.message_id for m in smtp.messages()] == [mail.message_id]
    assert deliver(runtime).sent == 0


def login(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": "demo-password-1", "csrf_token": token})
    assert response.status_code == 302


def test_failed_after_the_last_attempt_then_resent_from_the_admin_page(mail_runtime, smtp, clock, client):
    runtime = mail_runtime
    mail = one_reminder(runtime, clock)
    smtp.stop()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = deliver(runtime)
        [row] = outbox(runtime)
        assert row.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert (report.retried, row.status) == (1, "pending")
            clock.set(row.next_attempt_at)
    assert (report.failed, row.status) == (1, "failed")
    assert clock.now() - at("2026-04-17", 8, 1) == timedelta(minutes=127)  # 1+2+4+…+64
    clock.advance(timedelta(days=1))
    assert deliver(runtime).sent == 0  # failed mails wait for a person

    login(client, DOST_OFFICER)
    assert client.get("/admin/outbox").status_code == 403
    client.post("/logout", data={"csrf_token": _token(client, "/inbox")})
    login(client, ADMIN)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert mail.subject in page and email_of(runtime, DOST_OFFICER) in page
    assert f"{MAX_ATTEMPTS} / {MAX_ATTEMPTS}" in page and "ConnectionRefusedError" in page
    assert f'action="/admin/outbox/{mail.id}/resend"' in page
    detail = client.get(f"/admin/outbox/{mail.id}").get_data(as_text=True)
    assert "Kính gửi Ông/Bà Hoàng Thị Lan" in detail and html.escape(mail.message_id) in detail

    assert client.post(f"/admin/outbox/{mail.id}/resend").status_code == 400  # no CSRF token
    response = client.post(f"/admin/outbox/{mail.id}/resend", data={"csrf_token": _token(client, "/admin/outbox")})
    assert response.status_code == 302
    [row] = outbox(runtime)
    assert (row.status, row.attempts) == ("pending", 0)

    smtp.start()
    assert deliver(runtime).sent == 1
    assert [m.message_id for m in smtp.messages()] == [mail.message_id]
    assert f'action="/admin/outbox/{mail.id}/resend"' not in client.get("/admin/outbox").get_data(as_text=True)


def _token(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_a_refused_recipient_fails_at_once(mail_runtime, smtp, clock):
    runtime = mail_runtime
    one_reminder(runtime, clock)
    with runtime.uow() as uow:
        uow.session.execute(text("UPDATE outbox_mail SET to_addr = 'ghost@refused.invalid'"))
        uow.commit()
    report = deliver(runtime)
    [row] = outbox(runtime)
    assert (report.failed, row.status, row.attempts) == (1, "failed", 1)
    assert "550" in (row.last_error or "")
    assert smtp.messages() == []


def test_claims_never_overlap_and_an_expired_lease_is_taken_over(mail_runtime, smtp, clock):
    runtime = mail_runtime
    enqueue_digests(runtime, [f"u{n}@example.org" for n in range(5)])
    first, second = _claim(runtime, 3), _claim(runtime, 3)
    assert len(first) == 3 and len(second) == 2
    assert not {c.id for c in first} & {c.id for c in second}
    assert _claim(runtime, 3) == []  # everything is leased

    # The worker holding `first` died mid-send: after the lease another one sends the same messages.
    clock.advance(LEASE + timedelta(seconds=1))
    again = _claim(runtime, 10)
    assert sorted(c.id for c in again) == sorted(c.id for c in first + second)
    assert {c.mail.message_id for c in again} == {c.mail.message_id for c in first + second}
    assert {c.attempts for c in again} == {2}
    # The dead worker's late result cannot overwrite the new holder's claim (fenced on attempts).
    late = outbox_cases._Results(runtime)
    late.sent(first[0])
    late.close()
    with runtime.uow() as uow:
        assert uow.session.get(OutboxMail, first[0].id).status == "sending"


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_settings_are_used(mail_runtime, smtp, clock, security):
    """Against a plain server both TLS modes fail cleanly and count as attempts (no plain-text fallback)."""
    from dataclasses import replace

    runtime = mail_runtime
    runtime.config = replace(runtime.config, smtp_security=security)
    one_reminder(runtime, clock)
    assert deliver(runtime).retried == 1
    assert smtp.messages() == []


# Row locks are PostgreSQL's; SQLite serializes writers with BEGIN IMMEDIATE.
@pytest.mark.parametrize("database_url", ["postgresql"], ids=["pg"], indirect=True)
def test_postgresql_workers_skip_each_others_rows(mail_runtime, smtp, clock, database_url):
    runtime = mail_runtime
    one_reminder(runtime, clock)
    with runtime.db.engine.connect() as other:  # another worker, in the middle of claiming the row
        other.execute(select(OutboxMail).with_for_update())
        assert _claim(runtime, 10) == []  # SKIP LOCKED: not waited for, not taken
        other.rollback()
    assert len(_claim(runtime, 10)) == 1


def test_one_smtp_connection_serves_a_whole_run(mail_runtime, smtp, clock):
    runtime = mail_runtime
    enqueue_digests(runtime, [f"u{n}@example.org" for n in range(45)])
    connections = []

    class CountingMailer:
        def connect(self):
            connections.append(SmtpMailer(runtime.config).connect())
            return connections[-1]

    report = outbox_cases.deliver_outbox(runtime, mailer=CountingMailer(), batch_size=20)
    assert report.sent == 45 and len(connections) == 1  # three claims, one connection
    assert sorted(smtp.counts().values()) == [1] * 45


def test_a_mail_that_cannot_be_written_out_fails_alone(mail_runtime, smtp, clock):
    runtime = mail_runtime
    enqueue_digests(runtime, ["a@example.org", "b@example.org\r\nBcc: c@example.org", "d@example.org"])
    report = deliver(runtime)
    assert (report.sent, report.failed) == (2, 1)
    assert [m.to for m in smtp.messages()] == [["a@example.org"], ["d@example.org"]]
    failed = [m for m in outbox(runtime) if m.status == "failed"]
    assert len(failed) == 1 and "line break in the To header" in failed[0].last_error


def test_the_message_as_it_arrives(mail_runtime, smtp, clock):
    runtime = mail_runtime
    mail = one_reminder(runtime, clock)
    deliver(runtime)
    [received] = smtp.messages()
    message = received.message
    assert message["Message-ID"] == mail.message_id
    assert message["Date"].datetime == mail.created_at
    assert str(message["From"]) == "nomflow <no-reply@nomflow.hungyen.gov.vn>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert received.subject == mail.subject  # long Vietnamese subject, folded, spaces kept
    assert received.text.replace("\r\n", "\n") == mail.body_text
    assert received.html.replace("\r\n", "\n") == mail.body_html
