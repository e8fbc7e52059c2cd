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
  One SMTP connection serves a whole run (claim after claim), not one per mail or per claim.
- a failure puts the row back to pending after RETRY_BASE·2^(attempts-1) (1, 2, 4 … 64 min); after
  MAX_ATTEMPTS it is `failed`, listed on /admin/outbox where an admin sends it again.

Guarantee: at-least-once, never lost, one Message-ID per enqueue. If the process dies (or the
connection drops) after the server accepted a message and before `sent` is committed, the lease
expires and the message is sent again with the same Message-ID, which lets receivers fold the two;
that window is one SMTP reply plus one commit per message. No other path sends a message twice: a
worker never starts a send with less than LEASE_MARGIN of its lease left.
"""

from __future__ import annotations

import functools
import logging
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import Connection as DbConnection
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from service.core.errors import Forbidden, InvalidInput
from service.core.runtime import Runtime
from service.db.models import InboxRow, Nomination, OutboxMail, User
from service.db.session import UnitOfWork
from service.jobs.wakeup import MAIL_ENQUEUED
from service.mail.smtp import Connection, Mailer, PermanentMailError, build_message, mailer_for
from service.mail.text import render
from service.security.access import Actor
from service.usecases import notices
from service.usecases.audit import audit
from workflows.actions import Notification

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
    return f"<{key or uuid.uuid4()}@{_domain(runtime.config.mail_from)}>"


@functools.lru_cache(maxsize=8)
def _domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "nomflow.local"


def enqueue(session: Session, runtime: Runtime, to_addr: str, template: str, context: dict[str, Any],
            language: str = "vi", user_id: int | None = None, message_id: str | None = None) -> OutboxMail:
    rendered = render(template, language, context, runtime.calendar.timezone)
    now = runtime.clock.now()
    mail = OutboxMail(message_id=message_id or new_message_id(runtime), to_addr=to_addr, to_user_id=user_id,
                      subject=rendered.subject[:300], body_text=rendered.text, body_html=rendered.html,
                      status="pending", attempts=0, next_attempt_at=now, created_at=now)
    session.add(mail)
    session.info[MAIL_ENQUEUED] = True  # the commit rings the jobs process's doorbell (jobs/wakeup.py)
    return mail


def enqueue_notification(session: Session, runtime: Runtime, note: Notification, nomination: Nomination | None,
                         instance_id: str | None = None, tasks: list[InboxRow] | None = None) -> list[OutboxMail]:
    facts = notices.gather(session, runtime, note, nomination, instance_id, tasks)
    if facts is None:
        return []
    told = _recipients(session, runtime, note, facts.task)
    mails = [enqueue(session, runtime, user.email, facts.template, notices.context(runtime, facts, user, note),
                     language=user.language, user_id=user.id) for user in told]
    if facts.template == "escalation":
        # Those who held the task hear that it was taken over, so that no one works on it twice.
        mails += [enqueue(session, runtime, user.email, "taken_over", notices.context(runtime, facts, user, note),
                          language=user.language, user_id=user.id)
                  for user in notices.former_holders(session, runtime, note, facts) if user not in told]
    return mails


_RECIPIENTS = "nomflow.outbox.recipients"


def share_recipients(session: Session) -> None:
    """From now on in this session, notifications to the same role, unit and task holder look their
    recipients up once: the timer sweep sends hundreds of reminders to the same officers in one
    transaction. Only for a session that changes no user, role or substitute."""
    session.info[_RECIPIENTS] = {}


def _recipients(session: Session, runtime: Runtime, note: Notification, task: InboxRow | None) -> list[User]:
    shared: dict[tuple[Any, ...], list[User]] | None = session.info.get(_RECIPIENTS)
    if shared is None:
        return notices.recipients(session, runtime, note, task)
    # Everything notices.recipients() reads of the note and the task.
    key = (note.action, note.to_role, note.unit_id, note.params.get("template"),
           task.assignee_id if task is not None else None)
    if key not in shared:
        shared[key] = notices.recipients(session, runtime, note, task)
    return shared[key]


# --- delivery -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Claim:
    id: int
    attempts: int  # fencing token: only the holder of this attempt may record its result
    lease_until: datetime
    mail: OutboxMail  # as claimed (detached): the message is built from it at send time


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def deliver_outbox(runtime: Runtime, mailer: Mailer | None = None, batch_size: int = CLAIM_BATCH,
                   should_stop: Callable[[], bool] = lambda: False) -> DeliveryReport:
    """Send every due mail, over one SMTP connection for the whole run. With no SMTP server
    configured nothing happens: mails stay pending."""
    mailer = mailer or mailer_for(runtime.config)
    if mailer is None:
        return DeliveryReport()
    results = _Results(runtime)
    connection: Connection | None = None
    try:
        while not should_stop():
            claims = _claim(runtime, batch_size)
            if not claims:
                break
            if connection is None:
                try:
                    connection = mailer.connect()
                except Exception as exc:  # noqa: BLE001 - any connect failure counts as a failed attempt of each
                    log.warning("SMTP connect failed: %s", exc)
                    for claim in claims:
                        results.failed(claim, exc)
                    break
            sent_before = results.report.sent
            if not _send(runtime, connection, claims, results, should_stop):
                break
            if len(claims) < batch_size or results.report.sent == sent_before:
                break  # nothing more due, or the server is failing: the next tick tries again
    finally:
        if connection is not None:
            connection.close()
        results.close()
    return results.report


def _claim(runtime: Runtime, batch_size: int) -> list[_Claim]:
    with UnitOfWork(runtime.db, short=True) as uow:  # a few ms: ahead of the web's writes on SQLite
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
            claims.append(_Claim(mail.id, mail.attempts, mail.next_attempt_at, mail))
        uow.commit()
        return claims


def _send(runtime: Runtime, connection: Connection, claims: list[_Claim], results: _Results,
          should_stop: Callable[[], bool]) -> bool:
    """Send the claims in order; False when the run must end (stop asked, lease short, connection lost)."""
    for index, claim in enumerate(claims):
        if should_stop() or runtime.clock.now() > claim.lease_until - LEASE_MARGIN:
            results.release(claims[index:])
            return False
        try:
            # Built here, not at claim time: a mail that cannot be written out fails alone below.
            connection.send(build_message(claim.mail, runtime.config.mail_from))
        except PermanentMailError as exc:
            results.failed(claim, exc, permanent=True)
        except (smtplib.SMTPException, OSError) as exc:
            results.failed(claim, exc)
            if not isinstance(exc, smtplib.SMTPResponseException):  # the connection is gone
                results.release(claims[index + 1:])
                return False
        except Exception as exc:  # noqa: BLE001 - e.g. an address smtplib cannot encode
            results.failed(claim, exc, permanent=True)
        else:
            results.sent(claim)
    return True


class _Results:
    """Records the outcome of each attempt in its own commit, fenced on (status, attempts).

    One database connection serves the whole run: a unit of work per mail would check a connection
    out of the pool (and ping it) for every message."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.report = DeliveryReport()
        self._connection: DbConnection | None = None

    def sent(self, claim: _Claim) -> None:
        # Committed at once, before the next message: this commit is the whole duplicate window.
        self._finish(claim, status="sent", sent_at=self.runtime.clock.now())
        self.report.sent += 1

    def failed(self, claim: _Claim, error: BaseException, permanent: bool = False) -> None:
        now = self.runtime.clock.now()
        message = _note(now, claim.attempts, f"{type(error).__name__}: {error}")
        if permanent or claim.attempts >= MAX_ATTEMPTS:
            self._finish(claim, status="failed", last_error=message)
            self.report.failed += 1
            return
        self._finish(claim, status="pending", last_error=message, next_attempt_at=now + retry_delay(claim.attempts))
        self.report.retried += 1

    def release(self, claims: list[_Claim]) -> None:
        """Hand back claims never tried: pending again now, and the attempt they did not make uncounted."""
        now = self.runtime.clock.now()
        for claim in claims:
            self._finish(claim, status="pending", attempts=claim.attempts - 1, next_attempt_at=now)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _finish(self, claim: _Claim, **values: Any) -> bool:
        if self._connection is None:
            self._connection = self.runtime.db.short_engine.connect()
        try:
            result = self._connection.execute(
                update(OutboxMail)
                .where(OutboxMail.id == claim.id, OutboxMail.status == "sending",
                       OutboxMail.attempts == claim.attempts)
                .values(**values))
            self._connection.commit()
        except BaseException:
            self.close()  # rolls back; the next result starts on a fresh connection
            raise
        if result.rowcount != 1:
            log.error("outbox mail %s was taken over by another worker (lease expired mid-send)", claim.id)
        return result.rowcount == 1


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
        mails = list(session.scalars(select(OutboxMail).where(OutboxMail.id.in_(mail_ids))
                                     .order_by(OutboxMail.id).with_for_update()))
        if actor is not None and len(mails) != len(set(mail_ids)):
            raise InvalidInput("Không tìm thấy thư cần gửi lại")
        resent = [m for m in mails if m.status == "failed"]

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
        raise Forbidden("Chỉ quản trị hệ thống được xem hộp thư đi")
