"""Ending work that will not go on: a unit withdraws its own draft, Home Affairs cancels a batch
still being prepared. The process instance is cancelled where it stands (open tasks close, timers
stop, no mail), the rows stay for the record with their reason in the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.core.runtime import Runtime
from service.db.models import Batch, InboxRow, InstanceRow, Nomination
from service.security.access import Actor
from service.usecases.audit import audit
from service.usecases.batches import preparer_role
from service.usecases.instances import InstanceFailed, keep_instances, load_instance, record, record_incident
from service.usecases.nominations import _draft_task
from service.usecases.tasks import _commit
from workflows.engine import EngineError, ProcessInstance

REASON_MAX = 2000


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Lý do dài quá {REASON_MAX} ký tự")
    return reason


def _cancel(session: Session, runtime: Runtime, instance_id: str, actor: Actor) -> tuple[InstanceRow, ProcessInstance]:
    row, instance = load_instance(session, runtime, instance_id, lock=True)
    try:
        outcome = instance.cancel()
    except EngineError as exc:
        raise InstanceFailed(row.id, exc, "cancel") from exc
    record(session, runtime, row, instance, outcome, actor.user_id)
    return row, instance


def withdraw_draft(runtime: Runtime, actor: Actor, nomination_id: str, reason: str | None = None) -> None:
    """The unit's officer withdraws a nomination while it is with the unit (drafting, or returned)."""
    why = _reason(reason)
    try:
        with runtime.uow() as uow:
            session = uow.session
            nomination, _ = _draft_task(session, runtime, actor, nomination_id)
            if nomination.instance_id is None:
                raise Conflict("Hồ sơ chưa có quy trình để rút")
            row, instance = _cancel(session, runtime, nomination.instance_id, actor)
            nomination.status = "withdrawn"
            audit(session, runtime, "nomination_withdrawn", actor_id=actor.user_id, nomination_id=nomination_id,
                  instance_id=row.id, reason=why)
            _commit(uow)
            keep_instances(runtime, [(row, instance)])
    except InstanceFailed as failed:
        raise record_incident(runtime, failed) from failed


def cancel_batch(runtime: Runtime, actor: Actor, batch_id: str, reason: str | None = None) -> int:
    """Home Affairs cancels a batch that has not reached the Chairman: an empty one created by
    mistake, or one given up. Its nominations go back to the list waiting for a batch; returns
    how many."""
    why = _reason(reason)
    try:
        with runtime.uow() as uow:
            session = uow.session
            preparer = preparer_role(runtime, session)
            if not actor.has_role(preparer):
                raise Forbidden("Chỉ lãnh đạo Sở Nội vụ được hủy đợt trình")
            batch = session.get(Batch, batch_id)
            if batch is None:
                raise NotFound(f"Không tìm thấy đợt trình {batch_id}")
            if batch.status != "open":
                raise Conflict("Đợt trình đã kết thúc, không hủy được")
            roles = set(session.scalars(select(InboxRow.role).where(InboxRow.batch_id == batch_id)))
            if roles - {preparer}:
                raise Conflict("Đợt trình đã trình Chủ tịch UBND tỉnh; chỉ hủy được khi Sở Nội vụ đang chuẩn bị")
            row, instance = _cancel(session, runtime, batch.instance_id, actor)
            members = list(session.scalars(select(Nomination).where(Nomination.batch_id == batch_id)))
            for nomination in members:
                nomination.batch_id = None
            batch.status = "cancelled"
            audit(session, runtime, "batch_cancelled", actor_id=actor.user_id, instance_id=row.id,
                  batch_id=batch_id, reason=why, released=[n.id for n in members])
            _commit(uow)
            keep_instances(runtime, [(row, instance)])
            return len(members)
    except InstanceFailed as failed:
        raise record_incident(runtime, failed) from failed
