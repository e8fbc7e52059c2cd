"""Who may see and do what. Unit-scoped roles stay inside their unit; province roles see all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Executable, and_, bindparam, false, null, or_, select, true
from sqlalchemy.orm import Session

from service.core.errors import Forbidden, NotFound
from service.db.models import ApiToken, InboxRow, Nomination, RoleAssignment, Substitute, User, UserSession
from workflows.settings import RoleCatalog


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    grants: frozenset[tuple[str, str | None]]  # (role, unit_id) incl. those of people this user stands in for
    acting_for: frozenset[int]  # user ids whose claimed tasks this user may also act on
    # (capability, unit_id) the grants' roles give, from config/roles.toml: what the service asks
    # for instead of a role key, so roles can be renamed or split without a code change.
    capabilities: frozenset[tuple[str, str | None]] = frozenset()

    def has_role(self, role: str) -> bool:
        return any(r == role for r, _ in self.grants)

    def may(self, capability: str) -> bool:
        return self.is_admin or any(c == capability for c, _ in self.capabilities)

    def units_where(self, capability: str) -> frozenset[str]:
        """The units in which one of the actor's roles gives `capability`."""
        return frozenset(u for c, u in self.capabilities if c == capability and u)

    @property
    def is_admin(self) -> bool:
        return self.has_role("admin")

    def units(self) -> set[str]:
        return {u for _, u in self.grants if u}


def load_actor(session: Session, user: User, today: date, roles: RoleCatalog | None = None) -> Actor:
    return _actor(session, user.id, user.username, [(a.role, a.unit_id) for a in user.roles], today, roles)


def signed_in_actor(session: Session, today: date, *, user_id: int | None = None,
                    token_hash: str | None = None, session_hash: str | None = None,
                    now: datetime | None = None, idle: timedelta = timedelta(0),
                    lifetime: timedelta = timedelta(0), roles: RoleCatalog | None = None,
                    ) -> tuple[Actor, str, int | str | None, datetime | None] | None:
    """(actor, language, token or session id, its last use) of the active, unlocked user with this id,
    live token (not revoked, not expired) or live browser session (not ended, used within `idle`, begun
    within `lifetime`). Every request asks this: two prepared column queries, no ORM objects."""
    if token_hash is not None:
        rows = session.execute(_by_token(), {"token_hash": token_hash, "now": now}).all()
    elif session_hash is not None:
        assert now is not None
        rows = session.execute(_by_session(), {"session_hash": session_hash, "now": now,
                                               "idle_since": now - idle, "born_after": now - lifetime}).all()
    else:
        rows = session.execute(_by_user(), {"user_id": user_id}).all()
    if not rows:
        return None
    found_id, username, language, _, _, row_id, last_used_at = rows[0]
    grants = [(role, unit) for *_, role, unit, _, _ in rows if role is not None]
    return _actor(session, found_id, username, grants, today, roles), language, row_id, last_used_at


def _actor(session: Session, user_id: int, username: str, own: list[tuple[str, str | None]],
           today: date, roles: RoleCatalog | None) -> Actor:
    """The user's own grants plus those of anyone they stand in for today (never admin)."""
    acting = session.execute(_acting_for(), {"user_id": user_id, "today": today}).all()
    grants = set(own) | {(role, unit) for _, role, unit in acting if role is not None}
    known = roles.roles if roles is not None else {}
    capabilities = frozenset((c, unit) for role, unit in grants if role in known for c in known[role].may)
    if roles is not None:  # a desk worked by a capability is the province's: no unit of its own
        grants |= {(desk, None) for desk in roles.desks_for(c for c, _ in capabilities)}
    return Actor(user_id, username, frozenset(grants), frozenset(absent for absent, _, _ in acting), capabilities)


# Built once: constructing a statement and its cache key costs more than running it on SQLite.
@cache
def _by_token() -> Executable:
    return (select(User.id, User.username, User.language, RoleAssignment.role, RoleAssignment.unit_id,
                   ApiToken.id, ApiToken.last_used_at)
            .select_from(ApiToken).join(User, User.id == ApiToken.user_id)
            .outerjoin(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked.is_(False),
                   ApiToken.expires_at > bindparam("now"), User.active, _unlocked()))


@cache
def _by_session() -> Executable:
    return (select(User.id, User.username, User.language, RoleAssignment.role, RoleAssignment.unit_id,
                   UserSession.id, UserSession.last_seen_at)
            .select_from(UserSession).join(User, User.id == UserSession.user_id)
            .outerjoin(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(UserSession.id == bindparam("session_hash"), UserSession.ended_at.is_(None),
                   UserSession.last_seen_at > bindparam("idle_since"),
                   UserSession.created_at > bindparam("born_after"), User.active, _unlocked()))


def _unlocked() -> ColumnElement[bool]:
    return or_(User.locked_until.is_(None), User.locked_until <= bindparam("now"))


@cache
def _by_user() -> Executable:
    return (select(User.id, User.username, User.language, RoleAssignment.role, RoleAssignment.unit_id,
                   null(), null())
            .select_from(User).outerjoin(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(User.id == bindparam("user_id"), User.active))


@cache
def _acting_for() -> Executable:
    return (select(Substitute.absent_id, RoleAssignment.role, RoleAssignment.unit_id)
            .outerjoin(RoleAssignment, and_(RoleAssignment.user_id == Substitute.absent_id,
                                            RoleAssignment.role != "admin"))
            .where(Substitute.substitute_id == bindparam("user_id"), substitution_in_force(bindparam("today"))))


def substitution_in_force(on: Any) -> ColumnElement[bool]:
    """The one rule for "stands in on this day": approved, not ended early, the day within its dates."""
    return and_(Substitute.starts_on <= on, Substitute.ends_on >= on, Substitute.approved_at.is_not(None),
                Substitute.ended_at.is_(None))


def task_scope(actor: Actor) -> ColumnElement[bool]:
    """Open tasks of the actor's roles, within the actor's units for unit-scoped tasks."""
    branches = task_scope_branches(actor)
    return or_(*branches) if branches else false()


def task_scope_branches(actor: Actor) -> list[ColumnElement[bool]]:
    """task_scope as disjoint conditions, each an equality prefix of ix_open_task_queue
    (role, unit_id, due_at): the inbox walks each in due order and stops at its limit."""
    # Mirrors can_act: a grant tied to a unit also covers the role's tasks that belong to no unit
    # (a province role recorded with its home department must still see the province's tasks).
    any_unit = {role for role, unit in actor.grants if unit is None}
    units = {(role, unit) for role, unit in actor.grants if unit is not None and role not in any_unit}
    return ([InboxRow.role == role for role in sorted(any_unit)]
            + [and_(InboxRow.role == role, InboxRow.unit_id.is_(None)) for role in sorted({r for r, _ in units})]
            + [and_(InboxRow.role == role, InboxRow.unit_id == unit) for role, unit in sorted(units)])


def can_act(actor: Actor, task: InboxRow) -> bool:
    in_role = any(role == task.role and (task.unit_id is None or unit == task.unit_id)
                  for role, unit in actor.grants)
    if not in_role:
        return False
    return task.assignee_id is None or task.assignee_id == actor.user_id or task.assignee_id in actor.acting_for


def require_act(actor: Actor, task: InboxRow) -> None:
    if not can_act(actor, task):
        raise Forbidden("Bạn không được giao xử lý nhiệm vụ này")


def has_province_role(actor: Actor, roles: RoleCatalog) -> bool:
    return any(roles.roles[r].scope == "province" for r, _ in actor.grants if r in roles.roles)


# Batches carry the tờ trình, the draft decision and the Chairman's send-back reasons: the working
# papers between the Department of Home Affairs and the Chairman (plan, section IV). The DOST and the
# units learn the outcome on each nomination (status, decision number), never from the batch.
def can_view_batches(actor: Actor) -> bool:
    """The one rule for batches, for the API, the pages and the menu alike."""
    return actor.may("view_batches")


def require_batch_viewer(actor: Actor) -> None:
    if not can_view_batches(actor):
        raise Forbidden("Chỉ Sở Nội vụ và Chủ tịch UBND tỉnh xem được các đợt trình")


def follows_rounds(actor: Actor) -> bool:
    """Who follows the reporting rounds (the board, urging, the province's summary)."""
    return actor.may("follow_rounds")


def require_follow_up(actor: Actor) -> None:
    if not follows_rounds(actor):
        raise Forbidden("Chỉ Sở Khoa học và Công nghệ, Sở Nội vụ và quản trị viên được theo dõi các đợt báo cáo")


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Chỉ quản trị hệ thống được làm việc này")


def nomination_scope(actor: Actor, roles: RoleCatalog) -> ColumnElement[bool]:
    if has_province_role(actor, roles):
        # Province roles see every nomination once its unit has sent it beyond the draft stage, except
        # those decided inside their unit (a Giấy khen), which never leave it.
        return or_(and_(Nomination.status != "draft", Nomination.within_unit.is_(False)),
                   Nomination.unit_id.in_(actor.units())) if not actor.is_admin else true()
    return Nomination.unit_id.in_(actor.units())


def hidden_nominations(actor: Actor, roles: RoleCatalog) -> ColumnElement[bool] | None:
    """The complement of `nomination_scope` for a province role (None: it hides nothing): other units'
    drafts and the nominations decided inside their unit (a Giấy khen), few rows next to the rest."""
    if not has_province_role(actor, roles) or actor.is_admin:
        return None
    return and_(or_(Nomination.status == "draft", Nomination.within_unit.is_(True)),
                Nomination.unit_id.not_in(actor.units()))


def own_hidden_units(actor: Actor, roles: RoleCatalog) -> frozenset[str] | None:
    """The units whose drafts and Giấy khen a province role still sees (its own): what it sees of the
    nominations `hidden_nominations` leaves out for others. None: not a province role (or an admin)."""
    if not has_province_role(actor, roles) or actor.is_admin:
        return None
    return frozenset(actor.units())


def counted_scope(actor: Actor, roles: RoleCatalog, decided_inside: tuple[str, ...]) -> ColumnElement[bool]:
    """What statistics count for the actor: what it sees, and for province roles also the nominations
    decided inside their unit once they ended on one of `decided_inside` (a Giấy khen given counts in
    the movement's results; its dossier stays the unit's)."""
    seen = nomination_scope(actor, roles)
    if actor.is_admin or not has_province_role(actor, roles) or not decided_inside:
        return seen
    return or_(seen, and_(Nomination.within_unit.is_(True), Nomination.status.in_(decided_inside)))


def can_view(actor: Actor, nomination: Nomination, roles: RoleCatalog) -> bool:
    if nomination.unit_id in actor.units() or actor.is_admin:
        return True
    return has_province_role(actor, roles) and nomination.status != "draft" and not nomination.within_unit


def require_view(actor: Actor, nomination: Nomination, roles: RoleCatalog) -> None:
    # A nomination the actor may not see answers exactly like a missing one (404): its existence, and
    # so another unit's pipeline, is not revealed. Tasks, which the inbox already shows, answer 403.
    if not can_view(actor, nomination, roles):
        raise NotFound(f"Không tìm thấy hồ sơ {nomination.id}")


def visible_nomination(session: Session, actor: Actor, nomination_id: str, roles: RoleCatalog) -> Nomination:
    """The nomination if the actor may see it; 404 otherwise, so its existence does not leak."""
    nomination = session.get(Nomination, nomination_id)
    if nomination is None:
        raise NotFound(f"Không tìm thấy hồ sơ {nomination_id}")
    require_view(actor, nomination, roles)
    return nomination

