"""Follow-up (theo dõi, đôn đốc): the late tasks of the roles an actor's roles follow, e.g. the DOST
sees which units are late with their drafts and submissions (config/roles.toml, `follows`)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
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
    """The LIMIT oldest deadlines among the roles' late tasks. One query per role, each reading the
    first LIMIT entries of ix_open_task_role_due in order: `role IN (...) ORDER BY due_at` would
    fetch and sort every late task of the roles (tens of thousands with 2,000 units)."""
    found: list[InboxRow] = []
    for role in sorted(set(roles)):
        found.extend(session.scalars(select(InboxRow).where(InboxRow.role == role, InboxRow.due_at < now)
                                     .order_by(InboxRow.due_at, InboxRow.id).limit(LIMIT)))
    return sorted(found, key=lambda task: (task.due_at, task.id))[:LIMIT]


def follow_up(runtime: Runtime, actor: Actor) -> list[dict[str, Any]]:
    """The followed roles' overdue tasks, oldest deadline first, with their unit's name."""
    now = runtime.clock.now()
    with runtime.read() as uow:
        session = uow.session
        tasks = late_tasks(session, runtime, followed_roles(runtime, actor), now)
        units = dict(session.execute(select(Unit.id, Unit.name).where(
            Unit.id.in_({t.unit_id for t in tasks if t.unit_id}))).all())
        # Hundreds of tasks share a few deadlines: each span of working days is counted once.
        days_between = lru_cache(maxsize=None)(runtime.calendar.working_days_between)
        return [{**task_view(runtime, t, now, days_between), "unit_name": units.get(t.unit_id or "", t.unit_id)}
                for t in tasks]
