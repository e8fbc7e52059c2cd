"""Mail at once the people who must act when a step hands them work: a task reaching their desk,
or their nomination returned for revision (with the reason). Written to the outbox in the step's
own transaction; people who chose "digest only" on their account page hear of it next morning.

Only steps a person took announce what they opened: a task opened by a timer (an escalation) has
its own mail, and a new draft is its author's own doing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.core.runtime import Runtime
from service.db.models import Batch, InboxRow, Nomination, Unit, User
from service.usecases.notices import about, holders_of, submission_number_of
from service.usecases.outbox import enqueue
from workflows.engine import CompletedTask

RETURN_DECISIONS = ("return", "send_back")  # the forms' codes for "back to the previous desk"


def holders(session: Session, runtime: Runtime, task: InboxRow, exclude: int | None) -> list[User]:
    """Active users holding the task's role (in its unit, for a unit role) who want mail at once."""
    held = holders_of(runtime, task.role, task.unit_id)
    if held is None:
        return []
    query = held.where(User.active, User.mail_immediately)
    if exclude is not None:
        query = query.where(User.id != exclude)
    return list(session.scalars(query.distinct().order_by(User.id)))


def announce(session: Session, runtime: Runtime, opened: list[InboxRow], completed: CompletedTask | None,
             nomination: Nomination | None, batch: Batch | None, actor_id: int | None) -> None:
    if completed is None or not opened:
        return
    returned = completed.data.get("decision") in RETURN_DECISIONS
    unit = session.get(Unit, nomination.unit_id) if nomination else None
    number = submission_number_of(session, nomination.id) if nomination else None
    subject = about(session, runtime, nomination, batch, opened[0].instance_id)
    for task in opened:
        for user in holders(session, runtime, task, actor_id):
            lang = "en" if user.language == "en" else "vi"
            context: dict[str, Any] = {
                "user": user, "recipient_title": _title(runtime, task.role, lang),
                "nomination": nomination, "batch": batch, "unit": unit, "submission_number": number,
                "subject_name": subject.name, "about_kind": subject.kind, "report": subject.report,
                "task_name": task.name, "task_role_title": _title(runtime, task.role, lang),
                "due_at": task.due_at, "url": subject.url,
                "returned": returned, "reason": completed.data.get("reason") if returned else None,
                "from_task_name": completed.task.name, "from_role_title": _title(runtime, completed.task.role, lang),
            }
            enqueue(session, runtime, user.email, "task_arrived", context, language=lang, user_id=user.id)


def _title(runtime: Runtime, role_key: str | None, lang: str) -> str:
    role = runtime.roles.roles.get(role_key or "")
    return role.title(lang) if role else ""
