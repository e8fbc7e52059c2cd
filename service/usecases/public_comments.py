"""Comments (góp ý) from the public page: anyone may send one; the Department of Home Affairs reads
them in its inbox. Nothing sent here is ever published by the system. Rate-limited per sender's
address, which is kept only as a sha256."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, select

from service.core.errors import DomainError, InvalidInput, NotFound
from service.core.runtime import Runtime
from service.db.models import Nomination, PublicComment
from service.reads.public_comments import can_read
from service.security.access import Actor
from service.usecases.audit import audit
from workflows.forms import FieldError

PUBLIC_STATUSES = ("awaiting_decision", "awarded")  # the nominations the public page lists
PER_HOUR, PER_DAY = 3, 10
LIMITS = {"name": (2, 200), "contact": (5, 200), "text": (10, 2000)}


class TooManyComments(DomainError):
    status = 429
    title = "Quá nhiều lần gửi"


def client_key(address: str) -> str:
    return hashlib.sha256(address.encode("utf-8", "replace")).hexdigest()


def public_key(nomination_id: str) -> str:
    """How the public page names a nomination in its form: the internal id is not published."""
    return hashlib.sha256(f"public:{nomination_id}".encode()).hexdigest()[:16]


def send_comment(runtime: Runtime, address: str, name: str, contact: str, text: str,
                 nomination_key: str | None = None) -> int:
    """`nomination_key`: public_key() of the listed nomination commented on, if any."""
    nomination_id: str | None = None
    values = {"name": " ".join(name.split()), "contact": " ".join(contact.split()), "text": text.strip()}
    errors = [FieldError(field, f"Cần từ {low} đến {high} ký tự")
              for field, (low, high) in LIMITS.items() if not low <= len(values[field]) <= high]
    if errors:
        raise InvalidInput("Góp ý chưa đủ thông tin", errors)
    client, now = client_key(address), runtime.clock.now()
    with runtime.uow() as uow:
        session = uow.session
        if nomination_key:
            listed = session.scalars(select(Nomination.id).where(Nomination.status.in_(PUBLIC_STATUSES)))
            nomination_id = next((n for n in listed if public_key(n) == nomination_key), None)
            if nomination_id is None:
                raise InvalidInput("Hồ sơ được góp ý không có trong danh sách công khai",
                                   [FieldError("nomination_id", "Không có trong danh sách công khai")])
        for window, limit in ((timedelta(hours=1), PER_HOUR), (timedelta(days=1), PER_DAY)):
            recent = session.scalar(select(func.count()).select_from(PublicComment).where(
                PublicComment.client == client, PublicComment.created_at > now - window)) or 0
            if recent >= limit:
                raise TooManyComments("Bạn đã gửi nhiều góp ý trong thời gian ngắn; xin gửi lại sau")
        comment = PublicComment(nomination_id=nomination_id or None, client=client, created_at=now, **values)
        session.add(comment)
        session.flush()
        audit(session, runtime, "public_comment_received", nomination_id=nomination_id or None, comment_id=comment.id)
        uow.commit()
        return comment.id


def mark_read(runtime: Runtime, actor: Actor, comment_id: int) -> None:
    if not can_read(actor):
        raise NotFound("Không tìm thấy góp ý")
    with runtime.uow() as uow:
        comment = uow.session.get(PublicComment, comment_id)
        if comment is None:
            raise NotFound("Không tìm thấy góp ý")
        if comment.read_at is None:
            comment.read_at, comment.read_by = runtime.clock.now(), actor.user_id
            audit(uow.session, runtime, "public_comment_read", actor_id=actor.user_id,
                  nomination_id=comment.nomination_id, comment_id=comment.id)
        uow.commit()
