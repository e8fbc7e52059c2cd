"""Nominations: create a draft (which starts its process), save it, submit it, upload its files."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from service.core.errors import Forbidden, InvalidInput, NotFound
from service.core.runtime import Runtime
from service.db.models import Attachment, Nomination, OpenTask, Unit
from service.security.access import Actor, require_view, visible_nomination
from service.usecases.audit import audit
from service.usecases.instances import keep_instances, record, start_instance
from service.usecases.tasks import _commit, complete_task
from workflows.contract import DRAFT, NOMINATION
from workflows.diagrams import HumanTaskSpec
from workflows.forms import Form

ALLOWED_TYPES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"PK\x03\x04": ("application/zip", ".docx/.xlsx"),  # Office Open XML files are zip archives
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
}
OFFICE_SUFFIXES = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                   ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12].upper()}"


def create_draft(runtime: Runtime, actor: Actor, unit_id: str, data: dict[str, Any]) -> str:
    with runtime.uow() as uow:
        session = uow.session
        # Who drafts, and with which form: the draft stage's task of the version a new nomination runs on.
        draft = runtime.stage_task(session, NOMINATION, DRAFT)
        if (draft.role, unit_id) not in actor.grants:
            raise Forbidden("Chỉ cán bộ thi đua của đơn vị được lập hồ sơ cho đơn vị mình (not your unit)")
        _check_partial(draft_form(runtime, draft), data)
        if session.get(Unit, unit_id) is None:
            raise NotFound(f"Không tìm thấy đơn vị {unit_id}")
        nomination_id = new_id("DN")
        now = runtime.clock.now()
        nomination = Nomination(id=nomination_id, unit_id=unit_id, status="draft", data=dict(data),
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
        keep_instances(runtime, [(row, instance)])
        return nomination_id


def save_draft(runtime: Runtime, actor: Actor, nomination_id: str, data: dict[str, Any]) -> None:
    """Keep an unfinished draft: each given field must be valid, missing ones may come later."""
    with runtime.uow() as uow:
        session = uow.session
        nomination, task = _draft_task(session, runtime, actor, nomination_id)
        _check_partial(task_form(runtime, task), data)
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
    with runtime.uow() as uow:
        _, task = _draft_task(uow.session, runtime, actor, nomination_id)
        task_uuid = task.id
    return complete_task(runtime, actor, task_uuid, data or {}, language=language)


def _draft_task(session: Any, runtime: Runtime, actor: Actor, nomination_id: str) -> tuple[Nomination, OpenTask]:
    nomination = session.get(Nomination, nomination_id)
    if nomination is None:
        raise NotFound(f"Không tìm thấy hồ sơ {nomination_id}")
    require_view(actor, nomination, runtime.roles)  # 404 when hidden, like everywhere else
    task = session.scalars(select(OpenTask).where(OpenTask.nomination_id == nomination_id,
                                                  OpenTask.stage == DRAFT)).first()
    if task is None:
        raise InvalidInput("Hồ sơ đã được gửi đi; chỉ sửa được khi đang lập hoặc bị trả lại (not a draft)")
    if (task.role, nomination.unit_id) not in actor.grants:
        raise Forbidden("Chỉ cán bộ thi đua của đơn vị được sửa hồ sơ (unit staff only)")
    return nomination, task


def draft_form(runtime: Runtime, draft: HumanTaskSpec) -> Form:
    if not draft.form:
        raise LookupError(f"the draft task {draft.task_id!r} has no form")
    return runtime.forms.get(draft.form, draft.ui_form)


def task_form(runtime: Runtime, task: OpenTask) -> Form:
    if not task.form:
        raise LookupError(f"the open task {task.task_id!r} has no form")
    return runtime.forms.get(task.form, task.ui_form)


def drafting_role(session: Any, runtime: Runtime, nomination: Nomination) -> str | None:
    """The role that edits this nomination's dossier: its draft task's lane in its own version."""
    definition = runtime.definition_for(session, nomination.instance_id)
    drafts = definition.tasks_of_stage(DRAFT) if definition is not None else []
    return drafts[0].role if drafts else None


def _check_partial(form: Any, data: Any) -> None:
    if not isinstance(data, dict):
        raise InvalidInput("Dữ liệu phải là một đối tượng JSON (expected an object)")
    errors = [e for e in form.validate(data) if not _is_missing_field(e, data)]
    if errors:
        raise InvalidInput("Dữ liệu hồ sơ không hợp lệ (invalid draft)", errors)


def _is_missing_field(error: Any, data: dict[str, Any]) -> bool:
    top = error.path.split(".")[0]
    return bool(top) and top not in data


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    content_type: str
    size: int


def add_attachment(runtime: Runtime, actor: Actor, nomination_id: str, filename: str, content: bytes) -> StoredFile:
    stored = _check_file(runtime, filename, content)
    with runtime.uow() as uow:
        session = uow.session
        nomination = visible_nomination(session, actor, nomination_id, runtime.roles)
        if (drafting_role(session, runtime, nomination), nomination.unit_id) not in actor.grants:
            raise Forbidden("Chỉ cán bộ thi đua của đơn vị được tải tệp lên (unit staff only)")
        path = attachment_path(runtime, stored.sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(content)
            tmp.replace(path)  # atomic: a file under its hash is always complete
        exists = session.scalars(select(Attachment).where(
            Attachment.nomination_id == nomination_id, Attachment.sha256 == stored.sha256,
            Attachment.filename == filename)).first()
        if exists is None:
            session.add(Attachment(nomination_id=nomination_id, sha256=stored.sha256, filename=filename,
                                   content_type=stored.content_type, size=stored.size,
                                   uploaded_by=actor.user_id, uploaded_at=runtime.clock.now()))
            audit(session, runtime, "attachment_added", actor_id=actor.user_id, nomination_id=nomination_id,
                  filename=filename, sha256=stored.sha256, size=stored.size)
        _commit(uow)
        return stored


def attachment_path(runtime: Runtime, sha256: str) -> Path:
    return runtime.config.attachments_path / sha256[:2] / sha256


def _check_file(runtime: Runtime, filename: str, content: bytes) -> StoredFile:
    limit = runtime.config.max_attachment_bytes
    if not filename.strip() or len(filename) > 255:
        raise InvalidInput("Tên tệp cần 1–255 ký tự (file name length)")
    if not content:
        raise InvalidInput("Tệp rỗng (empty file)")
    if len(content) > limit:
        raise InvalidInput(f"Tệp quá lớn: tối đa {limit // (1024 * 1024)} MB (file too large)")
    suffix = Path(filename).suffix.lower()
    for magic, (content_type, _) in ALLOWED_TYPES.items():
        if content.startswith(magic):
            if content_type == "application/zip":
                if suffix not in OFFICE_SUFFIXES:
                    break
                content_type = OFFICE_SUFFIXES[suffix]
            return StoredFile(hashlib.sha256(content).hexdigest(), content_type, len(content))
    raise InvalidInput("Chỉ nhận tệp PDF, DOCX, XLSX hoặc ảnh PNG/JPEG (file type not allowed)")
