"""Signing in: log-in throttled per (username, client), server-side browser sessions, API tokens."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Update, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from service.core.errors import DomainError, Forbidden, InvalidInput, NotFound, TooManyAttempts
from service.core.runtime import Runtime
from service.db.models import ApiToken, LoginThrottle, User, UserSession
from service.security.access import Actor, signed_in_actor
from service.security.passwords import hash_password, hash_token, new_api_token, verify_password
from service.usecases.audit import audit
from workflows.forms import FieldError

log = logging.getLogger(__name__)
TOUCH_INTERVAL = timedelta(minutes=1)  # last use of a token or session is kept to the minute
FREE_ATTEMPTS = 3  # failures from one client for one username before waits begin
MAX_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)  # throttle rows untouched this long are deleted
USERNAME_KEY = 80  # the throttle keys on the username as typed, cut to the column's size


class BadCredentials(Exception):
    pass


class AccountLocked(Forbidden):
    title = "Tài khoản bị khóa"


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def throttle_wait(failures: int) -> timedelta:
    """How long a client waits after this many failures for one username: 0, 0, 0, 2 s, 4 s, ... 15 min."""
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_ATTEMPTS + 1)), MAX_WAIT)


def authenticate(runtime: Runtime, username: str, password: str, client: str = "unknown") -> int:
    return sign_in(runtime, username, password, client)[0]


def sign_in(runtime: Runtime, username: str, password: str, client: str = "unknown") -> tuple[int, str]:
    """(user id, new session secret for the cookie), or BadCredentials / TooManyAttempts / AccountLocked.

    Failures are counted per (username as typed, client address), never per account: a guesser waits
    longer and longer from their own address while the owner signs in from theirs. An unknown or
    deactivated username goes through the same steps (a throttle row, an argon2 verify, an audit row, one
    commit), so neither the answer nor its timing tells whether the account exists."""
    now = runtime.clock.now()
    key, client = username[:USERNAME_KEY], client[:64]
    # Read, then verify outside any transaction: argon2 takes tens of milliseconds, and on SQLite a write
    # transaction would hold every other writer that long.
    with runtime.read() as uow:
        throttle = uow.session.get(LoginThrottle, (key, client))
        user = uow.session.scalars(select(User).where(User.username == username, User.active)).first()
    if throttle is not None and now - throttle.last_failed_at < throttle_wait(throttle.failures):
        left = throttle_wait(throttle.failures) - (now - throttle.last_failed_at)
        raise TooManyAttempts(f"Vui lòng chờ {max(int(left.total_seconds()), 1)} giây rồi thử lại")
    # An unknown name costs the same verify as a real one: timing tells nothing.
    ok = verify_password(user.password_hash if user else _dummy_hash(), password) and user is not None
    with runtime.uow() as uow:
        session = uow.session
        if not ok or user is None:
            _count_failure(session, runtime, key, client, user.id if user else None)
            uow.commit()
            raise BadCredentials()
        if user.locked_until is not None and user.locked_until > now:
            audit(session, runtime, "login_refused_locked", actor_id=user.id, client=client)
            uow.commit()
            raise AccountLocked("Tài khoản đang bị quản trị khóa; liên hệ quản trị hệ thống")
        session.execute(delete(LoginThrottle).where(LoginThrottle.username == key, LoginThrottle.client == client))
        secret = secrets.token_urlsafe(32)
        session.add(UserSession(id=session_key(secret), user_id=user.id, created_at=now, last_seen_at=now))
        audit(session, runtime, "login", actor_id=user.id, client=client)
        uow.commit()
        return user.id, secret


def _count_failure(session: Session, runtime: Runtime, key: str, client: str, user_id: int | None) -> None:
    """One more failure for (username, client), counted in one statement: parallel failures from one
    client neither collide on the first row nor lose a count."""
    now = runtime.clock.now()
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failed_at < now - FORGET_AFTER))
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    failures = session.scalar(
        insert(LoginThrottle).values(username=key, client=client, failures=1, last_failed_at=now)
        .on_conflict_do_update(index_elements=[LoginThrottle.username, LoginThrottle.client],
                               set_={"failures": LoginThrottle.failures + 1, "last_failed_at": now})
        .returning(LoginThrottle.failures))
    audit(session, runtime, "login_failed", actor_id=user_id, username=key, client=client, failures=failures)
    wait = throttle_wait(int(failures or 0))
    if wait:
        audit(session, runtime, "login_throttled", actor_id=user_id, username=key, client=client,
              wait_seconds=int(wait.total_seconds()))


def session_key(secret: str) -> str:
    """The stored id of a browser session: a stolen database copy holds no usable cookie."""
    return hashlib.sha256(secret.encode()).hexdigest()


def actor_for_session(runtime: Runtime, secret: str) -> tuple[Actor, str] | None:
    """The actor of a live browser session (not ended, not idle too long, not too old), or None."""
    config = runtime.config
    now = runtime.clock.now()
    found = _signed_in(runtime, session_hash=session_key(secret), now=now,
                       idle=timedelta(minutes=config.session_idle_minutes),
                       lifetime=timedelta(days=config.session_max_days))
    if found is None:
        return None
    actor, language, session_id, last_seen_at = found
    _touch(runtime, f"session {session_id[:8]}",
           update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now), last_seen_at)
    return actor, language


def end_session(runtime: Runtime, secret: str) -> None:
    """Log-out: the session's row ends, so a copy of the cookie is worth nothing from now on."""
    now = runtime.clock.now()
    with runtime.uow() as uow:
        row = uow.session.get(UserSession, session_key(secret))
        if row is not None and row.ended_at is None:
            row.ended_at, row.ended_why = now, "logout"
            audit(uow.session, runtime, "logout", actor_id=row.user_id)
            uow.commit()


def actor_for_user(runtime: Runtime, user_id: int) -> tuple[Actor, str] | None:
    found = _signed_in(runtime, user_id=user_id)
    return (found[0], found[1]) if found else None


def actor_for_token(runtime: Runtime, token: str) -> tuple[Actor, str] | None:
    now = runtime.clock.now()
    found = _signed_in(runtime, token_hash=hash_token(token), now=now)
    if found is None:
        return None
    actor, language, token_id, last_used_at = found
    _touch(runtime, f"token {token_id}",
           update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now), last_used_at)
    return actor, language


def _touch(runtime: Runtime, key: str, statement: Update, last: datetime | None) -> None:
    """Records the last use of a session or token. A write per request would cost a commit (an fsync on
    SQLite): the minute is precise enough for idle time and for the owner's "last used".

    Best effort: a read signed in must answer even when nothing can be written (a full disk, a
    read-only database), and a failed attempt is not retried by this process for a minute either,
    so a database that refuses writes is not asked again on every request."""
    now = runtime.clock.now()
    if last is not None and now - last <= TOUCH_INTERVAL:
        return
    tried = runtime.touches.get(key)
    if tried is not None and now - tried < TOUCH_INTERVAL:
        return
    runtime.touches[key] = now
    try:
        with runtime.uow() as uow:
            uow.session.execute(statement)
            uow.commit()
    except (SQLAlchemyError, DomainError) as exc:  # DomainError: the unit of work's 507 for a full disk
        log.warning("%s: last use not recorded (%s: %s)", key, type(exc).__name__,
                    str(exc).splitlines()[0] if str(exc) else "")


def _signed_in(runtime: Runtime, **who: Any) -> tuple[Actor, str, Any, datetime | None] | None:
    # Every request asks this: outside any transaction, so it neither queues behind writers on SQLite
    # nor pays BEGIN and ROLLBACK round trips on PostgreSQL (a role revoked between its two statements
    # is seen by the next request). Its pool does not ping each connection before use either: a
    # connection the server dropped (a restart) fails, the pool is invalidated, and one retry on a
    # fresh connection follows.
    for attempt in (1, 2):
        try:
            with runtime.lookup() as uow:
                return signed_in_actor(uow.session, today(runtime), roles=runtime.roles, **who)
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def create_token(runtime: Runtime, actor: Actor, name: str) -> str:
    return str(issue_token(runtime, actor, name)["token"])


def issue_token(runtime: Runtime, actor: Actor, name: str, expires_in_days: int | None = None) -> dict[str, Any]:
    """A new API token of the caller, valid `expires_in_days` (default from the config, at most the
    configured maximum): the clear text is returned here once, only its hash is kept."""
    if not name.strip() or len(name) > 100:
        raise InvalidInput("Tên token cần 1–100 ký tự", [FieldError("name", "Cần 1–100 ký tự")])
    days = runtime.config.token_default_days if expires_in_days is None else expires_in_days
    if not 1 <= days <= runtime.config.token_max_days:
        limit = runtime.config.token_max_days
        raise InvalidInput(f"Thời hạn token cần từ 1 đến {limit} ngày",
                           [FieldError("expires_in_days", f"Từ 1 đến {limit} ngày")])
    token = new_api_token()
    now = runtime.clock.now()
    with runtime.uow() as uow:
        row = ApiToken(user_id=actor.user_id, name=name.strip(), token_hash=hash_token(token),
                       created_at=now, expires_at=now + timedelta(days=days), revoked=False)
        uow.session.add(row)
        uow.session.flush()
        audit(uow.session, runtime, "token_created", actor_id=actor.user_id, name=name, token_id=row.id,
              expires_at=row.expires_at.isoformat())
        uow.commit()
        return {"id": row.id, "name": row.name, "created_at": row.created_at, "expires_at": row.expires_at,
                "last_used_at": None, "revoked": False, "token": token}


def revoke_token(runtime: Runtime, actor: Actor, token_id: int) -> None:
    with runtime.uow() as uow:
        row = uow.session.get(ApiToken, token_id)
        if row is None or (row.user_id != actor.user_id and not actor.is_admin):
            raise NotFound(f"Không tìm thấy token {token_id}")
        row.revoked = True
        audit(uow.session, runtime, "token_revoked", actor_id=actor.user_id, token_id=token_id,
              owner_id=row.user_id)
        uow.commit()


def today(runtime: Runtime) -> date:
    return runtime.clock.now().astimezone(ZoneInfo(runtime.calendar.timezone)).date()
