"""The morning digest: each person's open and overdue tasks, once per working day (a scheduler job),
and the late tasks at the desks their roles follow up (the DOST urges late units).

Once per user and day holds across workers and restarts because the mail's Message-ID is derived
from (day, user) and message ids are unique: a second run, or a second worker, finds it taken.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from service.core.runtime import Runtime
from service.db.models import Batch, InboxRow, OutboxMail, RoleAssignment, Unit, User
from service.reads.follow_up import followed_roles, late_tasks
from service.security.access import load_actor, task_scope
from service.usecases.notices import About, link, reports_about, working_days_left
from service.usecases.outbox import enqueue, new_message_id

DIGEST_AT = time(7, 30)  # local time; before it the day's digest is not due yet (also on catch-up runs)


def send_daily_digests(runtime: Runtime, not_before: time = DIGEST_AT) -> int:
    """Enqueue today's digest for everyone with tasks waiting; the number enqueued by this call."""
    local = runtime.clock.now().astimezone(ZoneInfo(runtime.calendar.timezone))
    if local.time() < not_before or not runtime.calendar.is_working_day(local.date()):
        return 0
    with runtime.uow() as uow:
        user_ids = list(uow.session.scalars(
            select(User.id).where(User.active, User.id.in_(select(RoleAssignment.user_id))).order_by(User.id)))
    return sum(digest_for(runtime, user_id) for user_id in user_ids)


def digest_id(runtime: Runtime, user_id: int) -> str:
    today = runtime.clock.now().astimezone(ZoneInfo(runtime.calendar.timezone)).date()
    return new_message_id(runtime, f"digest.{today:%Y%m%d}.{user_id}")


def digest_for(runtime: Runtime, user_id: int) -> bool:
    """One user's digest in its own transaction; False if nothing waits or it was already enqueued."""
    now = runtime.clock.now()
    today = now.astimezone(ZoneInfo(runtime.calendar.timezone)).date()
    message_id = digest_id(runtime, user_id)
    with runtime.uow() as uow:
        session = uow.session
        if session.scalars(select(OutboxMail.id).where(OutboxMail.message_id == message_id)).first():
            return False
        user = session.get(User, user_id)
        if user is None or not user.active:
            return False
        actor = load_actor(session, user, today, runtime.roles)
        # My claimed tasks, those of people I stand in for, and my roles' unclaimed queue.
        mine = InboxRow.assignee_id.in_([actor.user_id, *actor.acting_for])
        query = select(InboxRow).where(task_scope(actor), or_(mine, InboxRow.assignee_id.is_(None)))
        tasks = list(session.scalars(query.order_by(InboxRow.due_at.is_(None), InboxRow.due_at, InboxRow.opened_at)))
        late_elsewhere = late_tasks(session, runtime, followed_roles(runtime, actor), now)
        if not tasks and not late_elsewhere:
            return False
        batch_ids = {t.batch_id for t in tasks if t.batch_id}
        titles = dict(session.execute(select(Batch.id, Batch.title).where(Batch.id.in_(batch_ids))).all()) \
            if batch_ids else {}
        # A unit's plan or report task has no nominee and no batch: it is named by its round and unit.
        reports = reports_about(session, runtime, [t.instance_id for t in [*tasks, *late_elsewhere]
                                                   if not t.nomination_id and not t.batch_id])
        items = [_item(runtime, task, now, titles.get(task.batch_id or ""), reports.get(task.instance_id))
                 for task in tasks]
        unit_names = dict(session.execute(select(Unit.id, Unit.name).where(
            Unit.id.in_({t.unit_id for t in late_elsewhere if t.unit_id}))).all()) if late_elsewhere else {}
        to_urge = [{**_item(runtime, t, now, report=reports.get(t.instance_id)),
                    "unit": unit_names.get(t.unit_id or "", t.unit_id)} for t in late_elsewhere]
        enqueue(session, runtime, user.email, "digest", {
            "user": user, "recipient_title": "", "today": today, "now": now,
            "overdue": [i for i in items if i["overdue"]],
            "upcoming": [i for i in items if not i["overdue"] and i["due_at"]],
            "undated": [i for i in items if i["due_at"] is None],  # not "within their deadline": none
            "to_urge": to_urge, "follow_up_url": f"{link(runtime).rstrip('/')}/follow-up",
            "inbox_url": link(runtime),
        }, language=user.language, user_id=user.id, message_id=message_id)
        try:
            uow.commit()
        except IntegrityError:
            return False  # another worker enqueued the same digest a moment ago
        return True


def _item(runtime: Runtime, task: InboxRow, now: datetime, batch_title: str | None = None,
          report: About | None = None) -> dict[str, Any]:
    days = working_days_left(runtime, now, task.due_at) if task.due_at else None
    overdue = task.due_at is not None and task.due_at < now
    # A batch is named by its content (trích yếu), its code only beside it.
    batch = f"{batch_title} ({task.batch_id})" if batch_title else task.batch_id
    subject = task.nominee_name or task.nomination_id or batch or (report.name if report else "")
    if task.nomination_id and task.nominee_name:
        subject = f"{task.nominee_name} ({task.nomination_id})"
    return {
        "name": task.name, "subject": subject, "due_at": task.due_at, "overdue": overdue,
        "days": abs(days) if days is not None else None,
        "url": report.url if report and not task.nomination_id else link(runtime, task.nomination_id, task.batch_id),
    }
