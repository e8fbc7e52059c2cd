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
- Alembic treats SQLite as having no transactional DDL and commits after each revision, so a step
  that fails would leave the database half way. SQLite's DDL is transactional (the service's
  connections begin their own transactions), so the whole run is one transaction, as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from alembic import context
from sqlalchemy import Connection

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
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        driver.execute("PRAGMA foreign_keys=ON")
        if driver.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
            connection.invalidate()  # never hand a connection without foreign keys back to the pool


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
