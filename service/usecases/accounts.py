"""Log-in with slow-down and lock-out, API tokens, substitutes."""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from service.core.errors import DomainError, Forbidden, InvalidInput, NotFound, TooManyAttempts
from service.core.runtime import Runtime
from service.db.models import ApiToken, Substitute, User
from service.security.access import Actor, signed_in_actor
from service.security.passwords import hash_password, hash_token, new_api_token, verify_password
from service.usecases.audit import audit
from workflows.forms import FieldError

log = logging.getLogger(__name__)
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
FREE_ATTEMPTS = 2  # after these, each further attempt must wait 2**(failures-FREE_ATTEMPTS) seconds


class BadCredentials(Exception):
    pass


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def authenticate(runtime: Runtime, username: str, password: str) -> int:
    """The user's id, or BadCredentials / TooManyAttempts. Failures are counted even for wrong passwords
    of locked accounts, and the message never says whether the username exists."""
    now = runtime.clock.now()
    with runtime.uow() as uow:
        session = uow.session
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None or not user.active:
            verify_password(_dummy_hash(), password)  # same cost as a real check: timing tells nothing
            raise BadCredentials()
        if user.locked_until and user.locked_until > now:
            until = user.locked_until.astimezone(ZoneInfo(runtime.calendar.timezone)).strftime("%H:%M %d/%m/%Y")
            raise TooManyAttempts(f"Tài khoản tạm khóa đến {until} do nhập sai nhiều lần")
        if user.failed_logins > FREE_ATTEMPTS and user.last_failed_at:
            wait = timedelta(seconds=2 ** (user.failed_logins - FREE_ATTEMPTS))
            if now - user.last_failed_at < wait:
                raise TooManyAttempts(f"Vui lòng chờ {int(wait.total_seconds())} giây rồi thử lại")
        if not verify_password(user.password_hash, password):
            user.failed_logins += 1
            user.last_failed_at = now
            if user.failed_logins >= LOCK_AFTER:
                user.locked_until = now + LOCK_FOR
                user.failed_logins = 0
            audit(session, runtime, "login_failed", actor_id=user.id, username=username)
            uow.commit()
            raise BadCredentials()
        user.failed_logins, user.locked_until = 0, None
        audit(session, runtime, "login", actor_id=user.id)
        uow.commit()
        return user.id


def actor_for_user(runtime: Runtime, user_id: int) -> tuple[Actor, str] | None:
    found = _signed_in(runtime, user_id=user_id)
    return (found[0], found[1]) if found else None


def actor_for_token(runtime: Runtime, token: str) -> tuple[Actor, str] | None:
    found = _signed_in(runtime, token_hash=hash_token(token))
    if found is None:
        return None
    actor, language, token_id, last_used_at = found
    now = runtime.clock.now()
    # A write per API call would cost a commit (an fsync on SQLite); minute precision is enough.
    if token_id is not None and (last_used_at is None or now - last_used_at > TOKEN_TOUCH_INTERVAL):
        _record_use(runtime, token_id, now)
    return actor, language


def _record_use(runtime: Runtime, token_id: int, now: datetime) -> None:
    """Best effort: a read signed in with a token must answer even when nothing can be written (a full
    disk, a read-only database). A failed attempt is not retried by this process for a minute either,
    so a database that refuses writes is not asked again on every request."""
    tried = runtime.token_touches.get(token_id)
    if tried is not None and now - tried < TOKEN_TOUCH_INTERVAL:
        return
    runtime.token_touches[token_id] = now
    try:
        with runtime.uow() as uow:
            uow.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
            uow.commit()
    except (SQLAlchemyError, DomainError) as exc:  # DomainError: the unit of work's 507 for a full disk
        log.warning("API token %s: last use not recorded (%s: %s)", token_id, type(exc).__name__,
                    str(exc).splitlines()[0] if str(exc) else "")


def _signed_in(runtime: Runtime, **who: Any) -> tuple[Actor, str, int | None, datetime | None] | None:
    # Every request asks this: outside any transaction, so it neither queues behind writers on SQLite
    # nor pays BEGIN and ROLLBACK round trips on PostgreSQL (a role revoked between its two statements
    # is seen by the next request). Its pool does not ping each connection before use either: a
    # connection the server dropped (a restart) fails, the pool is invalidated, and one retry on a
    # fresh connection follows.
    for attempt in (1, 2):
        try:
            with runtime.lookup() as uow:
                return signed_in_actor(uow.session, _today(runtime), **who)
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def create_token(runtime: Runtime, actor: Actor, name: str) -> str:
    return str(issue_token(runtime, actor, name)["token"])


def issue_token(runtime: Runtime, actor: Actor, name: str) -> dict[str, Any]:
    """A new API token of the caller: the clear text is returned here once, only its hash is kept."""
    if not name.strip() or len(name) > 100:
        raise InvalidInput("Tên token cần 1–100 ký tự", [FieldError("name", "Cần 1–100 ký tự")])
    token = new_api_token()
    with runtime.uow() as uow:
        row = ApiToken(user_id=actor.user_id, name=name.strip(), token_hash=hash_token(token),
                       created_at=runtime.clock.now(), revoked=False)
        uow.session.add(row)
        uow.session.flush()
        audit(uow.session, runtime, "token_created", actor_id=actor.user_id, name=name, token_id=row.id)
        uow.commit()
        return {"id": row.id, "name": row.name, "created_at": row.created_at, "last_used_at": None,
                "revoked": False, "token": token}


def revoke_token(runtime: Runtime, actor: Actor, token_id: int) -> None:
    with runtime.uow() as uow:
        row = uow.session.get(ApiToken, token_id)
        if row is None or (row.user_id != actor.user_id and not actor.is_admin):
            raise NotFound(f"Không tìm thấy token {token_id}")
        row.revoked = True
        audit(uow.session, runtime, "token_revoked", actor_id=actor.user_id, token_id=token_id)
        uow.commit()


def add_substitute(runtime: Runtime, actor: Actor, absent_id: int, substitute_id: int,
                   starts_on: date, ends_on: date) -> int:
    if not (actor.is_admin or actor.user_id == absent_id):
        raise Forbidden("Chỉ quản trị hoặc chính người vắng mặt được cử người thay (not allowed)")
    if ends_on < starts_on:
        raise InvalidInput("Ngày kết thúc phải sau ngày bắt đầu")
    if absent_id == substitute_id:
        raise InvalidInput("Không thể tự thay chính mình")
    with runtime.uow() as uow:
        session = uow.session
        if session.get(User, absent_id) is None or session.get(User, substitute_id) is None:
            raise NotFound("Không tìm thấy người dùng")
        row = Substitute(absent_id=absent_id, substitute_id=substitute_id, starts_on=starts_on, ends_on=ends_on)
        session.add(row)
        session.flush()
        audit(session, runtime, "substitute_added", actor_id=actor.user_id, absent_id=absent_id,
              substitute_id=substitute_id, starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())
        uow.commit()
        return row.id


def _today(runtime: Runtime) -> date:
    return runtime.clock.now().astimezone(ZoneInfo(runtime.calendar.timezone)).date()
