"""Batches (đợt trình): Home Affairs gathers appraised nominations for the Chairman's decision."""

from __future__ import annotations

from service.core.errors import Forbidden
from service.core.runtime import Runtime
from service.db.models import Batch
from service.security.access import Actor
from service.usecases.audit import audit
from service.usecases.instances import incident_error, keep_instances, record, start_instance
from service.usecases.nominations import new_id
from workflows.contract import AWARD_DECISION, BATCH_PREPARATION


def create_batch(runtime: Runtime, actor: Actor) -> str:
    with runtime.uow() as uow:
        session = uow.session
        # Whoever prepares the batch in the active diagram opens it.
        if not actor.has_role(runtime.stage_task(session, AWARD_DECISION, BATCH_PREPARATION).role):
            raise Forbidden("Chỉ lãnh đạo Sở Nội vụ được lập đợt trình (home affairs lead only)")
        batch_id = new_id("DT")
        row, instance, outcome = start_instance(session, runtime, AWARD_DECISION, {"batch_id": batch_id})
        session.flush()
        session.add(Batch(id=batch_id, instance_id=row.id, status="open", created_by=actor.user_id,
                          created_at=runtime.clock.now()))
        session.flush()
        audit(session, runtime, "batch_created", actor_id=actor.user_id, instance_id=row.id, batch_id=batch_id)
        record(session, runtime, row, instance, outcome, actor.user_id)
        uow.commit()
        if row.incident is not None:
            raise incident_error(row)  # the batch is kept; an admin's retry starts its process
        keep_instances(runtime, [(row, instance)])
        return batch_id
