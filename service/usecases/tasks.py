"""Acting on open tasks: complete (with form data), claim, release, reassign."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.core.errors import Conflict, Forbidden, InvalidInput
from service.core.runtime import Runtime
from service.db.lookups import nomination_and_choices, task_gone
from service.db.models import Batch, InboxRow, InstanceRow, Nomination, RoleAssignment, User
from service.db.session import retry_once
from service.security.access import Actor, can_act, require_act
from service.usecases.audit import audit
from service.usecases.desk_times import desk_time
from service.usecases.instances import (
    InstanceFailed,
    keep_instances,
    load_instance,
    record,
    record_incident,
    resolve_incident,
)
from service.usecases.locks import fresh_task, lock_nomination_instances, locked_task, locks_rows
from service.usecases.report_status import REPORT_PROCESSES, completion_data
from workflows.contract import BATCH_PREPARATION, DECISION_SIGNING, DRAFT
from workflows.engine import EngineError, NotWaitingForMessage, ProcessInstance, TaskNotFound
from workflows.forms import FormError

DRAFT_FIELDS = ("nominee_kind", "nominee_name", "award")


@retry_once
def complete_task(runtime: Runtime, actor: Actor, task_uuid: str, data: dict[str, Any],
                  expected_version: int | None = None, language: str = "vi") -> dict[str, Any]:
    """Complete a task. When the engine fails (on this instance, or on one it sends a message to),
    nothing of the step is kept, that instance becomes an incident and the user gets a 409."""
    try:
        return _complete_task(runtime, actor, task_uuid, data, expected_version, language)
    except InstanceFailed as failed:
        raise record_incident(runtime, failed) from failed


def _complete_task(runtime: Runtime, actor: Actor, task_uuid: str, data: dict[str, Any],
                   expected_version: int | None, language: str) -> dict[str, Any]:
    with runtime.uow() as uow:
        session = uow.session
        task = session.get(InboxRow, task_uuid)
        if task is None:
            raise task_gone(session, task_uuid)
        row, instance = load_instance(session, runtime, task.instance_id, lock=True)
        if locks_rows(session):  # read before the lock: what a writer that held it committed counts
            task = fresh_task(session, task_uuid)
        require_act(actor, task)
        if expected_version is not None and expected_version != row.version:
            raise Conflict("Hồ sơ đã được người khác cập nhật; hãy tải lại")
        stage = instance.definition.stage_of(task.task_id)
        choices, nomination = None, None
        if task.nomination_id:
            nomination, choices = nomination_and_choices(session, task.nomination_id)
            if stage == DRAFT:
                data = {**nomination.data, **data}
        if stage == BATCH_PREPARATION:
            _check_batch_members(session, task, data)
        if task.process_id in REPORT_PROCESSES:
            data = completion_data(session, task, instance.definition, data)
        if stage == DECISION_SIGNING and data.get("decision") == "sign":
            # Signed only with a valid digital signature; the number and date come from the register.
            raise InvalidInput("Quyết định chỉ được ký bằng chữ ký số, ở mục “Ký số quyết định” của đợt trình: "
                               "số và ngày do sổ đăng ký cấp, không nhập tay")
        try:
            outcome = instance.complete(task_uuid, data, actor.username, language, choices=choices)
        except FormError as exc:
            raise InvalidInput("Dữ liệu biểu mẫu không hợp lệ", exc.errors) from exc
        except TaskNotFound as exc:
            raise task_gone(session, task_uuid) from exc
        except EngineError as exc:
            raise InstanceFailed(row.id, exc, "complete") from exc
        resolve_incident(session, runtime, row, actor.user_id)
        if task.nomination_id and stage == DRAFT:
            _copy_draft_fields(session, task.nomination_id, data)
        if outcome.messages:  # the nominations it will move, locked together in the one order
            lock_nomination_instances(session, [m.nomination_id for m in outcome.messages])
        session.add(desk_time(session, runtime, task, nomination, actor.user_id))
        written = [(row, instance)]
        record(session, runtime, row, instance, outcome, actor.user_id,
               deliver=lambda name, nid, payload: deliver_to_nomination(session, runtime, name, nid, payload,
                                                                        actor.user_id, written))
        _commit(uow)
        keep_instances(runtime, written)
        return {"instance_id": row.id, "version": row.version, "status": row.status,
                "opened": [t.id for t in outcome.opened]}


def deliver_to_nomination(session: Session, runtime: Runtime, name: str, nomination_id: str,
                          payload: dict[str, Any], actor_id: int | None = None,
                          written: list[tuple[InstanceRow, ProcessInstance]] | None = None) -> None:
    """Within the caller's transaction; `written` collects what to keep in the cache after its commit."""
    nomination = session.get(Nomination, nomination_id)
    if nomination is None or nomination.instance_id is None:
        raise InvalidInput(f"Hồ sơ {nomination_id} không tồn tại")
    row, instance = load_instance(session, runtime, nomination.instance_id, lock=True)
    try:
        outcome = instance.deliver(name, payload)
    except NotWaitingForMessage as exc:
        raise Conflict(f"Hồ sơ {nomination_id} không ở bước chờ quyết định") from exc
    except EngineError as exc:
        raise InstanceFailed(row.id, exc, "message") from exc
    # The nomination's own history shows the decision (number, outcome, reason), not only its end event.
    audit(session, runtime, "decision_received", actor_id=actor_id, nomination_id=nomination_id,
          instance_id=row.id, batch_id=nomination.batch_id, message=name, **payload)
    record(session, runtime, row, instance, outcome, None)
    if written is not None:
        written.append((row, instance))


def _check_batch_members(session: Session, task: InboxRow, data: dict[str, Any]) -> None:
    ids = data.get("nomination_ids") or []
    if not isinstance(ids, list) or len(ids) > 1000 or not all(isinstance(i, str) for i in ids):
        return  # the form check reports it; such a list never reaches a query
    # Another batch may be taking the same nominations: their instances are locked (after this
    # batch's own) before their batch_id is read and written.
    lock_nomination_instances(session, ids)
    found = {n.id: n for n in session.scalars(select(Nomination).where(Nomination.id.in_(ids))
                                                .execution_options(populate_existing=True))}
    problems = [
        f"{nid}: không ở bước chờ quyết định" for nid in ids
        if nid not in found or found[nid].status != "awaiting_decision"
        or (found[nid].batch_id not in (None, task.batch_id))
    ]
    # A decision rewards one movement's nominees: another movement's nominations wait for its own batch.
    batch = session.get(Batch, task.batch_id) if task.batch_id else None
    problems += [f"{n.id}: thuộc phong trào thi đua khác" for n in found.values()
                 if batch is not None and n.movement_id != batch.movement_id]
    if problems:
        raise InvalidInput(f"Danh sách hồ sơ không hợp lệ: {'; '.join(problems)}")
    for nomination in found.values():
        nomination.batch_id = task.batch_id


def _copy_draft_fields(session: Session, nomination_id: str, data: dict[str, Any]) -> None:
    nomination = session.get(Nomination, nomination_id)
    assert nomination is not None
    nomination.data = dict(data)
    for field in DRAFT_FIELDS:
        setattr(nomination, field, data.get(field))
    for task in session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination_id)):
        task.nominee_name, task.nominee_kind = nomination.nominee_name, nomination.nominee_kind


def _commit(uow: Any) -> None:
    try:
        uow.commit()
    except (StaleDataError, IntegrityError) as exc:
        raise Conflict("Người khác vừa xử lý cùng hồ sơ; hãy tải lại") from exc


@retry_once
def claim(runtime: Runtime, actor: Actor, task_uuid: str) -> None:
    with runtime.uow() as uow:
        task = locked_task(uow.session, task_uuid)
        require_act(actor, task)
        if task.assignee_id == actor.user_id:
            return
        task.assignee_id = actor.user_id
        audit(uow.session, runtime, "task_claimed", actor_id=actor.user_id, nomination_id=task.nomination_id,
              instance_id=task.instance_id, task=task.task_id, task_uuid=task.id)
        _commit(uow)


@retry_once
def release(runtime: Runtime, actor: Actor, task_uuid: str) -> None:
    with runtime.uow() as uow:
        task = locked_task(uow.session, task_uuid)
        if task.assignee_id is None:
            return
        if not (task.assignee_id == actor.user_id or task.assignee_id in actor.acting_for
                or _leads(runtime, actor, task)):
            raise Forbidden("Chỉ người đang nhận nhiệm vụ hoặc lãnh đạo mới được trả lại")
        task.assignee_id = None
        audit(uow.session, runtime, "task_released", actor_id=actor.user_id, nomination_id=task.nomination_id,
              instance_id=task.instance_id, task=task.task_id, task_uuid=task.id)
        _commit(uow)


@retry_once
def reassign(runtime: Runtime, actor: Actor, task_uuid: str, to_user_id: int) -> None:
    """The assignee hands a task over (delegate), or a lead or admin reassigns it."""
    with runtime.uow() as uow:
        session = uow.session
        task = locked_task(session, task_uuid)
        if not (task.assignee_id == actor.user_id and can_act(actor, task)) and not _leads(runtime, actor, task):
            raise Forbidden("Chỉ người đang nhận nhiệm vụ, lãnh đạo hoặc quản trị mới được giao lại")
        target = session.get(User, to_user_id)
        if target is None or not target.active:
            raise InvalidInput(f"Không tìm thấy người dùng {to_user_id}")
        holds = session.scalars(select(RoleAssignment).where(
            RoleAssignment.user_id == target.id, RoleAssignment.role == task.role)).all()
        if not any(task.unit_id is None or a.unit_id == task.unit_id for a in holds):
            raise InvalidInput(f"{target.username} không có vai trò {task.role} cho nhiệm vụ này")
        task.assignee_id = target.id
        audit(session, runtime, "task_reassigned", actor_id=actor.user_id, nomination_id=task.nomination_id,
              instance_id=task.instance_id, task=task.task_id, task_uuid=task.id, to_user=target.username)
        _commit(uow)


def _leads(runtime: Runtime, actor: Actor, task: InboxRow) -> bool:
    if actor.is_admin:
        return True
    role = runtime.roles.roles.get(task.role)
    return bool(role and role.lead and any(
        r == role.lead and (task.unit_id is None or u == task.unit_id) for r, u in actor.grants))

