"""A person's own settings: how they hear of new work (mail at once, or the morning digest only)."""

from __future__ import annotations

from service.core.errors import NotFound
from service.core.runtime import Runtime
from service.db.models import User
from service.security.access import Actor
from service.usecases.audit import audit


def set_mail_immediately(runtime: Runtime, actor: Actor, immediately: bool) -> None:
    with runtime.uow() as uow:
        user = uow.session.get(User, actor.user_id)
        if user is None:
            raise NotFound("Không tìm thấy tài khoản")
        if user.mail_immediately != immediately:
            user.mail_immediately = immediately
            audit(uow.session, runtime, "mail_preference_changed", actor_id=actor.user_id, immediately=immediately)
        uow.commit()
