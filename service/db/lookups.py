"""Row lookups shared by reads and use cases, so neither imports the other."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, DomainError, NotFound, catalogued
from service.db.models import AuditEvent, Batch, Movement, Nomination
from workflows.form_choices import MovementChoices

TASK_COMPLETED = catalogued("Nhiệm vụ này đã được xử lý")
TASK_ESCALATED = catalogued("Việc này đã chuyển cho lãnh đạo xử lý thay vì quá hạn")


def batch_of(session: Session, batch_id: str) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"Không tìm thấy đợt trình {batch_id}")
    return batch


def movement_of(session: Session, movement_id: int) -> Movement:
    movement = session.get(Movement, movement_id)
    if movement is None:
        raise NotFound(f"Không tìm thấy phong trào thi đua {movement_id}")
    return movement


def choices_of(movement: Movement) -> MovementChoices:
    """The lists a form takes from its movement (see workflows/form_choices.py)."""
    return MovementChoices.from_data(movement.nominee_kinds, movement.awards)


def movement_choices(session: Session, movement_id: int) -> MovementChoices:
    return choices_of(movement_of(session, movement_id))


def nomination_and_choices(session: Session, nomination_id: str) -> tuple[Nomination, MovementChoices]:
    """A nomination with its movement's lists, read in one statement: every task completion on a
    nomination needs both (its forms list the movement's criteria)."""
    found = session.execute(select(Nomination, Movement).join(Movement, Movement.id == Nomination.movement_id)
                            .where(Nomination.id == nomination_id)).first()
    if found is None:
        raise NotFound(f"Không tìm thấy hồ sơ {nomination_id}")
    return found[0], choices_of(found[1])


def task_gone(session: Session, task_uuid: str) -> DomainError:
    """Why a task is no longer open, as the error to answer: someone completed it (409), the
    deadline timer handed it to the lead (409, and saying so), or it never existed (404)."""
    ended = session.scalars(select(AuditEvent.kind).where(
        AuditEvent.kind.in_(("task_completed", "escalate")),
        AuditEvent.detail["task_uuid"].as_string() == task_uuid).order_by(AuditEvent.id)).first()
    if ended == "escalate":
        return Conflict(TASK_ESCALATED)
    if ended == "task_completed":
        return Conflict(TASK_COMPLETED)
    return NotFound(f"Không tìm thấy nhiệm vụ {task_uuid}")
