"""Read models: the inbox and the nomination pages. No writes here."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, false, func, or_, select, union_all
from sqlalchemy.orm import Session

from service.core.errors import NotFound
from service.core.runtime import Runtime
from service.db.lookups import batch_of
from service.db.models import (
    ApiToken,
    Attachment,
    AuditEvent,
    Batch,
    InboxRow,
    InstanceRow,
    Nomination,
    OutboxMail,
    ProcessVersion,
    Unit,
    User,
)
from service.security.access import (
    Actor,
    nomination_scope,
    require_admin,
    require_batch_viewer,
    task_scope_branches,
    visible_nomination,
)
from service.security.events import SECURITY_EVENTS


def task_view(runtime: Runtime, task: InboxRow, now: datetime) -> dict[str, Any]:
    view = {c.name: getattr(task, c.name) for c in InboxRow.__table__.columns}
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
          q: str | None = None, limit: int = 50, offset: int = 0,
          movement_id: int | None = None) -> list[dict[str, Any]]:
    """"mine": claimed by me (or by someone I stand in for); "queue": my roles' unclaimed tasks;
    "all": both. Overdue first, then by due time."""
    now = runtime.clock.now()
    filters: list[ColumnElement[bool]] = []
    mine = InboxRow.assignee_id.in_([actor.user_id, *actor.acting_for])
    if scope == "mine":
        filters.append(mine)
    elif scope == "queue":
        filters.append(InboxRow.assignee_id.is_(None))
    else:
        filters.append(or_(mine, InboxRow.assignee_id.is_(None)))
    if overdue is True:
        filters.append(InboxRow.due_at < now)
    elif overdue is False:
        filters.append(or_(InboxRow.due_at.is_(None), InboxRow.due_at >= now))
    if due_before is not None:
        filters.append(InboxRow.due_at < due_before)
    if kind:
        filters.append(InboxRow.nominee_kind == kind)
    # Tasks of province roles carry no unit: the unit is the nominating unit of the task's nomination.
    if unit_id:
        filters.append(InboxRow.nomination_id.in_(select(Nomination.id).where(Nomination.unit_id == unit_id)))
    if movement_id is not None:  # a batch's tasks carry no nomination: matched through the batch
        filters.append(or_(
            InboxRow.nomination_id.in_(select(Nomination.id).where(Nomination.movement_id == movement_id)),
            InboxRow.batch_id.in_(select(Batch.id).where(Batch.movement_id == movement_id))))
    if q:
        pattern = f"%{q.strip()}%"
        by_unit = select(Nomination.id).join(Unit, Unit.id == Nomination.unit_id).where(Unit.name.ilike(pattern))
        filters.append(or_(InboxRow.nominee_name.ilike(pattern), InboxRow.nomination_id.ilike(pattern),
                           InboxRow.nomination_id.in_(by_unit)))
    with runtime.read() as uow:
        return [task_view(runtime, t, now)
                for t in uow.session.scalars(_first_due(task_scope_branches(actor), filters, limit, offset))]


def _first_due(branches: list[ColumnElement[bool]], filters: list[ColumnElement[bool]], limit: int,
               offset: int) -> Select[InboxRow]:
    """Open tasks in due order (NULLS LAST, then id) under any of the branches. One branch walks its
    index in order and stops at the limit; for several, each branch does that up to offset + limit and
    only those few rows are merged: an OR over roles would make the database sort every match."""
    order = (InboxRow.due_at.asc().nulls_last(), InboxRow.id)
    if len(branches) <= 1:
        return (select(InboxRow).where(*(branches or [false()]), *filters).order_by(*order)
                .limit(limit).offset(offset))
    heads = [select(InboxRow.id).where(branch, *filters).order_by(*order).limit(limit + offset).subquery()
             for branch in branches]
    candidates = union_all(*(select(head.c.id) for head in heads)).subquery()
    return (select(InboxRow).where(InboxRow.id.in_(select(candidates.c.id))).order_by(*order)
            .limit(limit).offset(offset))


def list_nominations(runtime: Runtime, actor: Actor, status: str | None = None,
                     limit: int = 50, offset: int = 0, movement_id: int | None = None) -> list[dict[str, Any]]:
    query = select(Nomination).where(nomination_scope(actor, runtime.roles))
    if status:
        query = query.where(Nomination.status == status)
    if movement_id is not None:
        query = query.where(Nomination.movement_id == movement_id)
    query = query.order_by(Nomination.updated_at.desc()).limit(limit).offset(offset)
    with runtime.read() as uow:
        return [_nomination_view(n) for n in uow.session.scalars(query)]


def nomination_detail(runtime: Runtime, actor: Actor, nomination_id: str) -> dict[str, Any]:
    now = runtime.clock.now()
    with runtime.read() as uow:
        session = uow.session
        nomination = _visible(session, runtime, actor, nomination_id)
        view = _nomination_view(nomination)
        instance = session.get(InstanceRow, nomination.instance_id) if nomination.instance_id else None
        view["version"] = instance.version if instance else None
        view["tasks"] = [task_view(runtime, t, now) for t in session.scalars(
            select(InboxRow).where(InboxRow.nomination_id == nomination_id))]
        view["attachments"] = list(session.scalars(
            select(Attachment).where(Attachment.nomination_id == nomination_id).order_by(Attachment.id)))
        view["history"] = list(session.scalars(
            select(AuditEvent).where(AuditEvent.nomination_id == nomination_id).order_by(AuditEvent.id)))
        return view


def attachment_for(runtime: Runtime, actor: Actor, nomination_id: str, sha256: str) -> Attachment:
    with runtime.read() as uow:
        _visible(uow.session, runtime, actor, nomination_id)
        found = uow.session.scalars(select(Attachment).where(
            Attachment.nomination_id == nomination_id, Attachment.sha256 == sha256)).first()
        if found is None:
            raise NotFound("Không tìm thấy tệp")
        return found


def nomination_audit(runtime: Runtime, actor: Actor, nomination_id: str) -> list[AuditEvent]:
    with runtime.read() as uow:
        _visible(uow.session, runtime, actor, nomination_id)
        return list(uow.session.scalars(
            select(AuditEvent).where(AuditEvent.nomination_id == nomination_id).order_by(AuditEvent.id)))


def audit_trail(runtime: Runtime, actor: Actor, nomination_id: str | None = None, instance_id: str | None = None,
                kind: str | None = None, security: bool = False, limit: int = 100,
                offset: int = 0) -> list[AuditEvent]:
    """The whole audit log (log-ins, tokens, users, steps), for admins; newest first. `security`: only
    the security events (log-ins and their failures, locks, tokens, substitutes, deactivations)."""
    require_admin(actor)
    query = select(AuditEvent)
    if security:
        query = query.where(AuditEvent.kind.in_(SECURITY_EVENTS))
    if nomination_id:
        query = query.where(AuditEvent.nomination_id == nomination_id)
    if instance_id:
        query = query.where(AuditEvent.instance_id == instance_id)
    if kind:
        query = query.where(AuditEvent.kind == kind)
    with runtime.read() as uow:
        return list(uow.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)))


def list_batches(runtime: Runtime, actor: Actor, status: str | None = None,
                 limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    require_batch_viewer(actor)
    counts = (select(Nomination.batch_id, func.count().label("n")).where(Nomination.batch_id.is_not(None))
              .group_by(Nomination.batch_id).subquery())
    query = select(Batch, counts.c.n).outerjoin(counts, counts.c.batch_id == Batch.id)
    if status:
        query = query.where(Batch.status == status)
    query = query.order_by(Batch.created_at.desc(), Batch.id).limit(limit).offset(offset)
    with runtime.read() as uow:
        return [{**_row_view(batch), "nomination_count": n or 0} for batch, n in uow.session.execute(query)]


def batch_detail(runtime: Runtime, actor: Actor, batch_id: str) -> dict[str, Any]:
    require_batch_viewer(actor)
    now = runtime.clock.now()
    with runtime.read() as uow:
        session = uow.session
        batch = batch_of(session, batch_id)
        view = _row_view(batch)
        instance = session.get(InstanceRow, batch.instance_id)
        view["version"] = instance.version if instance else None
        rows = session.execute(select(Nomination, Unit.name).join(Unit, Unit.id == Nomination.unit_id)
                               .where(Nomination.batch_id == batch_id).order_by(Nomination.id))
        view["nominations"] = [{"id": n.id, "nominee_name": n.nominee_name, "nominee_kind": n.nominee_kind,
                                "award": n.award, "unit_id": n.unit_id, "unit_name": unit_name,
                                "status": n.status} for n, unit_name in rows]
        view["nomination_count"] = len(view["nominations"])
        view["tasks"] = [task_view(runtime, t, now) for t in session.scalars(
            select(InboxRow).where(InboxRow.instance_id == batch.instance_id).order_by(InboxRow.opened_at))]
        view["history"] = list(session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == batch.instance_id).order_by(AuditEvent.id)))
        return view


def me(runtime: Runtime, actor: Actor) -> dict[str, Any]:
    with runtime.read() as uow:
        user = uow.session.get(User, actor.user_id)
        if user is None:
            raise NotFound("Không tìm thấy tài khoản")
        return {"id": user.id, "username": user.username, "full_name": user.full_name, "email": user.email,
                "language": user.language,
                "roles": [{"role": a.role, "unit_id": a.unit_id} for a in user.roles],
                "acting_roles": [{"role": r, "unit_id": u} for r, u in sorted(actor.grants, key=str)],
                "units": sorted(actor.units()), "acting_for": sorted(actor.acting_for)}


def my_tokens(runtime: Runtime, actor: Actor) -> list[ApiToken]:
    """The caller's tokens; the response schema never carries their hashes."""
    with runtime.read() as uow:
        return list(uow.session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id)))


def usernames(runtime: Runtime) -> list[Any]:
    """(id, username) of every account: names shown beside ids on one's own pages."""
    with runtime.read() as uow:
        return list(uow.session.execute(select(User.id, User.username)).all())


def list_units(runtime: Runtime, actor: Actor) -> list[Unit]:
    require_admin(actor)
    with runtime.read() as uow:
        return list(uow.session.scalars(select(Unit).order_by(Unit.id)))


def list_users(runtime: Runtime, actor: Actor) -> list[dict[str, Any]]:
    require_admin(actor)
    with runtime.read() as uow:
        return [user_view(u) for u in uow.session.scalars(select(User).order_by(User.id))]


def user_view(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "full_name": user.full_name, "email": user.email,
            "language": user.language, "active": user.active, "locked_until": user.locked_until,
            "roles": [{"role": a.role, "unit_id": a.unit_id}
                      for a in sorted(user.roles, key=lambda a: (a.role, a.unit_id or ""))]}


def _visible(session: Session, runtime: Runtime, actor: Actor, nomination_id: str) -> Nomination:
    return visible_nomination(session, actor, nomination_id, runtime.roles)


def _nomination_view(nomination: Nomination) -> dict[str, Any]:
    return _row_view(nomination)


def _row_view(row: Any) -> dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in row.__table__.columns}


def process_versions(runtime: Runtime) -> list[dict[str, Any]]:
    """Every stored version without its BPMN, with how many instances still run on it."""
    with runtime.read() as uow:
        counts = dict(uow.session.execute(
            select(InstanceRow.process_version_id, func.count()).where(InstanceRow.status == "running")
            .group_by(InstanceRow.process_version_id)).all())
        versions = uow.session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_id,
                                                                       ProcessVersion.version))
        return [{**{c.name: getattr(v, c.name) for c in ProcessVersion.__table__.columns if c.name != "bpmn"},
                 "running_instances": counts.get(v.id, 0)} for v in versions]


def process_bpmn(runtime: Runtime, process_id: str, version: int) -> bytes:
    with runtime.read() as uow:
        row = uow.session.scalars(select(ProcessVersion).where(
            ProcessVersion.process_id == process_id, ProcessVersion.version == version)).first()
        if row is None:
            raise NotFound(f"Không tìm thấy {process_id} phiên bản {version}")
        return row.bpmn


def outbox_mail(runtime: Runtime, mail_id: int) -> OutboxMail:
    with runtime.read() as uow:
        mail = uow.session.get(OutboxMail, mail_id)
        if mail is None:
            raise NotFound(f"Không tìm thấy thư {mail_id}")
        return mail

