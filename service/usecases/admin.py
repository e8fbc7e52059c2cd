"""Administration: units, user accounts and their role assignments. Admins only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, InvalidInput, NotFound
from service.core.runtime import Runtime
from service.db.models import UNIT_KINDS, RoleAssignment, Unit, User
from service.reads.api import user_view
from service.security.access import Actor, require_admin
from service.security.passwords import hash_password, new_password
from service.usecases.accounts import today
from service.usecases.audit import audit
from service.usecases.movements import join_open_movements
from service.usecases.revocation import end_sessions
from workflows.forms import FieldError


def create_unit(runtime: Runtime, actor: Actor, unit_id: str, name: str, kind: str,
                email: str | None = None) -> str:
    require_admin(actor)
    if kind not in UNIT_KINDS:
        raise InvalidInput("Loại đơn vị không hợp lệ", [FieldError("kind", "Không hợp lệ")])
    with runtime.uow() as uow:
        session = uow.session
        if session.get(Unit, unit_id) is not None:
            raise Conflict(f"Đơn vị {unit_id} đã tồn tại")
        session.add(Unit(id=unit_id, name=name.strip(), kind=kind, email=email))
        session.flush()
        joined = join_open_movements(session, unit_id, today(runtime))
        audit(session, runtime, "unit_created", actor_id=actor.user_id, unit_id=unit_id, unit_kind=kind,
              movements=joined)
        uow.commit()
        return unit_id


def create_user(runtime: Runtime, actor: Actor, username: str, full_name: str, role: str,
                unit_id: str | None, email: str | None = None, language: str = "vi") -> dict[str, Any]:
    """A new account with one role; its generated password is returned here, once."""
    require_admin(actor)
    password = new_password()
    with runtime.uow() as uow:
        session = uow.session
        _check_grant(session, runtime, role, unit_id)
        if session.scalars(select(User.id).where(User.username == username)).first() is not None:
            raise Conflict(f"Tên đăng nhập {username} đã có",
                           [FieldError("username", "Đã có người dùng")])
        user = User(username=username, full_name=full_name.strip(), email=email or f"{username}@nomflow.local",
                    password_hash=hash_password(password), language=language, active=True, failed_logins=0,
                    created_at=runtime.clock.now())
        user.roles.append(RoleAssignment(role=role, unit_id=unit_id))
        session.add(user)
        session.flush()
        audit(session, runtime, "user_created", actor_id=actor.user_id, user_id=user.id, username=username,
              role=role, unit_id=unit_id)
        view = {**user_view(user), "password": password}
        uow.commit()
        return view


def grant_role(runtime: Runtime, actor: Actor, user_id: int, role: str, unit_id: str | None) -> dict[str, Any]:
    """Adds a role assignment (idempotent) and returns the user with all of their roles."""
    require_admin(actor)
    with runtime.uow() as uow:
        session = uow.session
        user = session.scalars(select(User).where(User.id == user_id).with_for_update()).first()
        if user is None:
            raise NotFound(f"Không tìm thấy người dùng {user_id}")
        _check_grant(session, runtime, role, unit_id)
        if not any(a.role == role and a.unit_id == unit_id for a in user.roles):
            user.roles.append(RoleAssignment(role=role, unit_id=unit_id))
            session.flush()
            end_sessions(session, user.id, runtime.clock.now(), "role_changed")  # signs in again with the role
            audit(session, runtime, "role_granted", actor_id=actor.user_id, user_id=user.id, role=role,
                  unit_id=unit_id)
        view = user_view(user)
        uow.commit()
        return view


def _check_grant(session: Session, runtime: Runtime, role: str, unit_id: str | None) -> None:
    known = runtime.roles.roles.get(role)
    if known is None:
        raise InvalidInput(f"Vai trò không tồn tại: {role}", [FieldError("role", "Không tồn tại")])
    if known.scope == "unit" and not unit_id:
        raise InvalidInput(f"Vai trò {role} cần đơn vị", [FieldError("unit_id", "Bắt buộc")])
    if unit_id and session.get(Unit, unit_id) is None:
        raise InvalidInput(f"Không tìm thấy đơn vị {unit_id}", [FieldError("unit_id", "Không tồn tại")])
