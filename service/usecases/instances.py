"""Shared steps of every use case that moves an instance: load, advance, write state + projections.

Everything here runs inside the caller's transaction; the caller commits once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.exc import StaleDataError

from service.core.errors import Conflict, NotFound
from service.core.runtime import Runtime
from service.db.models import AuditEvent, Batch, InboxRow, InstanceRow, Nomination, ProcessVersion, UnitReport
from service.usecases.arrivals import announce
from service.usecases.audit import audit
from service.usecases.outbox import enqueue_notification
from service.usecases.report_status import REPORT_PROCESSES, sync_report
from workflows.diagrams import ProcessDefinition
from workflows.engine import EngineError, Outcome, ProcessInstance
from workflows.engine import OpenTask as EngineTask


def start_instance(session: Session, runtime: Runtime, process_id: str, data: dict[str, Any],
                   active: tuple[ProcessVersion, ProcessDefinition] | None = None,
                   ) -> tuple[InstanceRow, ProcessInstance, Outcome]:
    """A new instance row and its first run. When that run fails, the instance is kept as it was
    before running, marked as an incident (`row.incident`): the caller stores it with the rest and,
    after its commit, tells the user with incident_error(row)."""
    # `active`: the version a caller starting many instances at once looked up for all of them.
    version, definition = active or runtime.active_definition(session, process_id)
    now = runtime.clock.now()
    row = InstanceRow(id=str(uuid.uuid4()), process_version_id=version.id, process_id=process_id,
                      state={}, serializer_version=runtime.engine.state_serializer.spiff_version,
                      status="running", created_at=now, updated_at=now)
    session.add(row)
    try:
        instance, outcome = runtime.engine.start(process_id, data, definition)
    except EngineError as exc:
        instance, outcome = runtime.engine.prepare(process_id, data, definition), Outcome()
        mark_incident(session, runtime, row, exc, "create")
    return row, instance, outcome


class InstanceFailed(Exception):
    """An engine run of `instance_id` failed inside a use case: the use case's transaction is rolled
    back and record_incident() marks the instance in one of its own."""

    def __init__(self, instance_id: str, error: Exception, where: str):
        super().__init__(f"{instance_id}: {error}")
        self.instance_id, self.error, self.where = instance_id, error, where


class IncidentRaised(Conflict):
    title = "Quy trình gặp sự cố"


def incident_error(row: InstanceRow) -> IncidentRaised:
    """What the user who triggered a failed run is told (after the incident is committed)."""
    return IncidentRaised(f"Quy trình gặp sự cố nên bước này chưa thực hiện được; quản trị viên sẽ sửa sơ đồ "
                          f"rồi chạy lại. Mã quy trình: {row.id}. Chi tiết: {row.incident}")


def mark_incident(session: Session, runtime: Runtime, row: InstanceRow, error: Exception, where: str) -> None:
    """In the caller's transaction. A failed timer run stops waking (each try would fail the same way
    until an admin retries); after a failed completion the stored state is still good, so its
    reminders keep coming."""
    row.incident = f"{where}: {error}"[:4000]
    row.incident_at = runtime.clock.now()
    if where == "timer":
        row.next_wake_at = None
    audit(session, runtime, "incident", instance_id=row.id, where=where, error=row.incident)


def record_incident(runtime: Runtime, failed: InstanceFailed) -> IncidentRaised:
    """Mark the instance in a transaction of its own (the one that failed was rolled back)."""
    with runtime.uow() as uow:
        query = select(InstanceRow).where(InstanceRow.id == failed.instance_id).options(defer(InstanceRow.state))
        if uow.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = uow.session.scalars(query).one()
        mark_incident(uow.session, runtime, row, failed.error, failed.where)
        uow.commit()
        return incident_error(row)


def resolve_incident(session: Session, runtime: Runtime, row: InstanceRow, actor_id: int | None = None) -> None:
    """A run of an instance in incident went through: the incident is over."""
    if row.incident is not None:
        audit(session, runtime, "incident_resolved", actor_id=actor_id, instance_id=row.id, error=row.incident)
        row.incident, row.incident_at = None, None


def load_instance(session: Session, runtime: Runtime, instance_id: str,
                  lock: bool = False) -> tuple[InstanceRow, ProcessInstance]:
    """The row and its instance: from this process's cache when it holds exactly the row's version
    (see InstanceCache), restored from the stored state otherwise."""
    query = select(InstanceRow).where(InstanceRow.id == instance_id).options(defer(InstanceRow.state))
    if lock and session.get_bind().dialect.name == "postgresql":
        # populate_existing: a row this session read before the lock is refreshed, or its version
        # (and the flush's version check) would be the stale one.
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"không tìm thấy quy trình {instance_id}")
    return row, instance_of(session, runtime, row)


def instance_of(session: Session, runtime: Runtime, row: InstanceRow) -> ProcessInstance:
    """The instance of a row the caller holds: taken from the cache at exactly the row's version,
    restored from its state otherwise (reading `state` only then)."""
    definition = runtime.definition_of(session, row.process_version_id)
    instance = runtime.instances.take(row.id, row.version)
    if instance is None or instance.definition.checksum != definition.checksum:
        instance = runtime.engine.restore(row.state)
    return instance


def keep_instances(runtime: Runtime, written: list[tuple[InstanceRow, ProcessInstance]]) -> None:
    """After the commit that stored them: the next step on these instances skips the restore."""
    for row, instance in written:
        runtime.instances.put(row.id, row.version, instance)


@dataclass
class Links:
    """What record() reads besides the instance row, preloaded by a caller that records many
    instances in one transaction (the timer sweep) and holds their rows locked."""

    nomination: Nomination | None
    batch: Batch | None
    open_tasks: list[InboxRow]  # the instance's rows before this step


def record(session: Session, runtime: Runtime, row: InstanceRow, instance: ProcessInstance, outcome: Outcome,
           actor_id: int | None, deliver: Callable[[str, str, dict[str, Any]], None] | None = None, *,
           links: Links | None = None, audit_rows: list[dict[str, Any]] | None = None) -> None:
    """Write the new state and every projection of what happened in this step.

    With `links`, nothing is read and nothing flushed here (the version check happens at the
    caller's flush); with `audit_rows`, the audit events are appended there for the caller to
    insert with the rest of its batch."""
    now = runtime.clock.now()
    row.state = instance.serialize()
    row.status = outcome.status
    row.end_event = outcome.end_event
    row.next_wake_at = outcome.next_wake_at
    row.updated_at = now
    if links is None:
        try:
            # The instance row must exist before tasks reference it. The flush also bumps `version` with
            # `UPDATE ... WHERE version = <read>`: no row means another writer moved the instance since it
            # was read here (a stale copy in a second process, or a caller that skipped the row lock).
            session.flush()
        except StaleDataError as exc:
            raise Conflict("Người khác vừa xử lý cùng hồ sơ; hãy tải lại") from exc
        nomination = session.scalars(select(Nomination).where(Nomination.instance_id == row.id)).first()
        # An instance runs either one nomination or one batch's decision, never both.
        batch = None if nomination else session.scalars(select(Batch).where(Batch.instance_id == row.id)).first()
    else:
        nomination, batch = links.nomination, links.batch
    nomination_id = nomination.id if nomination else None
    events: list[dict[str, Any]] = []

    def audit_event(kind: str, actor: int | None = None, **detail: Any) -> None:
        events.append({"at": now, "actor_id": actor, "nomination_id": nomination_id, "instance_id": row.id,
                       "kind": kind, "detail": detail})

    closed = {t.id for t in outcome.closed}
    if closed:
        session.execute(delete(InboxRow).where(InboxRow.id.in_(closed)))
    definition = instance.definition
    # A task that takes over a closed one of the same stage (the lead's copy after a deadline) keeps
    # the deadline it missed, when the diagram gives it none: it is late, not "without a deadline".
    missed = {stage: t.due_at for t in outcome.closed
              if t.due_at is not None and (stage := definition.stage_of(t.task_id)) is not None}
    opened = [_task_row(task, definition.stage_of(task.task_id), row, nomination, batch, now,
                        task.due_at or missed.get(definition.stage_of(task.task_id) or ""))
              for task in outcome.opened]
    session.add_all(opened)
    announce(session, runtime, opened, outcome.completed, nomination, batch, actor_id)
    tasks = None if links is None else [t for t in links.open_tasks if t.id not in closed] + opened
    if outcome.completed is not None:
        done = outcome.completed
        audit_event("task_completed", actor_id, task=done.task.task_id, task_uuid=done.task.id, name=done.task.name,
                    data=done.data)
    for task in outcome.opened:
        audit_event("task_opened", task=task.task_id, name=task.name, role=task.role,
                    due_at=task.due_at.isoformat() if task.due_at else None)
    for note in outcome.notifications:
        enqueue_notification(session, runtime, note, nomination, row.id, tasks)
        # An escalation names the task it took away, so that its holder is told why it is gone.
        taken = [t.id for t in outcome.closed if t.task_id == note.task] if note.action == "escalate" else []
        extra: dict[str, Any] = {"task_uuid": taken[0]} if taken else {}
        audit_event(note.action, task=note.task, to_role=note.to_role, params=note.params, **extra)
    if outcome.status == "completed":
        audit_event("instance_ended", end_event=outcome.end_event)
    if audit_rows is not None:
        audit_rows.extend(events)
    elif events:
        # One multi-row INSERT in the order they happened (the history is read in id order).
        session.execute(insert(AuditEvent), events)
    if nomination is not None:
        nomination.status = _nomination_status(instance, outcome, nomination.status)
        nomination.updated_at = now
    if batch is not None:
        batch.status = "signed" if definition.stage_of(outcome.end_event) == "signed" else (
            "abandoned" if outcome.status == "completed" else "open")
        batch.decision_number = instance.data.get("decision_number") or batch.decision_number
        batch.title = instance.data.get("decision_title") or batch.title
    if nomination is None and batch is None and row.process_id in REPORT_PROCESSES and (
            links is None or outcome.completed is not None or outcome.status == "completed"):
        # A unit's plan or results report: a timer step (links) only reminds, its status stays.
        report = session.scalars(select(UnitReport).where(UnitReport.instance_id == row.id)).first()
        if report is not None:
            sync_report(session, report, instance, outcome, now)
    for message in outcome.messages:
        if deliver is None:
            raise RuntimeError("this step sends messages but no delivery was provided")
        deliver(message.name, message.nomination_id, message.payload)


def _task_row(task: EngineTask, stage: str | None, row: InstanceRow, nomination: Nomination | None,
              batch: Batch | None, now: datetime, due_at: datetime | None = None) -> InboxRow:
    return InboxRow(
        id=task.id, instance_id=row.id, process_id=row.process_id, task_id=task.task_id, stage=stage, name=task.name,
        role=task.role, unit_id=task.unit_id, form=task.form, ui_form=task.ui_form, due_at=due_at,
        opened_at=now, nomination_id=nomination.id if nomination else None,
        batch_id=batch.id if batch else None,
        nominee_name=nomination.nominee_name if nomination else None,
        nominee_kind=nomination.nominee_kind if nomination else None,
        movement_id=nomination.movement_id if nomination else batch.movement_id if batch else None,
    )


def _nomination_status(instance: ProcessInstance, outcome: Outcome, current: str) -> str:
    """The stage its diagram declares where the instance stands: the end event it ended on, the
    message it waits for, or its open user task (a draft reopened by a return is "returned")."""
    definition = instance.definition
    if outcome.status == "completed":
        return definition.stage_of(outcome.end_event) or "closed"
    if outcome.waiting_for:
        return "awaiting_decision"
    stages = [s for s in map(definition.stage_of, outcome.open_task_ids) if s]
    if stages == ["draft"] and instance.data.get("return_count"):
        return "returned"
    return stages[0] if stages else current
