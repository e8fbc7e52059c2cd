"""An admin's decisions on an account: lock (until a time, or until unlocked), unlock (also clears the
log-in throttle of its username), deactivate (the person left: nothing of theirs works any more, the
tasks they had claimed go back to their role's queue, and their history stays). `actor=None` is the
operator on the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.core.errors import InvalidInput, NotFound
from service.core.runtime import Runtime
from service.db.models import InboxRow, LoginThrottle, User
from service.reads.api import user_view
from service.security.access import Actor, require_admin
from service.usecases.audit import audit
from service.usecases.revocation import end_sessions, end_substitutions, end_tokens

UNTIL_UNLOCKED = datetime(9999, 12, 31, tzinfo=UTC)


def lock_user(runtime: Runtime, actor: Actor | None, user_ref: int | str,
              until: datetime | None = None) -> dict[str, Any]:
    """Refuses log-in until `until` (or until an admin unlocks); ends the user's sessions and tokens."""
    now = runtime.clock.now()
    if until is not None and until <= now:
        raise InvalidInput("Thời điểm mở khóa phải ở tương lai", [])
    with runtime.uow() as uow:
        user = _target(uow.session, actor, user_ref)
        user.locked_until = until or UNTIL_UNLOCKED
        sessions = end_sessions(uow.session, user.id, now, "locked")
        tokens = end_tokens(uow.session, user.id)
        audit(uow.session, runtime, "account_locked", actor_id=_id(actor), user_id=user.id,
              until=until.isoformat() if until else None, sessions_ended=sessions, tokens_revoked=tokens)
        view = user_view(user)
        uow.commit()
        return view


def unlock_user(runtime: Runtime, actor: Actor | None, user_ref: int | str) -> dict[str, Any]:
    """Lifts an admin's lock and forgets the failed log-ins counted against the username."""
    with runtime.uow() as uow:
        user = _target(uow.session, actor, user_ref, allow_self=True)
        user.locked_until = None
        cleared = uow.session.execute(delete(LoginThrottle).where(LoginThrottle.username == user.username))
        audit(uow.session, runtime, "account_unlocked", actor_id=_id(actor), user_id=user.id,
              throttles_cleared=int(cleared.rowcount or 0))  # type: ignore[attr-defined]
        view = user_view(user)
        uow.commit()
        return view


def deactivate_user(runtime: Runtime, actor: Actor | None, user_ref: int | str) -> dict[str, Any]:
    """The account stops working (log-in, sessions, tokens, substitutions); its rows and history stay."""
    now = runtime.clock.now()
    with runtime.uow() as uow:
        user = _target(uow.session, actor, user_ref)
        user.active = False
        sessions = end_sessions(uow.session, user.id, now, "deactivated")
        tokens = end_tokens(uow.session, user.id)
        substitutions = end_substitutions(uow.session, user.id, now, _id(actor))
        # Tasks the person had claimed go back to their role's queue; nobody could act on them otherwise.
        claimed = uow.session.scalars(select(InboxRow).where(InboxRow.assignee_id == user.id)).all()
        for task in claimed:
            task.assignee_id = None
            audit(uow.session, runtime, "task_released", actor_id=_id(actor), nomination_id=task.nomination_id,
                  instance_id=task.instance_id, task=task.task_id, task_uuid=task.id, why="user_deactivated")
        audit(uow.session, runtime, "user_deactivated", actor_id=_id(actor), user_id=user.id,
              sessions_ended=sessions, tokens_revoked=tokens, substitutions_ended=substitutions,
              tasks_released=len(claimed))
        view = user_view(user)
        uow.commit()
        return view


def _target(session: Session, actor: Actor | None, user_ref: int | str, allow_self: bool = False) -> User:
    if actor is not None:
        require_admin(actor)
    if isinstance(user_ref, int):
        user = session.get(User, user_ref)
    else:
        user = session.scalars(select(User).where(User.username == user_ref)).first()
    if user is None:
        raise NotFound(f"Không tìm thấy người dùng {user_ref}")
    if actor is not None and user.id == actor.user_id and not allow_self:
        raise InvalidInput("Quản trị không tự khóa hoặc vô hiệu hóa tài khoản của mình", [])
    return user


def _id(actor: Actor | None) -> int | None:
    return actor.user_id if actor else None
