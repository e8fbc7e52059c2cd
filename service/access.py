"""Who may see and do what. Unit-scoped roles stay inside their unit; province roles see all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from workflows.settings import RoleCatalog

from .db.models import Nomination, OpenTask, Substitute, User
from .errors import Forbidden


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    grants: frozenset[tuple[str, str | None]]  # (role, unit_id) incl. those of people this user stands in for
    acting_for: frozenset[int]  # user ids whose claimed tasks this user may also act on

    def has_role(self, role: str) -> bool:
        return any(r == role for r, _ in self.grants)

    @property
    def is_admin(self) -> bool:
        return self.has_role("admin")

    def units(self) -> set[str]:
        return {u for _, u in self.grants if u}


def load_actor(session: Session, user: User, today: date) -> Actor:
    grants = {(a.role, a.unit_id) for a in user.roles}
    absent_ids = set(session.scalars(select(Substitute.absent_id).where(
        Substitute.substitute_id == user.id, Substitute.starts_on <= today, Substitute.ends_on >= today)))
    for absent in session.scalars(select(User).where(User.id.in_(absent_ids))) if absent_ids else []:
        grants.update((a.role, a.unit_id) for a in absent.roles if a.role != "admin")
    return Actor(user.id, user.username, frozenset(grants), frozenset(absent_ids))


def task_scope(actor: Actor) -> ColumnElement[bool]:
    """Open tasks of the actor's roles, within the actor's units for unit-scoped tasks."""
    clauses = [
        and_(OpenTask.role == role, OpenTask.unit_id == unit) if unit else OpenTask.role == role
        for role, unit in actor.grants
    ]
    return or_(*clauses) if clauses else false()


def can_act(actor: Actor, task: OpenTask) -> bool:
    in_role = any(role == task.role and (task.unit_id is None or unit == task.unit_id)
                  for role, unit in actor.grants)
    if not in_role:
        return False
    return task.assignee_id is None or task.assignee_id == actor.user_id or task.assignee_id in actor.acting_for


def require_act(actor: Actor, task: OpenTask) -> None:
    if not can_act(actor, task):
        raise Forbidden("Bạn không được giao xử lý nhiệm vụ này (not your task)")


def nomination_scope(actor: Actor, roles: RoleCatalog) -> ColumnElement[bool]:
    province = any(roles.roles[r].scope == "province" for r, _ in actor.grants if r in roles.roles)
    if province:
        # Province roles see every nomination once its unit has sent it beyond the draft stage.
        return or_(Nomination.status != "draft", Nomination.unit_id.in_(actor.units())) \
            if not actor.is_admin else true()
    return Nomination.unit_id.in_(actor.units())


def can_view(actor: Actor, nomination: Nomination, roles: RoleCatalog) -> bool:
    if nomination.unit_id in actor.units() or actor.is_admin:
        return True
    province = any(roles.roles[r].scope == "province" for r, _ in actor.grants if r in roles.roles)
    return province and nomination.status != "draft"


def require_view(actor: Actor, nomination: Nomination, roles: RoleCatalog) -> None:
    if not can_view(actor, nomination, roles):
        raise Forbidden("Bạn không có quyền xem hồ sơ này (not visible to you)")
