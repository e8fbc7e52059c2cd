"""Nominations: create a draft (which starts its process), save it, submit it, upload its files."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound, catalogued
from service.core.runtime import Runtime
from service.db.lookups import TASK_COMPLETED, choices_of, movement_choices
from service.db.models import InboxRow, Nomination, Unit
from service.db.session import retry_once
from service.security.access import Actor, require_view
from service.usecases.accounts import today
from service.usecases.audit import audit
from service.usecases.files import NewFile, StoredFile, check_file, store_files
from service.usecases.instances import incident_error, keep_instances, record, start_instance
from service.usecases.locks import locked_nomination
from service.usecases.movements import movement_for_nomination
from service.usecases.tasks import _commit, complete_task
from workflows.contract import DRAFT, NOMINATION
from workflows.diagrams import HumanTaskSpec
from workflows.form_choices import MovementChoices
from workflows.forms import Form

NOT_A_DRAFT = catalogued("Hồ sơ đã được gửi đi; chỉ sửa được khi đang lập hoặc bị trả lại")


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12].upper()}"


def create_draft(runtime: Runtime, actor: Actor, unit_id: str, data: dict[str, Any],
                 movement_id: int | None = None) -> str:
    with runtime.uow() as uow:
        session = uow.session
        # Who drafts, and with which form: the draft stage's task of the version a new nomination runs on.
        draft = runtime.stage_task(session, NOMINATION, DRAFT)
        if (draft.role, unit_id) not in actor.grants:
            raise Forbidden("Chỉ cán bộ thi đua của đơn vị được lập hồ sơ cho đơn vị mình")
        if session.get(Unit, unit_id) is None:
            raise NotFound(f"Không tìm thấy đơn vị {unit_id}")
        movement = movement_for_nomination(session, unit_id, today(runtime), movement_id)
        _check_partial(draft_form(runtime, draft, choices_of(movement)), data)
        nomination_id = new_id("DN")
        now = runtime.clock.now()
        nomination = Nomination(id=nomination_id, unit_id=unit_id, movement_id=movement.id, status="draft",
                                data=dict(data),
                                nominee_kind=data.get("nominee_kind"), nominee_name=data.get("nominee_name"),
                                award=data.get("award"), created_by=actor.user_id, created_at=now, updated_at=now)
        row, instance, outcome = start_instance(session, runtime, NOMINATION,
                                                {"nomination_id": nomination_id, "unit_id": unit_id})
        session.flush()
        nomination.instance_id = row.id
        session.add(nomination)
        session.flush()
        audit(session, runtime, "nomination_created", actor_id=actor.user_id, nomination_id=nomination_id,
              instance_id=row.id, unit_id=unit_id)
        record(session, runtime, row, instance, outcome, actor.user_id)
        uow.commit()
        if row.incident is not None:
            raise incident_error(row)  # the nomination is kept; an admin's retry starts its process
        keep_instances(runtime, [(row, instance)])
        return nomination_id


@retry_once
def save_draft(runtime: Runtime, actor: Actor, nomination_id: str, data: dict[str, Any]) -> None:
    """Keep an unfinished draft: each given field must be valid, missing ones may come later.

    Merged into the stored draft under the lock that submission takes (see locks.py): two saves
    both land, and a save either lands before the submission (which then carries it) or finds the
    draft submitted and answers 409."""
    with runtime.uow() as uow:
        session = uow.session
        nomination, task = _draft_task(session, runtime, actor, nomination_id)
        _check_partial(task_form(runtime, task, movement_choices(session, nomination.movement_id)), data)
        nomination.data = {**nomination.data, **data}
        for field in ("nominee_kind", "nominee_name", "award"):
            setattr(nomination, field, nomination.data.get(field))
        task.nominee_name, task.nominee_kind = nomination.nominee_name, nomination.nominee_kind
        nomination.updated_at = runtime.clock.now()
        audit(session, runtime, "draft_saved", actor_id=actor.user_id, nomination_id=nomination_id,
              fields=sorted(data))
        _commit(uow)


def submit(runtime: Runtime, actor: Actor, nomination_id: str, data: dict[str, Any] | None = None,
           language: str = "vi") -> dict[str, Any]:
    """Complete the draft task; a second submission (the draft task is gone) is 409, like any task
    completed twice."""
    with runtime.read() as uow:
        _, task = _draft_task(uow.session, runtime, actor, nomination_id, lock=False, gone=TASK_COMPLETED)
        task_uuid = task.id
    return complete_task(runtime, actor, task_uuid, data or {}, language=language)


def _draft_task(session: Any, runtime: Runtime, actor: Actor, nomination_id: str, lock: bool = True,
                gone: str = NOT_A_DRAFT) -> tuple[Nomination, InboxRow]:
    """The nomination and its open draft task, if the actor may edit its dossier now: the one rule
    for typed fields and files alike (API and pages), so that nothing changes once it is sent up.
    With `lock`, read as committed under its instance's lock."""
    nomination = locked_nomination(session, nomination_id) if lock else session.get(Nomination, nomination_id)
    if nomination is None:
        raise NotFound(f"Không tìm thấy hồ sơ {nomination_id}")
    require_view(actor, nomination, runtime.roles)  # 404 when hidden, like everywhere else
    task = session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination_id,
                                                  InboxRow.stage == DRAFT)).first()
    if task is None:
        # 409, not 422: the request was fine when it was sent, a submission got there first.
        raise Conflict(gone)
    if (task.role, nomination.unit_id) not in actor.grants:
        raise Forbidden("Chỉ cán bộ thi đua của đơn vị được sửa hồ sơ")
    return nomination, task


def draft_form(runtime: Runtime, draft: HumanTaskSpec, choices: MovementChoices | None = None) -> Form:
    """The draft task's form; with `choices`, filled with a movement's kinds, criteria and awards."""
    if not draft.form:
        raise LookupError(f"the draft task {draft.task_id!r} has no form")
    return runtime.forms.get(draft.form, draft.ui_form, choices)


def task_form(runtime: Runtime, task: InboxRow, choices: MovementChoices | None = None) -> Form:
    if not task.form:
        raise LookupError(f"the open task {task.task_id!r} has no form")
    return runtime.forms.get(task.form, task.ui_form, choices)


def _check_partial(form: Any, data: Any) -> None:
    if not isinstance(data, dict):
        raise InvalidInput("Dữ liệu phải là một đối tượng JSON")
    errors = [e for e in form.validate(data) if not _is_missing_field(e, data)]
    if errors:
        raise InvalidInput("Dữ liệu hồ sơ không hợp lệ", errors)


def _is_missing_field(error: Any, data: dict[str, Any]) -> bool:
    top = error.path.split(".")[0]
    return bool(top) and top not in data


@retry_once  # the file under its hash is written whole or not at all, so a second run may write it again
def add_attachment(runtime: Runtime, actor: Actor, nomination_id: str, filename: str, content: bytes) -> StoredFile:
    """Files join the dossier only while the unit is drafting it or answering a return: once sent
    up, reviewers must see the dossier they were sent, not one that grows behind them."""
    with runtime.uow() as uow:
        session = uow.session
        _draft_task(session, runtime, actor, nomination_id)  # who and when, before what
        stored = check_file(runtime, filename, content)
        store_files(session, runtime, actor.user_id, nomination_id, [NewFile(stored, content)], runtime.clock.now())
        _commit(uow)
        return stored


def check_may_upload(runtime: Runtime, actor: Actor, nomination_id: str) -> None:
    """Before an upload is even read (parsing 20 MB of multipart costs): may this caller add files here now?"""
    with runtime.read() as uow:
        _draft_task(uow.session, runtime, actor, nomination_id, lock=False)
