"""Read models: the inbox and the nomination pages. No writes here."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .access import Actor, nomination_scope, require_view, task_scope
from .db.models import Attachment, AuditEvent, Nomination, OpenTask, ProcessInstance
from .errors import NotFound
from .runtime import Runtime


def task_view(runtime: Runtime, task: OpenTask, now: datetime) -> dict[str, Any]:
    view = {c.name: getattr(task, c.name) for c in OpenTask.__table__.columns}
    view["working_days_left"] = None
    view["overdue"] = False
    if task.due_at is not None:
        tz = ZoneInfo(runtime.calendar.timezone)
        view["working_days_left"] = runtime.calendar.working_days_between(
            now.astimezone(tz).date(), task.due_at.astimezone(tz).date())
        view["overdue"] = task.due_at < now
    return view


def inbox(runtime: Runtime, actor: Actor, scope: str = "mine", overdue: bool | None = None,
          due_before: datetime | None = None, kind: str | None = None, unit_id: str | None = None,
          q: str | None = None, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """"mine": claimed by me (or by someone I stand in for); "queue": my roles' unclaimed tasks;
    "all": both. Overdue first, then by due time."""
    now = runtime.clock.now()
    query = select(OpenTask).where(task_scope(actor))
    mine = OpenTask.assignee_id.in_([actor.user_id, *actor.acting_for])
    if scope == "mine":
        query = query.where(mine)
    elif scope == "queue":
        query = query.where(OpenTask.assignee_id.is_(None))
    else:
        query = query.where(or_(mine, OpenTask.assignee_id.is_(None)))
    if overdue is True:
        query = query.where(OpenTask.due_at < now)
    elif overdue is False:
        query = query.where(or_(OpenTask.due_at.is_(None), OpenTask.due_at >= now))
    if due_before is not None:
        query = query.where(OpenTask.due_at < due_before)
    if kind:
        query = query.where(OpenTask.nominee_kind == kind)
    if unit_id:
        query = query.where(OpenTask.unit_id == unit_id)
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(or_(OpenTask.nominee_name.ilike(pattern), OpenTask.nomination_id.ilike(pattern)))
    query = query.order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.opened_at).limit(limit).offset(offset)
    with runtime.uow() as uow:
        return [task_view(runtime, t, now) for t in uow.session.scalars(query)]


def list_nominations(runtime: Runtime, actor: Actor, status: str | None = None,
                     limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    query = select(Nomination).where(nomination_scope(actor, runtime.roles))
    if status:
        query = query.where(Nomination.status == status)
    query = query.order_by(Nomination.updated_at.desc()).limit(limit).offset(offset)
    with runtime.uow() as uow:
        return [_nomination_view(n) for n in uow.session.scalars(query)]


def nomination_detail(runtime: Runtime, actor: Actor, nomination_id: str) -> dict[str, Any]:
    now = runtime.clock.now()
    with runtime.uow() as uow:
        session = uow.session
        nomination = _visible(session, runtime, actor, nomination_id)
        view = _nomination_view(nomination)
        instance = session.get(ProcessInstance, nomination.instance_id) if nomination.instance_id else None
        view["version"] = instance.version if instance else None
        view["tasks"] = [task_view(runtime, t, now) for t in session.scalars(
            select(OpenTask).where(OpenTask.nomination_id == nomination_id))]
        view["attachments"] = list(session.scalars(
            select(Attachment).where(Attachment.nomination_id == nomination_id).order_by(Attachment.id)))
        view["history"] = list(session.scalars(
            select(AuditEvent).where(AuditEvent.nomination_id == nomination_id).order_by(AuditEvent.id)))
        return view


def attachment_for(runtime: Runtime, actor: Actor, nomination_id: str, sha256: str) -> Attachment:
    with runtime.uow() as uow:
        _visible(uow.session, runtime, actor, nomination_id)
        found = uow.session.scalars(select(Attachment).where(
            Attachment.nomination_id == nomination_id, Attachment.sha256 == sha256)).first()
        if found is None:
            raise NotFound("Không tìm thấy tệp")
        return found


def _visible(session: Session, runtime: Runtime, actor: Actor, nomination_id: str) -> Nomination:
    nomination = session.get(Nomination, nomination_id)
    if nomination is None:
        raise NotFound(f"Không tìm thấy hồ sơ {nomination_id}")
    require_view(actor, nomination, runtime.roles)
    return nomination


def _nomination_view(nomination: Nomination) -> dict[str, Any]:
    return {c.name: getattr(nomination, c.name) for c in Nomination.__table__.columns}
