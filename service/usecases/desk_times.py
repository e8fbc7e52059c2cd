"""The desk-time row of a completed task (see DeskTime): written in the completion's transaction."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from service.core.runtime import Runtime
from service.db.models import Batch, DeskTime, InboxRow, Nomination


def desk_time(session: Session, runtime: Runtime, task: InboxRow, nomination: Nomination | None,
              actor_id: int | None) -> DeskTime:
    """Working days from the day the task opened to the day it was done (the opening day not counted,
    as deadlines count them), with what the statistics group by."""
    now = runtime.clock.now()
    local = ZoneInfo(runtime.calendar.timezone)
    movement_id = nomination.movement_id if nomination else None
    if movement_id is None and task.batch_id:
        batch = session.get(Batch, task.batch_id)
        movement_id = batch.movement_id if batch else None
    return DeskTime(task_uuid=task.id, instance_id=task.instance_id, nomination_id=task.nomination_id,
                    batch_id=task.batch_id, movement_id=movement_id,
                    unit_id=nomination.unit_id if nomination else None, role=task.role,
                    stage=getattr(task, "stage", None), actor_id=actor_id, opened_at=task.opened_at,
                    completed_at=now, due_at=task.due_at,
                    working_days=runtime.calendar.working_days_between(task.opened_at.astimezone(local).date(),
                                                                       now.astimezone(local).date()))
