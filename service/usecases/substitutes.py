"""Substitutes: someone acts for an absent colleague (leave, a business trip) for a bounded period.

A substitute acts only once approved. Approval is given at once when the stand-in already holds every
role the absent person has, in the same units (a colleague doing the same job), or when a unit head of
the absent person's unit or an admin names them; otherwise (someone from another unit or another job,
named by the absent person) it waits for that head or an admin. The absent person, their head and
admins list the substitutions and end them early; every step writes an audit row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.core.runtime import Runtime
from service.db.models import RoleAssignment, Substitute, User
from service.security.access import Actor
from service.usecases.accounts import today
from service.usecases.audit import audit
from workflows.forms import FieldError

MAX_DAYS = 90  # longest substitution, both ends counted
MAX_LEAD = timedelta(days=365)  # how far ahead one may be planned


def add_substitute(runtime: Runtime, actor: Actor, absent_id: int, substitute_id: int,
                   starts_on: date, ends_on: date) -> int:
    _check_period(runtime, starts_on, ends_on)
    if absent_id == substitute_id:
        raise InvalidInput("Không thể tự thay chính mình", [FieldError("substitute_id", "Trùng người vắng mặt")])
    now = runtime.clock.now()
    with runtime.uow() as uow:
        session = uow.session
        absent, stand_in = session.get(User, absent_id), session.get(User, substitute_id)
        if absent is None or stand_in is None or not absent.active or not stand_in.active:
            raise NotFound("Không tìm thấy người dùng")
        authority = _authority(session, runtime, actor, absent_id)
        if authority is None:
            raise Forbidden("Chỉ người vắng mặt, thủ trưởng đơn vị của họ hoặc quản trị được cử người thay")
        needed = _work_grants(session, absent_id)
        same_job = bool(needed) and needed <= _work_grants(session, substitute_id)
        approved = authority != "self" or same_job
        row = Substitute(absent_id=absent_id, substitute_id=substitute_id, starts_on=starts_on, ends_on=ends_on,
                         created_by=actor.user_id, created_at=now,
                         approved_by=actor.user_id if approved else None, approved_at=now if approved else None)
        session.add(row)
        session.flush()
        audit(session, runtime, "substitute_added", actor_id=actor.user_id, substitute_row=row.id,
              absent_id=absent_id, substitute_id=substitute_id, starts_on=starts_on.isoformat(),
              ends_on=ends_on.isoformat(), approved=approved, same_job=same_job)
        uow.commit()
        return row.id


def approve_substitute(runtime: Runtime, actor: Actor, row_id: int) -> dict[str, Any]:
    """A unit head of the absent person's unit, or an admin, lets a pending substitute act."""
    def may_approve(authority: str | None, row: Substitute) -> None:
        if authority not in ("admin", "head") or actor.user_id in (row.absent_id, row.substitute_id):
            raise Forbidden("Chỉ thủ trưởng đơn vị của người vắng mặt hoặc quản trị được phê duyệt")
        if row.ended_at is not None:
            raise Conflict("Việc thay thế này đã kết thúc")

    return _settle(runtime, actor, row_id, may_approve, "approved", "substitute_approved")


def end_substitute(runtime: Runtime, actor: Actor, row_id: int) -> dict[str, Any]:
    """The absent person (back early), their unit head or an admin ends a substitution now."""
    def may_end(authority: str | None, row: Substitute) -> None:
        if authority is None:
            raise Forbidden("Chỉ người vắng mặt, thủ trưởng đơn vị của họ hoặc quản trị được kết thúc")

    return _settle(runtime, actor, row_id, may_end, "ended", "substitute_ended")


def _settle(runtime: Runtime, actor: Actor, row_id: int, check: Callable[[str | None, Substitute], None],
            step: str, kind: str) -> dict[str, Any]:
    """One step of a substitution (`approved`, `ended`: its <step>_by and <step>_at columns) in one
    commit, after `check` has weighed the actor's authority over the row; a step already taken stays."""
    with runtime.uow() as uow:
        row = _visible_row(uow.session, runtime, actor, row_id)
        check(_authority(uow.session, runtime, actor, row.absent_id), row)
        if getattr(row, f"{step}_at") is None:
            setattr(row, f"{step}_by", actor.user_id)
            setattr(row, f"{step}_at", runtime.clock.now())
            audit(uow.session, runtime, kind, actor_id=actor.user_id, substitute_row=row.id,
                  absent_id=row.absent_id, substitute_id=row.substitute_id)
        view = _view(row, today(runtime))
        uow.commit()
        return view


def list_substitutes(runtime: Runtime, actor: Actor) -> list[dict[str, Any]]:
    """Admins see all; others the ones they are in or that concern a unit they head. Newest first."""
    with runtime.read() as uow:
        query = select(Substitute).order_by(Substitute.id.desc())
        if not actor.is_admin:
            query = query.where(_visible_to(uow.session, runtime, actor))
        return [_view(row, today(runtime)) for row in uow.session.scalars(query)]


def _check_period(runtime: Runtime, starts_on: date, ends_on: date) -> None:
    first_day = today(runtime)
    if ends_on < starts_on:
        raise InvalidInput("Ngày kết thúc phải sau ngày bắt đầu", [FieldError("ends_on", "Trước ngày bắt đầu")])
    if starts_on < first_day:
        raise InvalidInput("Ngày bắt đầu không được ở quá khứ", [FieldError("starts_on", "Đã qua")])
    if starts_on > first_day + MAX_LEAD:
        raise InvalidInput("Ngày bắt đầu quá xa (tối đa một năm tới)", [FieldError("starts_on", "Quá xa")])
    if (ends_on - starts_on).days + 1 > MAX_DAYS:
        raise InvalidInput(f"Thời gian thay thế tối đa {MAX_DAYS} ngày",
                           [FieldError("ends_on", f"Quá {MAX_DAYS} ngày")])


def _work_grants(session: Session, user_id: int) -> set[tuple[str, str | None]]:
    """A user's own role assignments, admin left out (a substitute never gets admin)."""
    rows = session.execute(select(RoleAssignment.role, RoleAssignment.unit_id).where(
        RoleAssignment.user_id == user_id, RoleAssignment.role != "admin")).all()
    return {(role, unit) for role, unit in rows}


def _headed_units(session: Session, runtime: Runtime, user_id: int) -> set[str]:
    # Own assignments only: standing in for a head does not let one approve substitutes.
    heads = runtime.roles.keys_that_may("approve_substitutes")
    return {unit for role, unit in _work_grants(session, user_id) if role in heads and unit}


def _authority(session: Session, runtime: Runtime, actor: Actor, absent_id: int) -> str | None:
    """"admin", "head" (heads a unit of the absent person), "self" (is the absent person) or None."""
    if actor.is_admin:
        return "admin"
    absent_units = {unit for _, unit in _work_grants(session, absent_id) if unit}
    if actor.user_id != absent_id and absent_units & _headed_units(session, runtime, actor.user_id):
        return "head"
    return "self" if actor.user_id == absent_id else None


def _visible_to(session: Session, runtime: Runtime, actor: Actor) -> Any:
    in_headed_unit = select(RoleAssignment.user_id).where(
        RoleAssignment.unit_id.in_(_headed_units(session, runtime, actor.user_id)))
    return or_(Substitute.absent_id == actor.user_id, Substitute.substitute_id == actor.user_id,
               Substitute.absent_id.in_(in_headed_unit))


def _visible_row(session: Session, runtime: Runtime, actor: Actor, row_id: int) -> Substitute:
    query = select(Substitute).where(Substitute.id == row_id)
    if not actor.is_admin:
        query = query.where(_visible_to(session, runtime, actor))
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"Không tìm thấy việc thay thế {row_id}")
    return row


def _view(row: Substitute, on: date) -> dict[str, Any]:
    if row.ended_at is not None:
        status = "ended"
    elif row.ends_on < on:
        status = "expired"
    elif row.approved_at is None:
        status = "pending"
    else:
        status = "active" if row.starts_on <= on else "scheduled"
    return {"id": row.id, "absent_id": row.absent_id, "substitute_id": row.substitute_id,
            "starts_on": row.starts_on, "ends_on": row.ends_on, "status": status,
            "created_by": row.created_by, "approved_by": row.approved_by, "approved_at": row.approved_at,
            "ended_by": row.ended_by, "ended_at": row.ended_at}
