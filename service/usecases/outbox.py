"""Turning engine notifications into mails in the outbox (same transaction as the step)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.actions import Notification

from ..config import ROOT
from ..db.models import Nomination, OutboxMail, RoleAssignment, Unit, User
from ..runtime import Runtime

TEMPLATES = ROOT / "service" / "templates" / "mail"
_env: Environment | None = None


def templates() -> Environment:
    global _env
    if _env is None:
        _env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                           autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    return _env


def recipients(session: Session, runtime: Runtime, note: Notification) -> list[User]:
    if note.action == "publish_award":
        return []  # publication goes to the public page, not to a mailbox
    if note.action == "notify_unit":
        roles = ["unit_staff", "unit_head"]
        query = select(User).join(RoleAssignment).where(RoleAssignment.role.in_(roles),
                                                         RoleAssignment.unit_id == note.unit_id)
    else:
        role = runtime.roles.roles.get(note.to_role or "")
        if role is None:
            return []
        query = select(User).join(RoleAssignment).where(RoleAssignment.role == role.key)
        if role.scope == "unit":
            query = query.where(RoleAssignment.unit_id == note.unit_id)
    return list(session.scalars(query.where(User.active).distinct().order_by(User.id)))


def enqueue_notification(session: Session, runtime: Runtime, note: Notification,
                         nomination: Nomination | None) -> list[OutboxMail]:
    mails = []
    unit = session.get(Unit, note.unit_id) if note.unit_id else None
    for user in recipients(session, runtime, note):
        mails.append(enqueue(session, runtime, user.email, note.action, {
            "user": user, "note": note, "nomination": nomination, "unit": unit,
            "role_title": runtime.roles.roles[note.to_role].title(user.language)
            if note.to_role in runtime.roles.roles else "",
            "task_url": f"{runtime.config.base_url}/nominations/{nomination.id}" if nomination else
            runtime.config.base_url,
        }, language=user.language, user_id=user.id))
    return mails


def enqueue(session: Session, runtime: Runtime, to_addr: str, template: str, context: dict[str, Any],
            language: str = "vi", user_id: int | None = None) -> OutboxMail:
    env = templates()
    lang = "en" if language == "en" else "vi"
    ctx = {**context, "lang": lang, "format_date": _format_date}
    subject = env.get_template(f"{template}.{lang}.subject.txt").render(ctx).strip()
    text = env.get_template(f"{template}.{lang}.txt").render(ctx)
    html = env.get_template("layout.html").render({**ctx, "body": text, "subject": subject})
    now = runtime.clock.now()
    mail = OutboxMail(message_id=f"<{uuid.uuid4()}@nomflow>", to_addr=to_addr, to_user_id=user_id,
                      subject=subject, body_text=text, body_html=html, status="pending", attempts=0,
                      next_attempt_at=now, created_at=now)
    session.add(mail)
    return mail


def _format_date(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%H:%M %d/%m/%Y")
    return value.strftime("%d/%m/%Y")
