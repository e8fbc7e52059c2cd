"""Row lookups shared by reads and use cases, so neither imports the other."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, DomainError, NotFound, catalogued
from service.db.models import AuditEvent, Batch, Movement, Nomination, UnitCriteria
from service.documents.batch_documents import Terms, movement_facts
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


def choices_of(movement: Movement, unit_criteria: list[Any] | None = None) -> MovementChoices:
    """The lists a form takes from its movement (see workflows/form_choices.py), with a unit's own criteria."""
    return MovementChoices.from_data(movement.nominee_kinds, movement.awards, unit_criteria or ())


def movement_choices(session: Session, movement_id: int, unit_id: str | None = None) -> MovementChoices:
    own = session.get(UnitCriteria, (movement_id, unit_id)) if unit_id else None
    return choices_of(movement_of(session, movement_id), own.criteria if own is not None else None)


def nomination_and_choices(session: Session, nomination_id: str) -> tuple[Nomination, MovementChoices]:
    """A nomination with its movement's lists (and its unit's own criteria, for a Giấy khen), read in
    one statement: every task completion on a nomination needs both."""
    found = session.execute(
        select(Nomination, Movement, UnitCriteria.criteria)
        .join(Movement, Movement.id == Nomination.movement_id)
        .outerjoin(UnitCriteria, and_(UnitCriteria.movement_id == Nomination.movement_id,
                                      UnitCriteria.unit_id == Nomination.unit_id))
        .where(Nomination.id == nomination_id)).first()
    if found is None:
        raise NotFound(f"Không tìm thấy hồ sơ {nomination_id}")
    # The session's identity map holds rows weakly: keep the movement for the unit of work, so that what
    # else it needs of it (the award titles of its mails) is found there, not read again.
    session.info.setdefault("kept_rows", []).append(found[1])
    return found[0], choices_of(found[1], found[2])


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


def award_terms(session: Session, batch: Batch, award_codes: list[str | None]) -> Terms:
    """The batch's movement's nominee kinds and the title of the award its nominations ask for: what
    its decision and Tờ trình say (next year's movement may offer other awards)."""
    movement = session.get(Movement, batch.movement_id) if batch.movement_id is not None else None
    if movement is None:
        return Terms((), "; ".join(dict.fromkeys(c for c in award_codes if c)))
    return Terms.of(movement.nominee_kinds, movement.awards, award_codes)


def cited_movement(session: Session, movement_id: int) -> dict[str, Any]:
    """What a document of this movement's batch or nomination cites of it (its own plan, not a constant)."""
    return movement_facts(movement_of(session, movement_id))
