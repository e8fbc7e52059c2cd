"""One lock order for every write, so that no two use cases ever wait on each other in a circle.

The root of everything a nomination or a batch owns (its nomination or batch row, its open tasks,
its attachments) is its process instance row. A use case that changes any of them locks that row
first and reads what it changes only after the lock: it then merges into the latest committed state
instead of into a copy that a concurrent writer has since replaced (a lost update), and it sees a
task another writer has just completed as gone. Several instances are locked together in id order;
a batch's instance before the instances of its nominations. Rows that no instance owns (user
accounts, outbox mails) are locked on their own, never while waiting for an instance.

On PostgreSQL the lock is `SELECT ... FOR UPDATE`; each later statement of the transaction (READ
COMMITTED) sees what the previous holder committed. On SQLite every writing transaction begins
IMMEDIATE, which already serialises writers, so the extra statements are skipped there.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.lookups import task_gone
from service.db.models import InboxRow, InstanceRow, Nomination


def locks_rows(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_nomination_instances(session: Session, nomination_ids: Iterable[str]) -> None:
    """Lock the instance rows of these nominations, in id order (the one order every writer uses)."""
    ids = sorted(set(nomination_ids))
    if ids and locks_rows(session):
        owned = select(Nomination.instance_id).where(Nomination.id.in_(ids))
        session.execute(select(InstanceRow.id).where(InstanceRow.id.in_(owned))
                        .order_by(InstanceRow.id).with_for_update())


def locked_nomination(session: Session, nomination_id: str) -> Nomination | None:
    """The nomination as committed once its instance row is locked (None if there is none)."""
    if not locks_rows(session):
        return session.get(Nomination, nomination_id)
    instance_id = select(Nomination.instance_id).where(Nomination.id == nomination_id).scalar_subquery()
    session.execute(select(InstanceRow.id).where(InstanceRow.id == instance_id).with_for_update())
    return session.scalars(select(Nomination).where(Nomination.id == nomination_id)
                           .execution_options(populate_existing=True)).first()


def locked_task(session: Session, task_uuid: str) -> InboxRow:
    """The open task as committed once its instance row is locked; if it is gone, the 409 or 404
    that says why (completed, taken over by the lead, never existed)."""
    if locks_rows(session):
        instance_id = select(InboxRow.instance_id).where(InboxRow.id == task_uuid).scalar_subquery()
        session.execute(select(InstanceRow.id).where(InstanceRow.id == instance_id).with_for_update())
    return fresh_task(session, task_uuid)


def fresh_task(session: Session, task_uuid: str) -> InboxRow:
    """The task row as committed now, even if this session read it before."""
    task = session.scalars(select(InboxRow).where(InboxRow.id == task_uuid)
                           .execution_options(populate_existing=True)).first()
    if task is None:
        raise task_gone(session, task_uuid)
    return task
