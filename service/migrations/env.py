"""Alembic environment: the URL and connection come from nomflow's own configuration.

Upgrading a populated database must keep every row and every link. Two SQLite specifics make that
need care here rather than in each revision:

- Batch mode re-creates a table to alter it (create a copy, copy the rows, DROP the old one, rename).
  With `PRAGMA foreign_keys=ON` (every connection of service/db/session.py) that DROP runs an implicit
  DELETE: the rows of ON DELETE CASCADE children go, SET NULL children lose their link, and NO ACTION
  children make the step fail. Alembic's batch documentation says the pragma must be off while batch
  runs; it can only change outside a transaction, so it goes off before the migration's transaction
  begins and back on after it ends. `PRAGMA foreign_key_check` then runs inside that transaction: a
  row whose link a step broke makes the whole upgrade roll back instead of committing it. (So no
  ON DELETE CASCADE runs during a migration: a data step that deletes rows deletes their children too.)
- SQLite drops a table's triggers with the table, so batch mode's re-creation would silently lose
  them (and its RENAME fails on a trigger of another table that names the dropped one). While the
  migration runs, `legacy_alter_table` keeps RENAME from checking trigger bodies, and at the end every
  trigger lost that way is created again from its stored SQL; a trigger a revision drops on purpose
  (`DROP TRIGGER`) stays dropped, and one that no longer fits its table fails the whole upgrade.
- Alembic treats SQLite as having no transactional DDL and commits after each revision, so a step
  that fails would leave the database half way. SQLite's DDL is transactional (the service's
  connections begin their own transactions), so the whole run is one transaction, as on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from alembic import context
from sqlalchemy import Connection, event

from service.db.models import Base
from service.db.session import Database

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    # The service's own engine: the same pragmas and BEGIN as every other connection it makes.
    database = Database(config.get_main_option("sqlalchemy.url") or "")
    try:
        with database.engine.connect() as conn:
            run_on(conn)
            conn.commit()
    finally:
        database.dispose()


def run_on(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    with foreign_keys_off(connection) if sqlite else nullcontext():
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          transactional_ddl=True)
        with context.begin_transaction():
            before = context.get_context().get_current_heads()
            with triggers_kept(connection) if sqlite else nullcontext():
                context.run_migrations()
            # Only after a step ran: init-db at every start-up with nothing to do reads no table.
            if sqlite and context.get_context().get_current_heads() != before:
                refuse_broken_links(connection)


@contextmanager
def foreign_keys_off(connection: Connection) -> Iterator[None]:
    if connection.in_transaction():
        raise RuntimeError("SQLite migrations need a connection outside any transaction: "
                           "PRAGMA foreign_keys cannot change inside one")
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    if driver.execute("PRAGMA foreign_keys").fetchone()[0] != 0:
        raise RuntimeError("PRAGMA foreign_keys=OFF did not take effect: no migration ran")
    driver.execute("PRAGMA legacy_alter_table=ON")
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        driver.execute("PRAGMA legacy_alter_table=OFF")
        driver.execute("PRAGMA foreign_keys=ON")
        if driver.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
            connection.invalidate()  # never hand a connection without foreign keys back to the pool


DROP_TRIGGER = re.compile(r"\bDROP\s+TRIGGER\s+(?:IF\s+EXISTS\s+)?[\"`\[]?(\w+)", re.IGNORECASE)


@contextmanager
def triggers_kept(connection: Connection) -> Iterator[None]:
    stored = connection.exec_driver_sql("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'").all()
    dropped: set[str] = set()

    def note_drops(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        dropped.update(name.lower() for name in DROP_TRIGGER.findall(statement))

    event.listen(connection, "before_cursor_execute", note_drops)
    try:
        yield
    finally:
        event.remove(connection, "before_cursor_execute", note_drops)
    present = {name.lower() for (name,) in connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    tables = {name.lower() for (name,) in connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    for name, table, sql in stored:
        if name.lower() not in present | dropped and table.lower() in tables:
            connection.exec_driver_sql(sql)


def refuse_broken_links(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        shown = ", ".join(f"{table} rowid {rowid} -> {parent}" for table, rowid, parent, _ in broken[:10])
        raise RuntimeError(f"Nâng cấp lược đồ bị hủy, cơ sở dữ liệu giữ nguyên: {len(broken)} dòng mất liên kết "
                           f"khóa ngoại sau khi nâng cấp ({shown})")


if context.is_offline_mode():
    run_offline()
else:
    run_online()
