"""Ending what lets a user in: browser sessions, API tokens, substitutions. Called inside the use case
that decides it (log-out elsewhere, a role or password change, a lock, a deactivation), in its
transaction, so that the change and the end of the old access commit together."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from service.db.models import ApiToken, Substitute, UserSession


def end_sessions(session: Session, user_id: int, now: datetime, why: str) -> int:
    """Every live browser session of the user; they must sign in again."""
    result = session.execute(update(UserSession).where(UserSession.user_id == user_id,
                                                       UserSession.ended_at.is_(None))
                             .values(ended_at=now, ended_why=why))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def end_tokens(session: Session, user_id: int) -> int:
    """Every API token of the user that still works."""
    result = session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
                             .values(revoked=True))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def end_substitutions(session: Session, user_id: int, now: datetime, by: int | None) -> int:
    """Every substitution the user is in, as the absent person or as the stand-in."""
    result = session.execute(update(Substitute).where(
        or_(Substitute.absent_id == user_id, Substitute.substitute_id == user_id), Substitute.ended_at.is_(None))
        .values(ended_at=now, ended_by=by))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
