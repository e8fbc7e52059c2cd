"""Moving running instances onto a newer deployed version of their diagram.

The rule for what is safe lives with the engine (workflows/migration.py). Here: which instances,
a dry run that changes nothing, and the real run, one transaction per instance so that one refusal
or conflict never holds back the others. Each migrated instance gets an audit event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Conflict, DomainError, InvalidInput
from service.core.runtime import Runtime
from service.db.models import Batch, InboxRow, InstanceRow, Nomination, ProcessVersion
from service.security.access import Actor, require_admin
from service.usecases.audit import audit
from service.usecases.instances import load_instance
from service.usecases.processes import commit_or_conflict, find_version
from workflows.engine import EngineError
from workflows.migration import MigrationPlan, plan_migration
from workflows.serialization import StateError

MAX_BULK = 500


def preview(runtime: Runtime, actor: Actor, process_id: str, to_version: int,
            instance_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """What migrating would change for each instance, and whether it is safe. Nothing is written."""
    require_admin(actor)
    with runtime.uow() as uow:
        target = find_version(uow.session, process_id, to_version)
        ids = instance_ids if instance_ids is not None else _older_running(uow.session, target)
    _check_count(ids)
    results = []
    for instance_id in ids:
        with runtime.uow() as uow:  # read only: closed without commit
            results.append(_attempt(runtime, uow.session, actor, target, instance_id, apply=False))
    return results


def migrate(runtime: Runtime, actor: Actor, process_id: str, to_version: int,
            instance_ids: list[str]) -> list[dict[str, Any]]:
    """Migrate each listed instance that is safe, each in its own transaction; list the others with why."""
    require_admin(actor)
    if not instance_ids:
        raise InvalidInput("Chọn ít nhất một quy trình để chuyển phiên bản")
    _check_count(instance_ids)
    with runtime.uow() as uow:
        target = find_version(uow.session, process_id, to_version)
    results = []
    for instance_id in dict.fromkeys(instance_ids):
        with runtime.uow() as uow:
            try:
                result = _attempt(runtime, uow.session, actor, target, instance_id, apply=True)
                if result["migrated"]:
                    commit_or_conflict(uow)
            except Conflict as exc:
                result = _refused(instance_id, None, target, exc.detail)
            results.append(result)
    return results


def _attempt(runtime: Runtime, session: Session, actor: Actor, target: ProcessVersion, instance_id: str,
             apply: bool) -> dict[str, Any]:
    row = session.get(InstanceRow, instance_id)
    if row is None or row.process_id != target.process_id:
        return _refused(instance_id, None, target, f"không có quy trình {instance_id} của {target.process_id} "
                                                   f"(no such instance of this process)")
    current = session.get(ProcessVersion, row.process_version_id)
    assert current is not None
    if current.version >= target.version:
        return _refused(instance_id, current, target, f"đang ở phiên bản {current.version}, không cũ hơn "
                                                      f"phiên bản {target.version}")
    try:
        row, instance = load_instance(session, runtime, instance_id, lock=apply)
        definition = runtime.definition(target)
        opened = {t.id: t.opened_at for t in session.scalars(select(InboxRow).where(InboxRow.instance_id == row.id))}
        plan = plan_migration(instance, definition, opened)
    except (EngineError, StateError, DomainError, ValueError, LookupError) as exc:
        return _refused(instance_id, current, target, f"không kiểm tra được (could not be checked): {exc}")
    result = _result(session, row, current, target, plan, runtime.clock.now())
    if apply and plan.safe and plan.migrated is not None:
        _apply(session, runtime, actor, row, current, target, plan, result)
        result["migrated"] = True
    return result


def _apply(session: Session, runtime: Runtime, actor: Actor, row: InstanceRow, current: ProcessVersion,
           target: ProcessVersion, plan: MigrationPlan, result: dict[str, Any]) -> None:
    migrated = plan.migrated
    assert migrated is not None
    now = runtime.clock.now()
    row.process_version_id = target.id
    row.state = migrated.serialize()  # carries the new version's checksum: the instance is bound to it
    row.next_wake_at = migrated.next_wake_at()
    row.updated_at = now
    session.flush()
    open_now = {t.id: t for t in migrated.open_tasks()}
    rows = {t.id: t for t in session.scalars(select(InboxRow).where(InboxRow.instance_id == row.id))}
    for task_uuid, stale in rows.items():
        if task_uuid not in open_now:
            session.delete(stale)
    for task_uuid, task in open_now.items():
        projected = rows.get(task_uuid)
        if projected is None:
            projected = InboxRow(id=task_uuid, instance_id=row.id, process_id=row.process_id, opened_at=now,
                                 nomination_id=result["nomination_id"], batch_id=result["batch_id"])
            session.add(projected)
        projected.task_id, projected.name, projected.role = task.task_id, task.name, task.role
        projected.unit_id, projected.form, projected.ui_form = task.unit_id, task.form, task.ui_form
        projected.due_at = task.due_at
    audit(session, runtime, "instance_migrated", actor_id=actor.user_id, nomination_id=result["nomination_id"],
          instance_id=row.id, process_id=row.process_id, from_version=current.version,
          to_version=target.version, from_checksum=current.checksum, to_checksum=target.checksum,
          changes=[{k: c[k] for k in ("element_id", "state", "change", "attributes")} for c in result["changes"]],
          due=[{k: _iso(t[k]) for k in ("task_id", "due_before", "due_after")} for t in result["open_tasks"]])


def _result(session: Session, row: InstanceRow, current: ProcessVersion, target: ProcessVersion,
            plan: MigrationPlan, now: datetime) -> dict[str, Any]:
    nomination_id = session.scalar(select(Nomination.id).where(Nomination.instance_id == row.id))
    batch_id = session.scalar(select(Batch.id).where(Batch.instance_id == row.id))
    return {
        "instance_id": row.id, "nomination_id": nomination_id, "batch_id": batch_id,
        "from_version": current.version, "to_version": target.version, "safe": plan.safe, "migrated": False,
        "reasons": list(plan.reasons),
        "changes": [{"element_id": c.element_id, "name": c.name, "state": c.state, "change": c.change,
                     "attributes": list(c.attributes), "blocking": c.blocking, "reason": c.reason}
                    for c in plan.changes],
        "open_tasks": [{"task_uuid": t.task_uuid, "task_id": t.task_id, "name": t.name,
                        "due_before": t.due_before, "due_after": t.due_after,
                        "overdue_after": bool(t.due_after and t.due_after < now)} for t in plan.open_tasks],
        "next_wake_before": plan.next_wake_before, "next_wake_after": plan.next_wake_after,
    }


def _refused(instance_id: str, current: ProcessVersion | None, target: ProcessVersion, reason: str) -> dict[str, Any]:
    return {"instance_id": instance_id, "nomination_id": None, "batch_id": None,
            "from_version": current.version if current else None, "to_version": target.version, "safe": False,
            "migrated": False, "reasons": [reason], "changes": [], "open_tasks": [],
            "next_wake_before": None, "next_wake_after": None}


def _older_running(session: Session, target: ProcessVersion) -> list[str]:
    return list(session.scalars(
        select(InstanceRow.id).join(ProcessVersion, ProcessVersion.id == InstanceRow.process_version_id)
        .where(InstanceRow.process_id == target.process_id, InstanceRow.status == "running",
               ProcessVersion.version < target.version)
        .order_by(InstanceRow.created_at, InstanceRow.id).limit(MAX_BULK)))  # the oldest first, a page at a time


def _check_count(ids: list[str]) -> None:
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"Tối đa {MAX_BULK} quy trình mỗi lần (at most {MAX_BULK} instances per request)")


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
