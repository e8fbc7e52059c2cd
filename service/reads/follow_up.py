"""Follow-up (theo dõi, đôn đốc): the late tasks of the roles an actor's roles follow, e.g. the DOST
sees which units are late with their drafts and submissions (config/roles.toml, `follows`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.runtime import Runtime
from service.db.models import InboxRow, Unit
from service.reads.api import task_view
from service.security.access import Actor

LIMIT = 500


def followed_roles(runtime: Runtime, actor: Actor) -> list[str]:
    held = {role for role, _ in actor.grants}
    return sorted({f for key in held if (role := runtime.roles.roles.get(key)) for f in role.follows})


def late_tasks(session: Session, runtime: Runtime, roles: list[str], now: datetime) -> list[InboxRow]:
    if not roles:
        return []
    return list(session.scalars(select(InboxRow).where(InboxRow.role.in_(roles), InboxRow.due_at < now)
                                .order_by(InboxRow.due_at).limit(LIMIT)))


def follow_up(runtime: Runtime, actor: Actor) -> list[dict[str, Any]]:
    """The followed roles' overdue tasks, oldest deadline first, with their unit's name."""
    now = runtime.clock.now()
    with runtime.read() as uow:
        session = uow.session
        tasks = late_tasks(session, runtime, followed_roles(runtime, actor), now)
        units = dict(session.execute(select(Unit.id, Unit.name).where(
            Unit.id.in_({t.unit_id for t in tasks if t.unit_id}))).all())
        return [{**task_view(runtime, t, now), "unit_name": units.get(t.unit_id or "", t.unit_id)} for t in tasks]
