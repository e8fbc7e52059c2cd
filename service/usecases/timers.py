"""Waking instances whose timers fell due (reminders, deadlines, escalation): a scheduler job.

Only rows with `next_wake_at <= now` are read, through the index on next_wake_at: instances that are
merely waiting cost nothing. The sweep claims a batch of due rows in one statement and wakes them in
one transaction: restore, fire, record (state, inbox rows, audit, outbox mails, the next wake-up),
then one commit for the batch. A transaction per instance cost more than the engine step itself
once thousands of reminders fall due at 08:00.

- Workers: on PostgreSQL the claim is `FOR UPDATE SKIP LOCKED`, so any number of workers share the
  work, each on its own rows, never waiting on each other; on SQLite BEGIN IMMEDIATE serializes
  writers, and the batch stays short there so that web requests do not queue behind a long sweep.
- A broken instance is set aside alone: postponed by RETRY_BROKEN_AFTER and audited, while the rest
  of its batch commits. One that fails in the engine (unreadable state, diagram error) has written
  nothing yet; one that fails while its step is recorded (a template, a constraint) has, so its
  batch is rolled back and done again with a SAVEPOINT per instance. Savepoints are not the rule:
  they would cost two statements per instance and force every instance's writes out on their own.
- A crash mid-batch rolls the whole batch back: its instances are still due for the next sweep, and
  no mail of theirs was enqueued.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, event, func, insert, or_, select
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from service.core.errors import Conflict
from service.core.runtime import Runtime
from service.db.models import AuditEvent, Batch, InboxRow, InstanceRow, Nomination
from service.usecases.audit import audit
from service.usecases.instances import InstanceFailed, Links, instance_of, mark_incident, record, resolve_incident
from service.usecases.outbox import share_recipients
from service.usecases.tasks import deliver_to_nomination
from workflows.engine import EngineError

log = logging.getLogger(__name__)

# The database itself is failing: no instance is to blame, the whole batch rolls back.
_DATABASE_DOWN = (OperationalError, InterfaceError)

# Instances per transaction. PostgreSQL locks only the batch's own rows, so a web request on one of
# them waits at most one batch's time (~0.2 s); SQLite's write lock stops every writer, so its
# batches stay short.
BATCH_SIZE = 32
SQLITE_BATCH_SIZE = 8
# A broken instance (diagram error, unreadable state) is tried again this much later instead of at
# every tick, so it neither floods the log nor holds up the instances behind it.
RETRY_BROKEN_AFTER = timedelta(minutes=15)


@dataclass
class SweepReport:
    woken: int = 0
    skipped: int = 0  # changed by someone else since it was claimed (SQLite, or a lock-less writer)
    failed: int = 0
    batches: int = 0


def wake_due_instances(runtime: Runtime, batch_size: int | None = None,
                       should_stop: Callable[[], bool] = lambda: False,
                       after_commit: Callable[[SweepReport], None] = lambda _report: None) -> SweepReport:
    """Fire the timers of every instance due at the start of this sweep.

    `after_commit` runs after each batch commit (the scheduler hands the new mails to delivery at
    once instead of at its next tick)."""
    size = batch_size or (SQLITE_BATCH_SIZE if runtime.db.is_sqlite else BATCH_SIZE)
    report = SweepReport()
    now = runtime.clock.now()
    # Keyset cursor over (next_wake_at, id): each due instance is visited once per sweep, even one
    # that stays due (failed, or changed under us), so a sweep always ends.
    after: tuple[datetime, str] | None = None
    while not should_stop():
        claimed = _wake_batch(runtime, now, after, size, report, should_stop)
        if claimed:
            report.batches += 1
            after_commit(report)
        if len(claimed) < size:
            break
        after = claimed[-1]
    return report


def next_wake_in(runtime: Runtime) -> timedelta | None:
    """How long until the earliest instance falls due (negative if one is due now); None if none waits."""
    with runtime.read() as uow:
        earliest = uow.session.scalar(select(func.min(InstanceRow.next_wake_at)))
    return None if earliest is None else earliest - runtime.clock.now()


class _WriteFailed(Exception):
    """record() failed for an instance of a batch written without savepoints."""


def _wake_batch(runtime: Runtime, now: datetime, after: tuple[datetime, str] | None, size: int,
                report: SweepReport, should_stop: Callable[[], bool]) -> list[tuple[datetime, str]]:
    """Claim up to `size` due rows and wake them in one transaction; the claim's (next_wake_at, id) keys."""
    with runtime.uow() as uow:
        session = uow.session
        # The session's identity map holds objects weakly: kept alive for the batch, the rows every
        # instance of it reads again (its unit, the recipients and their roles, the diagram version)
        # come from the map instead of one more query per instance.
        loaded: list[object] = []
        event.listen(session, "loaded_as_persistent", lambda _session, obj: loaded.append(obj))
        share_recipients(session)
        rows = _claim(session, now, size, after=after)
        keys = [(row.next_wake_at, row.id) for row in rows]
        try:
            # The cheap way first: what record() reads is read for the whole batch, nothing is
            # written before the end, and there is no savepoint, so the batch's writes go out together.
            batch = _Batch(_links(session, rows), [])
            outcomes = _wake_rows(session, runtime, rows, now, should_stop, batch)
            if batch.audit_rows:
                session.execute(insert(AuditEvent), batch.audit_rows)
            session.flush()  # the version checks: a row changed under us fails the batch here
        except _DATABASE_DOWN:
            raise
        except (_WriteFailed, SQLAlchemyError):
            # One instance failed while writing and left its half in the session: start the batch
            # over with a savepoint per instance, so that instance alone is rolled back.
            session.rollback()
            rows = _claim(session, now, size, ids=[instance_id for _, instance_id in keys])
            outcomes = _wake_rows(session, runtime, rows, now, should_stop, None)
        uow.commit()
    for outcome in outcomes:
        setattr(report, outcome, getattr(report, outcome) + 1)
    return [(at, instance_id) for at, instance_id in keys if at is not None]


def _claim(session: Session, now: datetime, size: int, after: tuple[datetime, str] | None = None,
           ids: list[str] | None = None) -> list[InstanceRow]:
    query = select(InstanceRow).where(InstanceRow.next_wake_at <= now)
    if after is not None:
        query = query.where(or_(InstanceRow.next_wake_at > after[0],
                                and_(InstanceRow.next_wake_at == after[0], InstanceRow.id > after[1])))
    if ids is not None:
        query = query.where(InstanceRow.id.in_(ids))
    query = query.order_by(InstanceRow.next_wake_at, InstanceRow.id).limit(size)
    if session.get_bind().dialect.name == "postgresql":
        # SKIP LOCKED: rows another worker holds are its business, not a reason to wait; the
        # condition is re-checked on the latest committed row, so an instance another worker has
        # just woken is no longer due here, and the LIMIT is filled from the rows after it.
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


@dataclass
class _Batch:
    links: dict[str, Links]
    audit_rows: list[dict[str, Any]]


def _links(session: Session, rows: list[InstanceRow]) -> dict[str, Links]:
    """What record() would read instance by instance, in three queries for the batch."""
    ids = [row.id for row in rows]
    nominations = {n.instance_id: n for n in session.scalars(select(Nomination).where(Nomination.instance_id.in_(ids)))}
    others = [i for i in ids if i not in nominations]  # an instance runs a nomination or a batch's decision
    batches = {b.instance_id: b for b in session.scalars(select(Batch).where(Batch.instance_id.in_(others)))} \
        if others else {}
    tasks: dict[str, list[InboxRow]] = {i: [] for i in ids}
    for task in session.scalars(select(InboxRow).where(InboxRow.instance_id.in_(ids))):
        tasks[task.instance_id].append(task)
    return {i: Links(nominations.get(i), batches.get(i), tasks[i]) for i in ids}


def _wake_rows(session: Session, runtime: Runtime, rows: list[InstanceRow], now: datetime,
               should_stop: Callable[[], bool], batch: _Batch | None) -> list[str]:
    outcomes = []
    for row in rows:
        if should_stop():
            break  # the rest of the claim is released unchanged by the commit
        outcomes.append(_wake(session, runtime, row, now, batch))
    return outcomes


def _wake(session: Session, runtime: Runtime, row: InstanceRow, now: datetime, batch: _Batch | None) -> str:
    """"woken", "skipped" or "failed"; the caller commits. With `batch` (no savepoint), a failure
    while writing raises _WriteFailed: the session then holds part of this instance's writes."""
    isolated = batch is None
    try:
        instance = instance_of(session, runtime, row)
        outcome = instance.fire_due_timers()
    except _DATABASE_DOWN:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever breaks one instance must not hold back its batch
        return _failed(session, runtime, row, now, exc)  # nothing of it was written yet
    try:
        with session.begin_nested() if isolated else contextlib.nullcontext():
            record(session, runtime, row, instance, outcome, None,
                   deliver=lambda name, nid, payload: deliver_to_nomination(session, runtime, name, nid, payload),
                   links=batch.links[row.id] if batch else None, audit_rows=batch.audit_rows if batch else None)
    except _DATABASE_DOWN:
        raise  # end the sweep (the batch rolls back); the next tick starts over
    except Exception as exc:  # noqa: BLE001 - as above
        if not isolated:
            raise _WriteFailed(row.id) from exc
        if isinstance(exc, Conflict):
            return "skipped"  # moved by another writer since the claim: the next sweep sees its new state
        return _failed(session, runtime, row, now, exc)
    resolve_incident(session, runtime, row)
    return "woken"


def _failed(session: Session, runtime: Runtime, row: InstanceRow, now: datetime, error: Exception) -> str:
    """An engine failure makes the instance an incident (no more wake-ups until an admin retries);
    anything else is postponed by RETRY_BROKEN_AFTER and audited. In the batch's transaction."""
    log.error("timers of instance %s failed", row.id, exc_info=error)
    if isinstance(error, InstanceFailed | EngineError):
        mark_incident(session, runtime, row, getattr(error, "error", error), "timer")
        return "failed"
    # After a savepoint rollback the row is expired: this reloads what is committed. The version
    # bump tells a page that still shows the old state that something happened.
    row.next_wake_at = now + RETRY_BROKEN_AFTER
    audit(session, runtime, "timer_failed", instance_id=row.id, error=f"{type(error).__name__}: {error}"[:1000])
    return "failed"
