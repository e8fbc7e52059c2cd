"""Database connection and the unit of work: one transaction per use case, committed once."""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from service.core.errors import Conflict, DomainError, InsufficientStorage, InvalidInput, catalogued
from service.core.filestore import DATABASE_FULL, is_out_of_space
from service.db import write_lock

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
# serialization_failure, deadlock_detected: the database gave up one of two transactions that waited
# on each other; done again, it usually passes.
TRANSIENT_SQLSTATES = {"40001", "40P01"}
# SQLite's answers when the disk under its file fails or goes away (a read that fails can come back as
# "database disk image is malformed", a DatabaseError, rather than as an I/O error): no request can be
# served from that file until an operator acts, the same as a PostgreSQL server that is down.
SQLITE_STORAGE_FAILURES = {sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_CANTOPEN,
                           sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_READONLY}
CONCURRENT_UPDATE = catalogued("Người khác vừa xử lý cùng hồ sơ; hãy tải lại")


class Database:
    def __init__(self, url: str, echo: bool = False):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            path = make_url(url).database
            if path and path != ":memory:" and not path.startswith("file:"):
                kwargs["connect_args"]["factory"] = write_lock.for_database(path)
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
            # psycopg hands back timestamptz values in the session's TimeZone, which is the server's
            # setting (often the local zone). Pinning UTC makes reads, and the ISO strings the API
            # prints, the same as on SQLite whatever the server is configured with.
            # connect_timeout: with the server unreachable a request answers 503 in seconds, not minutes.
            kwargs["connect_args"] = {"options": "-c TimeZone=UTC", "connect_timeout": 5}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # SQLite takes the write lock at the first write; BEGIN IMMEDIATE takes it up front so two
            # writers queue instead of failing halfway with "database is locked".
            # Read-only units of work begin DEFERRED and read through WAL without waiting for writers.
            event.listen(self.engine, "begin", _sqlite_begin)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # For transactions of a few milliseconds that must not queue behind every web request (the
        # outbox's claims and results); on PostgreSQL the same as `sessions`.
        self.short_engine: Engine = self.engine.execution_options(nomflow_short_write=True)
        self.short_sessions = sessionmaker(self.short_engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.engine.execution_options(nomflow_read_only=True),
                                          expire_on_commit=False)
        # Each statement on its own, no BEGIN/ROLLBACK: for lookups made of independent statements
        # (who is signing in), where two round trips to PostgreSQL per request are worth saving. A
        # pool of its own: switching a pooled connection in and out of autocommit costs round trips too.
        self.statement_engine: Engine = self.engine.execution_options() if self.is_sqlite else create_engine(
            url, isolation_level="AUTOCOMMIT", **{**kwargs, "pool_size": 5, "pool_pre_ping": False})
        self.statement_sessions = sessionmaker(self.statement_engine.execution_options(nomflow_read_only=True),
                                               expire_on_commit=False)

    def dispose(self, close: bool = True) -> None:
        """close=False after a fork: the child drops the parent's connections without closing them."""
        self.engine.dispose(close=close)
        if not self.is_sqlite:
            self.statement_engine.dispose(close=close)


def _sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("nomflow_read_only"):
        conn.exec_driver_sql("BEGIN")
        return
    dbapi_connection = conn.connection.dbapi_connection
    if isinstance(dbapi_connection, write_lock.WriteTurnConnection):
        # Writers queue here; a short one (nomflow_short_write) ahead of the others: db/write_lock.py.
        dbapi_connection.take_write_turn(short=bool(conn.get_execution_options().get("nomflow_short_write")))
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if isinstance(dbapi_connection, write_lock.WriteTurnConnection):
            dbapi_connection.end_write_turn()
        raise


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is switched off so that the "begin" hook above owns BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class UnitOfWork:
    """`with runtime.uow() as uow: ...; uow.commit()` — leaving without commit rolls back."""

    def __init__(self, database: Database, read_only: bool = False, per_statement: bool = False,
                 short: bool = False):
        self.database = database
        self.short = short
        self.read_only = read_only or per_statement
        self.per_statement = per_statement
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        if self.per_statement:
            self.session = self.database.statement_sessions()
        else:
            self.session = (self.database.read_sessions if self.read_only else
                            self.database.short_sessions if self.short else self.database.sessions)()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # close() rolls back anything uncommitted; unlike rollback() it leaves loaded objects readable.
        self.session.close()
        if isinstance(exc, DataError):
            # A value the database refuses (too long for its column, out of range): the request's
            # input, not a server fault. PostgreSQL checks lengths, SQLite does not.
            raise InvalidInput("Dữ liệu không lưu được vì quá dài hoặc sai kiểu so với cơ sở dữ liệu; chưa lưu gì: "
                               f"{str(exc.orig).splitlines()[0][:200]}") from exc
        if exc is not None and not isinstance(exc, DomainError) and is_out_of_space(exc):
            # "database or disk is full": nothing was kept, and the caller should hear 507, not 500.
            raise InsufficientStorage(DATABASE_FULL) from exc

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()


def is_transient(exc: BaseException) -> bool:
    """A deadlock or serialization failure: this transaction lost, nothing is broken."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def is_conflict(exc: BaseException) -> bool:
    """A concurrent writer got there first: the write did not land, and saying so is the answer (409)."""
    return is_transient(exc) or isinstance(exc, (StaleDataError, IntegrityError))


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached or cannot serve now (stopped, restarting, out of connections,
    a locked SQLite file, the disk under it gone): the request may succeed later (503), no row is to blame."""
    if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF in SQLITE_STORAGE_FAILURES:
        return True
    return isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)) and not is_transient(exc)


def retry_once(use_case: Callable[P, R]) -> Callable[P, R]:
    """Run a use case (one unit of work) again once if the database gave up its transaction (a
    deadlock, a serialization failure), then answer 409. Its transaction rolled back whole, so the
    second run starts from scratch; a use case with side effects outside it must not use this."""

    @functools.wraps(use_case)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return use_case(*args, **kwargs)
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            log.warning("%s: %s; trying once more", use_case.__name__, describe(exc))
        try:
            return use_case(*args, **kwargs)
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            raise Conflict(CONCURRENT_UPDATE) from exc

    return run


def describe(exc: BaseException) -> str:
    """One log line's worth of a database error (no SQL, no parameters, no traceback)."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"
