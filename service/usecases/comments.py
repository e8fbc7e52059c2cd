"""Comments on a nomination: anyone who may see it may add one; it goes into the audit trail."""

from __future__ import annotations

from service.core.errors import InvalidInput
from service.core.runtime import Runtime
from service.security.access import Actor, visible_nomination
from service.usecases.audit import audit
from service.usecases.tasks import _commit
from workflows.forms import FieldError

MAX_COMMENT = 2000


def add_comment(runtime: Runtime, actor: Actor, nomination_id: str, text: str) -> None:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput("Ý kiến không được để trống", [FieldError("text", "Trường này là bắt buộc")])
    if len(text) > MAX_COMMENT:
        raise InvalidInput("Ý kiến quá dài",
                           [FieldError("text", f"Tối đa {MAX_COMMENT} ký tự")])
    with runtime.uow() as uow:
        session = uow.session
        nomination = visible_nomination(session, actor, nomination_id, runtime.roles)
        # An audit event, not a table of its own: comments belong to the same append-only trail as
        # every decision, in the order they were made.
        audit(session, runtime, "comment", actor_id=actor.user_id, nomination_id=nomination_id,
              instance_id=nomination.instance_id, text=text)
        _commit(uow)
