"""The draft page of a nomination: its typed fields and dossier files are saved together, and a
submission saves first, so that nothing the officer typed is lost when the form is not complete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.core.errors import DomainError, InvalidInput
from service.core.runtime import Runtime
from service.db.lookups import movement_choices
from service.db.session import retry_once
from service.security.access import Actor
from service.usecases.audit import audit
from service.usecases.files import NewFile, check_file, store_files
from service.usecases.nominations import _draft_task, submit, task_form
from service.usecases.tasks import DRAFT_FIELDS, _commit, claim
from workflows.forms import FieldError, Form


@dataclass(frozen=True)
class Upload:
    slot: str  # a field of the form's "dossier" object: to_trinh, bien_ban_hoi_dong, bao_cao_thanh_tich
    filename: str
    content: bytes


def save_draft_form(runtime: Runtime, actor: Actor, nomination_id: str, data: dict[str, Any],
                    uploads: Sequence[Upload] = (), language: str = "vi") -> list[FieldError]:
    return _save(runtime, actor, nomination_id, data, uploads, language)[0]


@retry_once
def _save(runtime: Runtime, actor: Actor, nomination_id: str, data: dict[str, Any],
          uploads: Sequence[Upload], language: str) -> tuple[list[FieldError], dict[str, Any], Form]:
    """Save the draft page: the typed fields replace the stored ones (a cleared field is cleared) and
    each uploaded file's sha256 goes into its dossier field.

    A field with a wrong value keeps its stored value and comes back in the returned errors; the
    rest is saved anyway, so that a summary a few characters short never costs the officer the
    files just uploaded. Missing fields are fine in a draft.
    """
    with runtime.uow() as uow:
        session = uow.session
        nomination, task = _draft_task(session, runtime, actor, nomination_id)  # before reading any input
        # The draft task's own form, as its diagram version names it, with its movement's lists.
        form = task_form(runtime, task, movement_choices(session, nomination.movement_id, nomination.unit_id))
        checked = _check_uploads(runtime, form, uploads)
        dossier = {**(nomination.data.get("dossier") or {}), **(data.get("dossier") or {}),
                   **{u.slot: stored.sha256 for u, stored in checked}}
        new = {**data, "dossier": dossier} if dossier else dict(data)
        candidate = dict(new)
        errors = [e for e in form.validate(new, language) if _present(new, e.path)]
        for key in {e.path.split(".")[0] for e in errors}:
            if key in nomination.data:
                new[key] = nomination.data[key]
            else:
                new.pop(key, None)
        now = runtime.clock.now()
        store_files(session, runtime, actor.user_id, nomination_id,
                    [NewFile(stored, u.content, u.slot) for u, stored in checked], now)
        nomination.data = new
        for name in DRAFT_FIELDS:
            setattr(nomination, name, new.get(name))
        task.nominee_name, task.nominee_kind = nomination.nominee_name, nomination.nominee_kind
        nomination.updated_at = now
        audit(session, runtime, "draft_saved", actor_id=actor.user_id, nomination_id=nomination_id,
              fields=sorted(new))
        _commit(uow)
        return errors, candidate, form


def _check_uploads(runtime: Runtime, form: Any, uploads: Sequence[Upload]) -> list[tuple[Upload, Any]]:
    slots = form.schema.get("properties", {}).get("dossier", {}).get("properties", {})
    checked = []
    for upload in uploads:
        if upload.slot not in slots:
            raise InvalidInput(f"Thành phần hồ sơ không tồn tại: {upload.slot} (unknown dossier part)")
        try:
            checked.append((upload, check_file(runtime, upload.filename, upload.content)))
        except InvalidInput as exc:
            raise InvalidInput(exc.detail, [FieldError(f"dossier.{upload.slot}", exc.detail)]) from exc
    return checked


def _present(data: Any, path: str) -> bool:
    """Whether the field an error is about was filled in (a draft may leave fields out)."""
    for part in path.split(".") if path else []:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


def save_and_submit(runtime: Runtime, actor: Actor, nomination_id: str, data: dict[str, Any],
                    uploads: Sequence[Upload] = (), language: str = "vi") -> dict[str, Any]:
    """Two commits on purpose: the draft (and its files) is kept even when the submission is refused."""
    errors, candidate, form = _save(runtime, actor, nomination_id, data, uploads, language)
    if errors:  # report every problem at once, the missing fields too
        full = form.validate(candidate, language)
        raise InvalidInput("Dữ liệu hồ sơ chưa đủ để gửi", full)
    return submit(runtime, actor, nomination_id, {}, language=language)


def claim_many(runtime: Runtime, actor: Actor, task_uuids: list[str]) -> tuple[int, list[str]]:
    """A lead takes several queued tasks at once. Each claim is its own transaction: a task a
    colleague took a moment ago must not undo the others."""
    claimed, problems = 0, []
    for task_uuid in dict.fromkeys(task_uuids):
        try:
            claim(runtime, actor, task_uuid)
        except DomainError as exc:
            problems.append(exc.detail)
        else:
            claimed += 1
    return claimed, problems
