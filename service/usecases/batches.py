"""Batches (đợt trình): Home Affairs gathers appraised nominations for the Chairman's decision."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.core.errors import Forbidden, InvalidInput
from service.core.runtime import Runtime
from service.db.models import Batch
from service.security.access import Actor
from service.usecases.accounts import today
from service.usecases.audit import audit
from service.usecases.instances import incident_error, keep_instances, record, start_instance
from service.usecases.movements import movement_for_batch
from service.usecases.nominations import new_id
from workflows.contract import AWARD_DECISION, BATCH_PREPARATION
from workflows.forms import FieldError

TITLE_MIN, TITLE_MAX = 5, 300  # as the decision's trích yếu (forms/prepare_batch.schema.json)


def preparer_role(runtime: Runtime, session: Session) -> str:
    """Whoever prepares the batch in the active diagram opens it, and may cancel it."""
    return runtime.stage_task(session, AWARD_DECISION, BATCH_PREPARATION).role


def create_batch(runtime: Runtime, actor: Actor, title: str | None = None, movement_id: int | None = None) -> str:
    """A batch starts with its content (trích yếu): every page, inbox row and mail about it names it
    by that, never by its code. The API may leave it for the preparation step to fill."""
    title = " ".join((title or "").split()) or None
    if title is not None and not TITLE_MIN <= len(title) <= TITLE_MAX:
        message = f"Trích yếu phải dài từ {TITLE_MIN} đến {TITLE_MAX} ký tự"
        raise InvalidInput(message, [FieldError("title", message)])
    with runtime.uow() as uow:
        session = uow.session
        if not actor.has_role(preparer_role(runtime, session)):
            raise Forbidden("Chỉ lãnh đạo Sở Nội vụ được lập đợt trình")
        movement = movement_for_batch(session, today(runtime), movement_id)
        batch_id = new_id("DT")
        row, instance, outcome = start_instance(session, runtime, AWARD_DECISION, {"batch_id": batch_id})
        session.flush()
        session.add(Batch(id=batch_id, instance_id=row.id, title=title, status="open", movement_id=movement.id,
                          created_by=actor.user_id,
                          created_at=runtime.clock.now()))
        session.flush()
        audit(session, runtime, "batch_created", actor_id=actor.user_id, instance_id=row.id, batch_id=batch_id)
        record(session, runtime, row, instance, outcome, actor.user_id)
        uow.commit()
        if row.incident is not None:
            raise incident_error(row)  # the batch is kept; an admin's retry starts its process
        keep_instances(runtime, [(row, instance)])
        return batch_id
