"""The outbox's lease rules, each broken on purpose in review and caught here (issue 16, loose ends):
a worker never starts a send with less than LEASE_MARGIN of its lease left, and a mail whose lease ran
out on its last attempt fails instead of being claimed again forever."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from service.db.models import OutboxMail
from service.mail.smtp import Connection, Mailer, mailer_for
from service.usecases.outbox import LEASE, LEASE_MARGIN, MAX_ATTEMPTS, deliver_outbox

from .helpers import enqueue_digests, outbox


class SlowToConnect:
    """A mailer whose connection takes most of the lease (a hung DNS lookup, a slow TLS handshake)."""

    def __init__(self, inner: Mailer, clock, delay: timedelta):
        self.inner, self.clock, self.delay = inner, clock, delay

    def connect(self) -> Connection:
        self.clock.advance(self.delay)
        return self.inner.connect()


def test_no_send_starts_with_less_than_the_margin_of_the_lease_left(mail_runtime, smtp, clock):
    enqueue_digests(mail_runtime, ["a@example.org"])
    slow = SlowToConnect(mailer_for(mail_runtime.config), clock, LEASE - LEASE_MARGIN + timedelta(seconds=1))
    report = deliver_outbox(mail_runtime, mailer=slow)
    assert (report.sent, smtp.messages()) == (0, [])  # another worker may take the row over any moment now
    [mail] = outbox(mail_runtime)
    assert (mail.status, mail.attempts, mail.next_attempt_at) == ("pending", 0, clock.now())  # handed back
    assert deliver_outbox(mail_runtime).sent == 1  # and sent by the next run, once


def test_a_send_with_the_margin_left_goes_ahead(mail_runtime, smtp, clock):
    enqueue_digests(mail_runtime, ["a@example.org"])
    slow = SlowToConnect(mailer_for(mail_runtime.config), clock, LEASE - LEASE_MARGIN - timedelta(seconds=1))
    assert deliver_outbox(mail_runtime, mailer=slow).sent == 1


def test_an_expired_lease_on_the_last_attempt_fails_the_mail_and_is_not_claimed_again(mail_runtime, smtp, clock):
    enqueue_digests(mail_runtime, ["a@example.org"])
    with mail_runtime.uow() as uow:  # a worker died while sending the last allowed attempt
        mail = uow.session.scalars(select(OutboxMail)).one()
        mail.status, mail.attempts, mail.next_attempt_at = "sending", MAX_ATTEMPTS, clock.now() - timedelta(minutes=1)
        uow.commit()
    for _ in range(3):
        assert deliver_outbox(mail_runtime).sent == 0
        clock.advance(LEASE)
    assert smtp.messages() == []
    [mail] = outbox(mail_runtime)
    assert (mail.status, mail.attempts) == ("failed", MAX_ATTEMPTS)  # listed for an admin to resend
    assert "gián đoạn" in (mail.last_error or "")
