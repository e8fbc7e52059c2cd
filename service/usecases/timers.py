"""Waking instances whose timers fell due (reminders, deadlines, escalation): a scheduler job.

Only rows with `next_wake_at <= now` are read, through the index on next_wake_at: instances that are
merely waiting cost nothing. Each instance is one transaction: lock, restore, fire, record (state,
inbox rows, audit, outbox mails, the next wake-up), commit. On PostgreSQL the lock is
`FOR UPDATE SKIP LOCKED`, so any number of workers share the work without ever holding the same
instance; on SQLite BEGIN IMMEDIATE serializes writers instead. A crash mid-instance rolls its
transaction back, and the instance is still due for the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.exc import StaleDataError

from workflows.engine import EngineError, ProcessInstance
from workflows.serialization import StateError

from ..db.models import ProcessInstance as InstanceRow
from ..db.models import ProcessVersion
from ..errors import DomainError
from ..runtime import Runtime
from .instances import audit, record
from .tasks import deliver_to_nomination

log = logging.getLogger(__name__)

BATCH_SIZE = 50
# A broken instance (diagram error, unreadable state) is tried again this much later instead of at
# every tick, so it neither floods the log nor holds up the instances behind it.
RETRY_BROKEN_AFTER = timedelta(minutes=15)


@dataclass
class SweepReport:
    woken: int = 0
    skipped: int = 0  # another worker had it, or it was no longer due
    failed: int = 0


def wake_due_instances(runtime: Runtime, batch_size: int = BATCH_SIZE,
                       should_stop: Callable[[], bool] = lambda: False) -> SweepReport:
    """Fire the timers of every instance due at the start of this sweep."""
    report = SweepReport()
    now = runtime.clock.now()
    # Keyset cursor over (next_wake_at, id): each due instance is visited once per sweep, even one
    # that stays due (skipped because another worker holds it, or failed), so a sweep always ends.
    after: tuple[datetime, str] | None = None
    while not should_stop():
        batch = _due_batch(runtime, now, after, batch_size)
        for _, instance_id in batch:
            if should_stop():
                break
            outcome = wake_instance(runtime, instance_id, now)
            setattr(report, outcome, getattr(report, outcome) + 1)
        if len(batch) < batch_size:
            break
        after = batch[-1]
    return report


def _due_batch(runtime: Runtime, now: datetime, after: tuple[datetime, str] | None,
               size: int) -> list[tuple[datetime, str]]:
    query = select(InstanceRow.next_wake_at, InstanceRow.id).where(InstanceRow.next_wake_at <= now)
    if after is not None:
        query = query.where(or_(InstanceRow.next_wake_at > after[0],
                                and_(InstanceRow.next_wake_at == after[0], InstanceRow.id > after[1])))
    with runtime.uow() as uow:
        rows = uow.session.execute(query.order_by(InstanceRow.next_wake_at, InstanceRow.id).limit(size))
        return [(at, instance_id) for at, instance_id in rows if at is not None]


def wake_instance(runtime: Runtime, instance_id: str, now: datetime) -> str:
    """"woken", "skipped" or "failed"; one commit."""
    with runtime.uow() as uow:
        session = uow.session
        query = select(InstanceRow).where(InstanceRow.id == instance_id, InstanceRow.next_wake_at <= now)
        if session.get_bind().dialect.name == "postgresql":
            # SKIP LOCKED: a row another worker holds is its business, not a reason to wait. The
            # condition is re-checked on the latest committed row, so an instance another worker
            # has just woken is no longer due here.
            query = query.with_for_update(skip_locked=True)
        row = session.scalars(query).first()
        if row is None:
            return "skipped"
        try:
            instance = _restore(session, runtime, row)
            outcome = instance.fire_due_timers()
            record(session, runtime, row, instance, outcome, None,
                   deliver=lambda name, nid, payload: deliver_to_nomination(session, runtime, name, nid, payload))
            uow.commit()
        except StaleDataError:
            return "skipped"  # changed under us (SQLite has no row lock): the next sweep sees the new state
        except (OperationalError, InterfaceError):
            raise  # the database itself is failing: end the sweep, the next tick starts over
        except (EngineError, StateError, DomainError, SQLAlchemyError, LookupError, ValueError) as exc:
            session.rollback()
            log.exception("timers of instance %s failed", instance_id)
            _postpone(runtime, instance_id, now, exc)
            return "failed"
    return "woken"


def _restore(session: Session, runtime: Runtime, row: InstanceRow) -> ProcessInstance:
    """load_instance() without its second read of the row we hold, and without the diagram's BPMN
    bytes unless this version was never parsed here: the sweep restores thousands of instances."""
    version = session.get(ProcessVersion, row.process_version_id, options=[defer(ProcessVersion.bpmn)])
    if version is None:
        raise StateError(f"instance {row.id}: unknown process version {row.process_version_id}")
    runtime.definition(version)
    return runtime.engine.restore(row.state)


def _postpone(runtime: Runtime, instance_id: str, now: datetime, error: Exception) -> None:
    with runtime.uow() as uow:
        uow.session.execute(update(InstanceRow).where(InstanceRow.id == instance_id,
                                                      InstanceRow.next_wake_at <= now)
                            .values(next_wake_at=now + RETRY_BROKEN_AFTER))
        audit(uow.session, runtime, "timer_failed", instance_id=instance_id,
              error=f"{type(error).__name__}: {error}"[:1000])
        uow.commit()
