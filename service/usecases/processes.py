"""Diagrams edited by admins: validate, keep as a draft, deploy as a new immutable version, compare.

A diagram is untrusted input: it goes through the engine's loader (safe XML, the BPMN schema, our
checks, SpiffWorkflow's parser) before anything is stored, and again when it is deployed, since the
forms or roles it names may have changed in between.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.core.errors import Conflict, InvalidInput, NotFound
from service.core.runtime import Runtime
from service.db.models import InstanceRow, ProcessDraft, ProcessVersion, User
from service.security.access import Actor, require_admin
from service.usecases.audit import audit
from workflows.diagram_checks import DiagramError, DiagramProblem
from workflows.diagram_diff import diff_process
from workflows.diagrams import ProcessDefinition


class DiagramRejected(InvalidInput):
    """The diagram failed validation; `problems` says where (element id, name, line) and why."""

    title = "Sơ đồ không hợp lệ"

    def __init__(self, detail: str, problems: list[DiagramProblem]):
        super().__init__(detail)
        self.problems = problems


def check_diagram(runtime: Runtime, data: bytes, filename: str) -> dict[str, ProcessDefinition]:
    try:
        return runtime.loader.load(data, filename)
    except DiagramError as exc:
        count = len(exc.problems)
        raise DiagramRejected(f"Sơ đồ có {count} lỗi; chưa lưu gì (the diagram has {count} problem(s); "
                              f"nothing was stored)", exc.problems) from exc


def validate(runtime: Runtime, actor: Actor, data: bytes, filename: str) -> list[dict[str, Any]]:
    """Everything the loader checks, nothing stored."""
    require_admin(actor)
    return [_summary(d) for d in check_diagram(runtime, data, safe_filename(filename, "diagram")).values()]


def overview(runtime: Runtime, actor: Actor) -> list[dict[str, Any]]:
    """Each process with its versions (who, when, note, checksum, running instances) and open drafts."""
    require_admin(actor)
    with runtime.uow() as uow:
        session = uow.session
        counts = dict(session.execute(
            select(InstanceRow.process_version_id, func.count()).where(InstanceRow.status == "running")
            .group_by(InstanceRow.process_version_id)).all())
        names = _names(session)
        processes: dict[str, dict[str, Any]] = {}
        for v in session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_id, ProcessVersion.version)):
            entry = processes.setdefault(v.process_id, {"process_id": v.process_id, "name": v.name,
                                                        "active_version": None, "versions": [], "drafts": []})
            if v.active:
                entry["active_version"], entry["name"] = v.version, v.name
            entry["versions"].append(version_view(v, names, counts.get(v.id, 0)))
        for d in session.scalars(select(ProcessDraft).where(ProcessDraft.status == "open").order_by(ProcessDraft.id)):
            entry = processes.setdefault(d.process_id, {"process_id": d.process_id, "name": d.name,
                                                        "active_version": None, "versions": [], "drafts": []})
            entry["drafts"].append(draft_view(d, names))
        return list(processes.values())


def create_draft(runtime: Runtime, actor: Actor, process_id: str, data: bytes, filename: str, note: str,
                 base_version: int | None) -> dict[str, Any]:
    """Store a valid diagram as a draft of `process_id`, started from `base_version` (the version the
    editor opened; none for a new process). A draft based on anything but the newest version is stale."""
    require_admin(actor)
    filename = safe_filename(filename, process_id)
    definition = _definition_of(check_diagram(runtime, data, filename), process_id)
    with runtime.uow() as uow:
        session = uow.session
        _check_base(session, process_id, base_version)
        now = runtime.clock.now()
        # definition.bpmn: the diagram as UTF-8 whatever encoding was uploaded (it is served as UTF-8).
        draft = ProcessDraft(process_id=process_id, name=definition.name, filename=filename, bpmn=definition.bpmn,
                             checksum=definition.checksum, note=note, base_version=base_version, status="open",
                             created_by=actor.user_id, created_at=now, updated_by=actor.user_id, updated_at=now)
        session.add(draft)
        session.flush()
        audit(session, runtime, "process_draft_saved", actor_id=actor.user_id, process_id=process_id,
              draft_id=draft.id, revision=draft.revision, base_version=base_version, checksum=draft.checksum,
              note=note)
        commit_or_conflict(uow)
        return draft_view(draft, {actor.user_id: actor.username})


def update_draft(runtime: Runtime, actor: Actor, process_id: str, draft_id: int, data: bytes, filename: str,
                 note: str | None, revision: int | None) -> dict[str, Any]:
    """Replace a draft's diagram; `revision` is the one the editor loaded (409 when someone saved since)."""
    require_admin(actor)
    if revision is None:
        raise InvalidInput("Thiếu số hiệu bản nháp (If-Match hoặc revision) đã mở")
    definition = _definition_of(check_diagram(runtime, data, safe_filename(filename, process_id)), process_id)
    with runtime.uow() as uow:
        session = uow.session
        draft = _open_draft(session, process_id, draft_id)
        _check_revision(draft, revision)
        draft.bpmn, draft.checksum, draft.name = definition.bpmn, definition.checksum, definition.name
        draft.filename = safe_filename(filename, draft.filename)
        if note is not None:
            draft.note = note
        draft.updated_by, draft.updated_at = actor.user_id, runtime.clock.now()
        session.flush()
        audit(session, runtime, "process_draft_saved", actor_id=actor.user_id, process_id=process_id,
              draft_id=draft.id, revision=draft.revision, base_version=draft.base_version,
              checksum=draft.checksum, note=draft.note)
        commit_or_conflict(uow)
        return draft_view(draft, _names(session))


def discard_draft(runtime: Runtime, actor: Actor, process_id: str, draft_id: int, revision: int | None) -> None:
    require_admin(actor)
    with runtime.uow() as uow:
        draft = _open_draft(uow.session, process_id, draft_id)
        if revision is not None:
            _check_revision(draft, revision)
        draft.status, draft.updated_by, draft.updated_at = "discarded", actor.user_id, runtime.clock.now()
        audit(uow.session, runtime, "process_draft_discarded", actor_id=actor.user_id, process_id=process_id,
              draft_id=draft_id)
        commit_or_conflict(uow)


def deploy_draft(runtime: Runtime, actor: Actor, process_id: str, draft_id: int, note: str | None,
                 revision: int | None) -> dict[str, Any]:
    """Make a draft the new active version (newest + 1). Running instances keep their own version."""
    require_admin(actor)
    with runtime.uow() as uow:
        session = uow.session
        draft = _open_draft(session, process_id, draft_id)
        if revision is not None:
            _check_revision(draft, revision)
        latest = _check_base(session, process_id, draft.base_version)
        definition = _definition_of(check_diagram(runtime, draft.bpmn, draft.filename), process_id)
        active = session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                              ProcessVersion.active)).all()
        if any(v.checksum == definition.checksum for v in active):
            raise InvalidInput("Bản nháp giống hệt phiên bản đang dùng; không có gì để triển khai")
        for previous in active:
            previous.active = False
        now = runtime.clock.now()
        version = ProcessVersion(process_id=process_id, version=latest + 1, name=definition.name,
                                 filename=draft.filename, bpmn=draft.bpmn, checksum=definition.checksum,
                                 note=draft.note if note is None else note, active=True,
                                 created_by=actor.user_id, created_at=now)
        session.add(version)
        session.flush()
        draft.status, draft.deployed_version_id = "deployed", version.id
        draft.updated_by, draft.updated_at = actor.user_id, now
        audit(session, runtime, "process_deployed", actor_id=actor.user_id, process_id=process_id,
              version=version.version, checksum=version.checksum, note=version.note, draft_id=draft.id,
              previous_version=latest or None)
        commit_or_conflict(uow)
        return version_view(version, {actor.user_id: actor.username}, 0)


def draft_detail(runtime: Runtime, actor: Actor, process_id: str, draft_id: int) -> tuple[dict[str, Any], bytes]:
    require_admin(actor)
    with runtime.uow() as uow:
        draft = _draft(uow.session, process_id, draft_id)
        return draft_view(draft, _names(uow.session)), draft.bpmn


def version_detail(runtime: Runtime, actor: Actor, process_id: str, number: int) -> tuple[dict[str, Any], bytes]:
    require_admin(actor)
    with runtime.uow() as uow:
        version = find_version(uow.session, process_id, number)
        return version_view(version, _names(uow.session), None), version.bpmn


def diff_versions(runtime: Runtime, actor: Actor, process_id: str, old: str, new: str) -> dict[str, Any]:
    """Elements added, removed and changed between two versions (a number, or `draft-<id>`)."""
    require_admin(actor)
    with runtime.uow() as uow:
        old_bpmn, new_bpmn = _bpmn_of(uow.session, process_id, old), _bpmn_of(uow.session, process_id, new)
    try:
        diff = diff_process(old_bpmn, new_bpmn, process_id, runtime.engine_settings.max_bpmn_bytes)
    except (ValueError, LookupError) as exc:
        raise InvalidInput(f"Không so sánh được hai phiên bản: {exc}") from exc
    return {"process_id": process_id, "from": old, "to": new, "added": [asdict(e) for e in diff.added],
            "removed": [asdict(e) for e in diff.removed], "changed": [asdict(e) for e in diff.changed]}


def find_version(session: Session, process_id: str, number: int) -> ProcessVersion:
    version = session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                           ProcessVersion.version == number)).first()
    if version is None:
        raise NotFound(f"Không tìm thấy {process_id} phiên bản {number}")
    return version


def version_view(v: ProcessVersion, names: dict[int, str], running: int | None) -> dict[str, Any]:
    return {"id": v.id, "process_id": v.process_id, "version": v.version, "name": v.name, "filename": v.filename,
            "checksum": v.checksum, "note": v.note, "active": v.active, "created_at": v.created_at,
            "created_by": names.get(v.created_by) if v.created_by else None, "running_instances": running}


def draft_view(d: ProcessDraft, names: dict[int, str]) -> dict[str, Any]:
    return {"id": d.id, "process_id": d.process_id, "name": d.name, "filename": d.filename,
            "checksum": d.checksum, "note": d.note, "base_version": d.base_version, "status": d.status,
            "revision": d.revision, "created_at": d.created_at, "updated_at": d.updated_at,
            "created_by": names.get(d.created_by) if d.created_by else None,
            "updated_by": names.get(d.updated_by) if d.updated_by else None}


def safe_filename(filename: str | None, fallback: str) -> str:
    """A plain `name.bpmn`: no folders, no odd characters (it ends up in a download header)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip("._")
    base = base[:190] or re.sub(r"[^A-Za-z0-9._-]+", "_", fallback)[:190] or "diagram"
    return base if base.lower().endswith(".bpmn") else f"{base}.bpmn"


def _summary(definition: ProcessDefinition) -> dict[str, Any]:
    return {"process_id": definition.process_id, "name": definition.name, "checksum": definition.checksum,
            "human_tasks": [{"task_id": t.task_id, "name": t.name, "role": t.role, "form": t.form, "stage": t.stage}
                            for t in definition.human_tasks.values()],
            "stages": dict(definition.stages)}


def _definition_of(definitions: dict[str, ProcessDefinition], process_id: str) -> ProcessDefinition:
    if process_id not in definitions:
        found = ", ".join(sorted(definitions)) or "-"
        problem = DiagramProblem("", "", "", None, f"tệp không có quy trình '{process_id}' (có: {found}) "
                                                   f"(the file does not define process {process_id!r})")
        raise DiagramRejected(f"Tệp không chứa quy trình {process_id}", [problem])
    return definitions[process_id]


def _check_base(session: Session, process_id: str, base_version: int | None) -> int:
    """The newest deployed version number (0 when none); 409 unless the edit started from it."""
    latest = session.scalar(select(func.max(ProcessVersion.version)).where(
        ProcessVersion.process_id == process_id)) or 0
    if (base_version or 0) != latest:
        raise Conflict(f"Sơ đồ {process_id} đã có phiên bản {latest} kể từ khi bạn mở phiên bản "
                       f"{base_version or 0}; hãy mở lại bản mới nhất (stale: newest version is {latest})")
    return int(latest)


def _check_revision(draft: ProcessDraft, revision: int) -> None:
    if revision != draft.revision:
        raise Conflict(f"Bản nháp đã được người khác lưu (lần {draft.revision}, bạn mở lần {revision}); hãy tải lại")


def _draft(session: Session, process_id: str, draft_id: int) -> ProcessDraft:
    draft = session.get(ProcessDraft, draft_id)
    if draft is None or draft.process_id != process_id:
        raise NotFound(f"Không tìm thấy bản nháp {draft_id} của {process_id}")
    return draft


def _open_draft(session: Session, process_id: str, draft_id: int) -> ProcessDraft:
    draft = _draft(session, process_id, draft_id)
    if draft.status != "open":
        raise Conflict(f"Bản nháp {draft_id} đã {'triển khai' if draft.status == 'deployed' else 'huỷ'} "
                       f"(draft is {draft.status})")
    return draft


def _bpmn_of(session: Session, process_id: str, ref: str) -> bytes:
    if ref.startswith("draft-") and ref[6:].isdigit():
        return _draft(session, process_id, int(ref[6:])).bpmn
    if not ref.isdigit():
        raise InvalidInput(f"Phiên bản không hợp lệ: {ref!r} (a version number or draft-<id>)")
    return find_version(session, process_id, int(ref)).bpmn


def _names(session: Session) -> dict[int, str]:
    return {user_id: username for user_id, username in session.execute(select(User.id, User.username))}


def commit_or_conflict(uow: Any) -> None:
    try:
        uow.commit()
    except (StaleDataError, IntegrityError) as exc:
        raise Conflict("Người khác vừa thay đổi cùng sơ đồ; hãy tải lại") from exc
