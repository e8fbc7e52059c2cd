"""Row lookups shared by reads and use cases, so neither imports the other."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, DomainError, NotFound, catalogued
from service.db.models import AuditEvent, Batch, Movement
from service.documents.batch_documents import Terms

TASK_COMPLETED = catalogued("Nhiệm vụ này đã được xử lý")
TASK_ESCALATED = catalogued("Việc này đã chuyển cho lãnh đạo xử lý thay vì quá hạn")


def batch_of(session: Session, batch_id: str) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"Không tìm thấy đợt trình {batch_id}")
    return batch


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
