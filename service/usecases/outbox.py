"""The outbox: mails are written in the same transaction as the step that causes them, and delivered
later over SMTP by `deliver_outbox` (a scheduler job), so a rolled-back step sends nothing and a
committed one is never forgotten.

A mail row moves pending → sending → sent, or back to pending for a retry, or to failed:

- claim: a batch of due rows (pending, or sending whose lease ran out) becomes `sending`, attempts+1,
  `next_attempt_at` = now + LEASE, committed before any SMTP traffic. On PostgreSQL the claim query
  takes `FOR UPDATE SKIP LOCKED`, on SQLite BEGIN IMMEDIATE serializes it, so two workers never hold
  the same row.
- send with the Message-ID stored at enqueue time, then mark `sent` in its own commit right away,
  fenced on (status, attempts) so a worker whose lease was taken over cannot overwrite the new owner.
- a failure puts the row back to pending after RETRY_BASE·2^(attempts-1) (1, 2, 4 … 64 min); after
  MAX_ATTEMPTS it is `failed`, listed on /admin/outbox where an admin sends it again.

Guarantee: at-least-once, never lost, one Message-ID per enqueue. If the process dies (or the
connection drops) after the server accepted a message and before `sent` is committed, the lease
expires and the message is sent again with the same Message-ID, which lets receivers fold the two;
that window is one SMTP reply plus one commit per message. No other path sends a message twice: a
worker never starts a send with less than LEASE_MARGIN of its lease left.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from workflows.actions import Notification

from ..access import Actor
from ..db.models import Nomination, OutboxMail
from ..errors import Forbidden, InvalidInput
from ..mailer import Mailer, PermanentMailError, build_message, mailer_for
from ..mailtext import render
from ..runtime import Runtime
from . import notices

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_BASE = timedelta(minutes=1)
LEASE = timedelta(minutes=10)
# Never start a send with less lease than this left: the send (SMTP timeouts are 30 s per command)
# must end before another worker may take the row over.
LEASE_MARGIN = timedelta(minutes=5)
CLAIM_BATCH = 20
STATUSES = ("pending", "sending", "sent", "failed")


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the `attempts`-th failed attempt: 1, 2, 4, 8, 16, 32, 64 minutes."""
    return RETRY_BASE * 2 ** max(attempts - 1, 0)


def new_message_id(runtime: Runtime, key: str | None = None) -> str:
    """A stable id, chosen at enqueue time; `key` makes it deterministic (once-per-day digests)."""
    domain = parseaddr(runtime.config.mail_from)[1].rpartition("@")[2] or "nomflow.local"
    return f"<{key or uuid.uuid4()}@{domain}>"


def enqueue(session: Session, runtime: Runtime, to_addr: str, template: str, context: dict[str, Any],
            language: str = "vi", user_id: int | None = None, message_id: str | None = None) -> OutboxMail:
    rendered = render(template, language, context, runtime.calendar.timezone)
    now = runtime.clock.now()
    mail = OutboxMail(message_id=message_id or new_message_id(runtime), to_addr=to_addr, to_user_id=user_id,
                      subject=rendered.subject[:300], body_text=rendered.text, body_html=rendered.html,
                      status="pending", attempts=0, next_attempt_at=now, created_at=now)
    session.add(mail)
    return mail


def enqueue_notification(session: Session, runtime: Runtime, note: Notification, nomination: Nomination | None,
                         instance_id: str | None = None) -> list[OutboxMail]:
    facts = notices.gather(session, runtime, note, nomination, instance_id)
    if facts is None:
        return []
    return [enqueue(session, runtime, user.email, facts.template, notices.context(runtime, facts, user, note),
                    language=user.language, user_id=user.id)
            for user in notices.recipients(session, runtime, note, facts.task)]


# --- delivery -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Claim:
    id: int
    attempts: int  # fencing token: only the holder of this attempt may record its result
    lease_until: datetime
    message: EmailMessage


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def deliver_outbox(runtime: Runtime, mailer: Mailer | None = None, batch_size: int = CLAIM_BATCH,
                   should_stop: Callable[[], bool] = lambda: False) -> DeliveryReport:
    """Send every due mail. With no SMTP server configured nothing happens: mails stay pending."""
    report = DeliveryReport()
    mailer = mailer or mailer_for(runtime.config)
    if mailer is None:
        return report
    while not should_stop():
        claims = _claim(runtime, batch_size)
        if not claims:
            break
        sent_before = report.sent
        _send(runtime, mailer, claims, report, should_stop)
        if len(claims) < batch_size or report.sent == sent_before:
            break  # nothing more due, or the server is failing: the next tick tries again
    return report


def _claim(runtime: Runtime, batch_size: int) -> list[_Claim]:
    with runtime.uow() as uow:
        session = uow.session
        now = runtime.clock.now()
        query = (select(OutboxMail)
                 .where(OutboxMail.status.in_(("pending", "sending")), OutboxMail.next_attempt_at <= now)
                 .order_by(OutboxMail.next_attempt_at, OutboxMail.id).limit(batch_size))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claims = []
        for mail in session.scalars(query):
            if mail.status == "sending":
                # The lease ran out: the worker died or hung during its send. The server may have
                # accepted the message; sending again with the same Message-ID is the only way not to
                # lose it.
                mail.last_error = _note(now, mail.attempts, "lần gửi bị gián đoạn (worker dừng giữa chừng)")
                if mail.attempts >= MAX_ATTEMPTS:
                    mail.status = "failed"
                    continue
            mail.status, mail.attempts, mail.next_attempt_at = "sending", mail.attempts + 1, now + LEASE
            claims.append(_Claim(mail.id, mail.attempts, mail.next_attempt_at,
                                 build_message(mail, runtime.config.mail_from)))
        uow.commit()
        return claims


def _send(runtime: Runtime, mailer: Mailer, claims: list[_Claim], report: DeliveryReport,
          should_stop: Callable[[], bool]) -> None:
    try:
        connection = mailer.connect()
    except Exception as exc:  # noqa: BLE001 - any connect failure counts as a failed attempt of each
        log.warning("SMTP connect failed: %s", exc)
        for claim in claims:
            _failed(runtime, claim, exc, report)
        return
    try:
        for index, claim in enumerate(claims):
            if should_stop() or runtime.clock.now() > claim.lease_until - LEASE_MARGIN:
                _release(runtime, claims[index:])
                return
            try:
                connection.send(claim.message)
            except PermanentMailError as exc:
                _failed(runtime, claim, exc, report, permanent=True)
            except (smtplib.SMTPException, OSError) as exc:
                _failed(runtime, claim, exc, report)
                if not isinstance(exc, smtplib.SMTPResponseException):  # the connection is gone
                    _release(runtime, claims[index + 1:])
                    return
            except Exception as exc:  # noqa: BLE001 - e.g. an address smtplib cannot encode
                _failed(runtime, claim, exc, report, permanent=True)
            else:
                _sent(runtime, claim, report)
    finally:
        connection.close()


def _finish(runtime: Runtime, claim: _Claim, **values: Any) -> bool:
    with runtime.uow() as uow:
        result = uow.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == claim.id, OutboxMail.status == "sending", OutboxMail.attempts == claim.attempts)
            .values(**values))
        uow.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        log.error("outbox mail %s was taken over by another worker (lease expired mid-send)", claim.id)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _sent(runtime: Runtime, claim: _Claim, report: DeliveryReport) -> None:
    # Committed at once, before the next message: this commit is the whole duplicate window.
    _finish(runtime, claim, status="sent", sent_at=runtime.clock.now())
    report.sent += 1


def _failed(runtime: Runtime, claim: _Claim, error: BaseException, report: DeliveryReport,
            permanent: bool = False) -> None:
    now = runtime.clock.now()
    message = _note(now, claim.attempts, f"{type(error).__name__}: {error}")
    if permanent or claim.attempts >= MAX_ATTEMPTS:
        _finish(runtime, claim, status="failed", last_error=message)
        report.failed += 1
        return
    _finish(runtime, claim, status="pending", last_error=message,
            next_attempt_at=now + retry_delay(claim.attempts))
    report.retried += 1


def _release(runtime: Runtime, claims: list[_Claim]) -> None:
    """Hand back claims never tried: pending again now, and the attempt they did not make uncounted."""
    now = runtime.clock.now()
    for claim in claims:
        _finish(runtime, claim, status="pending", attempts=claim.attempts - 1, next_attempt_at=now)


def _note(now: datetime, attempt: int, text: str) -> str:
    return f"{now.isoformat(timespec='seconds')} · lần {attempt}: {text}"[:2000]


# --- administration ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutboxPage:
    counts: dict[str, int]
    mails: list[OutboxMail]


def outbox_page(runtime: Runtime, actor: Actor, status: str | None = None, limit: int = 200) -> OutboxPage:
    _require_admin(actor)
    with runtime.uow() as uow:
        session = uow.session
        counts = dict.fromkeys(STATUSES, 0)
        counts.update({s: n for s, n in session.execute(
            select(OutboxMail.status, func.count()).group_by(OutboxMail.status))})
        query = select(OutboxMail)
        if status in STATUSES:
            query = query.where(OutboxMail.status == status)
        # Failed first (they need someone), then what is waiting, then the newest sent.
        rank = case({"failed": 0, "sending": 1, "pending": 2}, value=OutboxMail.status, else_=3)
        mails = list(session.scalars(query.order_by(rank, OutboxMail.id.desc()).limit(limit)))
        return OutboxPage(counts, mails)


def resend(runtime: Runtime, mail_ids: list[int], actor: Actor | None = None) -> int:
    """Failed mails go back to pending with a fresh attempt budget (and the same Message-ID).

    `actor` None is the trusted command line (`nomflow outbox resend`)."""
    if actor is not None:
        _require_admin(actor)
    with runtime.uow() as uow:
        session = uow.session
        mails = list(session.scalars(select(OutboxMail).where(OutboxMail.id.in_(mail_ids))))
        if actor is not None and len(mails) != len(set(mail_ids)):
            raise InvalidInput("Không tìm thấy thư cần gửi lại")
        resent = [m for m in mails if m.status == "failed"]
        from .instances import audit  # instances imports this module to enqueue mails

        for mail in resent:
            mail.status, mail.attempts, mail.next_attempt_at = "pending", 0, runtime.clock.now()
            audit(session, runtime, "mail_resent", actor_id=actor.user_id if actor else None,
                  mail_id=mail.id, message_id=mail.message_id, to=mail.to_addr)
        uow.commit()
        return len(resent)


def failed_ids(runtime: Runtime) -> list[int]:
    with runtime.uow() as uow:
        return list(uow.session.scalars(select(OutboxMail.id).where(OutboxMail.status == "failed")))


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Chỉ quản trị hệ thống được xem hộp thư đi (admins only)")
