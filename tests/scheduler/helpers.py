"""Driving nominations through the use cases, moving the clock, running the jobs once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from service.core.runtime import Runtime
from service.db.models import AuditEvent, InboxRow, OutboxMail, User
from service.security.access import Actor
from service.usecases.accounts import actor_for_user
from service.usecases.nominations import create_draft, submit
from service.usecases.outbox import DeliveryReport, deliver_outbox, enqueue
from service.usecases.tasks import complete_task
from service.usecases.timers import SweepReport, wake_due_instances
from tests.service.conftest import VN
from tests.workflows.conftest import draft_data

HIEN_NAM = "phuong-hien-nam"
STAFF, HEAD = "canbo.hiennam", "chutich.hiennam"
DOST_OFFICER, DOST_LEAD = "chuyenvien.khcn", "lanhdao.khcn"
ADMIN = "quantri"


def at(day: str, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, second=second, tzinfo=VN)


def user(runtime: Runtime, username: str) -> User:
    with runtime.uow() as uow:
        return uow.session.scalars(select(User).where(User.username == username)).one()


def actor(runtime: Runtime, username: str) -> Actor:
    found = actor_for_user(runtime, user(runtime, username).id)
    assert found is not None
    return found[0]


def email_of(runtime: Runtime, username: str) -> str:
    return user(runtime, username).email


def open_tasks(runtime: Runtime, nomination_id: str) -> list[InboxRow]:
    with runtime.uow() as uow:
        return list(uow.session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination_id)))


def complete(runtime: Runtime, username: str, nomination_id: str, stage: str, data: dict[str, Any]) -> None:
    """Completes the open task of `stage` (as its diagram declares it; the service reads no element id)."""
    task = next(t for t in open_tasks(runtime, nomination_id) if t.stage == stage)
    complete_task(runtime, actor(runtime, username), task.id, data)


def submitted_nomination(runtime: Runtime, name: str = "Ủy ban nhân dân phường Hiến Nam") -> str:
    """A nomination waiting for the unit head (unit_head_review)."""
    data = {**draft_data(), "nominee_name": name}
    staff = actor(runtime, STAFF)
    nomination_id = create_draft(runtime, staff, HIEN_NAM, data)
    submit(runtime, staff, nomination_id, data)
    return nomination_id


def nomination_at_dost_check(runtime: Runtime, name: str = "Ủy ban nhân dân phường Hiến Nam") -> str:
    nomination_id = submitted_nomination(runtime, name)
    complete(runtime, HEAD, nomination_id, "unit_review",
             {"decision": "submit", "submission_number": "12/TTr-UBND"})
    return nomination_id


def wake(runtime: Runtime) -> SweepReport:
    return wake_due_instances(runtime)


def deliver(runtime: Runtime) -> DeliveryReport:
    return deliver_outbox(runtime)


def enqueue_digests(runtime: Runtime, addresses: list[str]) -> None:
    """Plain mails straight into the outbox, one per address (delivery tests need no workflow)."""
    now = runtime.clock.now()
    with runtime.uow() as uow:
        for n, address in enumerate(addresses):
            enqueue(uow.session, runtime, address, "digest", {
                "user": type("U", (), {"full_name": f"Người nhận {n}"})(), "recipient_title": "",
                "today": now.date(), "now": now, "overdue": [], "upcoming": [], "inbox_url": "http://127.0.0.1:5000/"})
        uow.commit()


def outbox(runtime: Runtime) -> list[OutboxMail]:
    with runtime.uow() as uow:
        return list(uow.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def count_audit(runtime: Runtime, kind: str) -> int:
    with runtime.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == kind))
                   or 0)
