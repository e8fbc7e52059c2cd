"""The comments sent from the public page, for the Department of Home Affairs (unread first)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.core.errors import Forbidden
from service.core.runtime import Runtime
from service.db.models import Nomination, PublicComment, User
from service.security.access import Actor


def can_read(actor: Actor) -> bool:
    return actor.may("read_comments")


def unread_count(runtime: Runtime, actor: Actor) -> int:
    if not can_read(actor):
        return 0
    with runtime.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(PublicComment).where(
            PublicComment.read_at.is_(None))) or 0)


def comments(runtime: Runtime, actor: Actor, limit: int = 200) -> list[dict[str, Any]]:
    if not can_read(actor):
        raise Forbidden("Chỉ Sở Nội vụ đọc được góp ý của công chúng")
    with runtime.read() as uow:
        session = uow.session
        rows = list(session.scalars(select(PublicComment).order_by(
            PublicComment.read_at.is_not(None), PublicComment.created_at.desc()).limit(limit)))
        nominees = dict(session.execute(select(Nomination.id, Nomination.nominee_name).where(
            Nomination.id.in_({r.nomination_id for r in rows if r.nomination_id}))).all())
        readers = dict(session.execute(select(User.id, User.full_name).where(
            User.id.in_({r.read_by for r in rows if r.read_by}))).all())
        return [{"id": r.id, "name": r.name, "contact": r.contact, "text": r.text, "created_at": r.created_at,
                 "nomination_id": r.nomination_id, "nominee_name": nominees.get(r.nomination_id or ""),
                 "read_at": r.read_at, "read_by": readers.get(r.read_by or -1)} for r in rows]
