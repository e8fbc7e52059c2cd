"""Upgrading (and downgrading) a POPULATED database keeps every row and every link, on SQLite and
PostgreSQL, for every revision step there is and any added later.

Rows are made from the schema itself: each table of the revision at hand is reflected and filled with
values of its columns' types (distinct per row, so unique keys hold; each foreign key pointing at a row
of its parent, nullable ones included, so ON DELETE CASCADE / SET NULL links exist to lose). The walk
goes one revision at a time; around each step every table that exists on both sides must hold the same
rows with the same values in the columns that exist on both sides. SQLite's batch mode re-creates
tables to alter them, which with foreign keys on deleted or refused the rows pointing at them.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from service.db.migrate import MIGRATIONS, alembic_config, downgrade, upgrade
from service.db.session import Database
from tests.service.test_backup import nomflow
from tests.service.test_migrations import schema_differences

ROWS = 3
START = datetime(2025, 3, 1, 2, 30, tzinfo=UTC)
Snapshot = dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]


def revisions(database: Database) -> list[str]:
    """Oldest first."""
    script = ScriptDirectory.from_config(alembic_config(database))
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def current(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema(database: Database) -> MetaData:
    """The tables of the revision at hand: their columns and foreign keys (all a row needs, and quicker
    to read than a full reflection: the walk reads it at every step)."""
    with database.engine.connect() as connection:
        inspector = inspect(connection)
        columns, foreign_keys = inspector.get_multi_columns(), inspector.get_multi_foreign_keys()
    meta = MetaData()
    for (_, name), found in columns.items():
        if name != "alembic_version":
            Table(name, meta, *(Column(c["name"], c["type"], nullable=c["nullable"]) for c in found),
                  *(ForeignKeyConstraint(fk["constrained_columns"],
                                         [f"{fk['referred_table']}.{c}" for c in fk["referred_columns"]])
                    for fk in foreign_keys.get((None, name), [])))
    return meta


def value(table: Table, column: Any, i: int) -> Any:
    kind = column.type
    if isinstance(kind, Boolean):
        return i % 2 == 0
    if isinstance(kind, Integer):
        return i + 1
    if isinstance(kind, (Numeric, Float)):
        return i + 0.5
    if isinstance(kind, DateTime):
        return START + timedelta(days=i, minutes=i)
    if isinstance(kind, Date):
        return date(2025, 3, 1) + timedelta(days=i)
    if isinstance(kind, JSON):
        return {"row": i}
    if isinstance(kind, LargeBinary):
        return f"{table.name}-{i}".encode()
    text = f"{i}-{table.name}.{column.name}"  # the row number first: distinct even when cut short
    length = getattr(kind, "length", None)
    return text[:length] if length else text


def parent_keys(connection: Connection, table: Table) -> dict[str, list[Any]]:
    """Per foreign-key column, the keys its parent holds now (none yet for a table that points at itself)."""
    keys = {}
    for fk in table.foreign_keys:
        target = fk.column
        keys[fk.parent.name] = list(connection.scalars(select(target).distinct().order_by(target)))
    return keys


def fill(database: Database, meta: MetaData, now: Snapshot) -> list[Table]:
    """ROWS rows in every table that has none yet (parents before children), and a value in every
    column still empty (one a later revision added, a link to a table filled after its own); the
    tables written to. `now` is what the tables hold. A value a unique key refuses is left out."""
    written = []
    with database.engine.connect() as connection:
        empty: dict[str, set[str]] = {}
        for table in meta.sorted_tables:
            names, rows = now[table.name]
            if rows:
                empty[table.name] = {n for i, n in enumerate(names) if any(r[i] is None for r in rows)}
                continue
            assert all(len(c.elements) == 1 for c in table.foreign_key_constraints), table.name
            keys = parent_keys(connection, table)
            new = [{c.name: (keys[c.name][i % len(keys[c.name])] if keys.get(c.name) else
                             None if c.name in keys else value(table, c, i)) for c in table.columns}
                   for i in range(ROWS)]
            connection.execute(table.insert(), new)
            written.append(table)
            empty[table.name] = {n for n, v in new[0].items() if v is None}
        for table in meta.sorted_tables:
            if not empty[table.name]:
                continue
            keys = parent_keys(connection, table)
            for name in empty[table.name]:
                if name in keys and not keys[name]:
                    continue
                with connection.begin_nested() as savepoint:
                    try:
                        connection.execute(update(table).where(table.c[name].is_(None)).values(
                            {name: keys[name][0] if name in keys else value(table, table.c[name], 0)}))
                    except IntegrityError:
                        savepoint.rollback()
                        continue
                written.append(table)
        if connection.dialect.name == "postgresql":
            # The rows came with their ids: the sequences start after them, as if the service had written them.
            for table_name, column in connection.execute(text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'")):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table_name}', '{column}'), "
                                        f"max({column})) FROM {table_name} HAVING count(*) > 0"))
        connection.commit()
    return list(dict.fromkeys(written))


def snapshot(database: Database, meta: MetaData | None = None, tables: list[Table] | None = None) -> Snapshot:
    """Per table (all, or those given): its column names and its rows as tuples in column order, sorted."""
    meta = meta or schema(database)
    with database.engine.connect() as connection:
        found: Snapshot = {}
        for table in meta.sorted_tables if tables is None else tables:
            names = tuple(c.name for c in table.columns)
            rows = connection.execute(select(*table.columns)).all()
            found[table.name] = (names, sorted((tuple(r) for r in rows), key=repr))
        return found


def lost(before: Snapshot, after: Snapshot, added: bool = False) -> dict[str, str]:
    """What a step changed in the tables and columns that exist on both sides of it; with `added`,
    only the rows it lost or changed (a step that also writes rows of its own, as init-db does)."""
    changes = {}
    for name in before.keys() & after.keys():
        (old_columns, old_rows), (new_columns, new_rows) = before[name], after[name]
        kept = [c for c in old_columns if c in new_columns]
        old = sorted((tuple(r[old_columns.index(c)] for c in kept) for r in old_rows), key=repr)
        new = sorted((tuple(r[new_columns.index(c)] for c in kept) for r in new_rows), key=repr)
        if (added and set(map(repr, old)) - set(map(repr, new))) or (not added and old != new):
            changes[name] = f"{len(old)} rows before, {len(new)} after; columns {kept}: {old} -> {new}"
    return changes


def walk(database: Database, move: Any, revisions: list[str]) -> None:
    """One revision at a time, every table filled before each step."""
    meta = schema(database)
    after = snapshot(database, meta)
    for revision in revisions:
        before = after | snapshot(database, meta, fill(database, meta, after))
        move(database, revision)
        meta = schema(database)
        after = snapshot(database, meta)
        assert lost(before, after) == {}, f"{move.__name__} to {revision}"


def test_every_step_up_and_down_keeps_every_row_and_link(database_url: str):
    database = Database(database_url)
    try:
        steps = revisions(database)
        upgrade(database, steps[0])
        walk(database, upgrade, steps[1:])
        # Down one revision at a time to the first one, with rows everywhere; then up to the head at once.
        walk(database, downgrade, list(reversed(steps[:-1])))
        walk(database, upgrade, steps[-1:])
        assert current(database) == steps[-1]
        assert schema_differences(database) == []  # the foreign keys point at the tables they should
        if database.is_sqlite:
            with database.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        database.dispose()


EXTRA_STEP = '''"""One more step after the real ones: {why}"""
import sqlalchemy as sa
from alembic import op

revision = "9999_extra_step"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
{body}


def downgrade():
    pass
'''
FAILURES = {
    # Batch mode re-creates the table nominations point at, then the step raises.
    "raises": ("an error", """    with op.batch_alter_table("nomination", recreate="always") as batch:
        batch.add_column(sa.Column("broken", sa.Integer(), nullable=True))
    raise RuntimeError("this step fails")"""),
    # Rows that others point at go: the links break (SQLite only notices with its foreign key check).
    "breaks_links": ("broken links", """    op.execute("DELETE FROM unit")"""),
}

# Any table re-created by batch mode, whoever points at it: the rows a future revision's batch step would meet.
RECREATE_ALL = """    for name in sa.inspect(op.get_bind()).get_table_names():
        if name != "alembic_version":
            with op.batch_alter_table(name, recreate="always"):
                pass"""


def with_extra_step(database: Database, directory: Path, why: str, body: str) -> Config:
    """The real revisions and one more after the head, "9999_extra_step", written into `directory`."""
    head = revisions(database)[-1]
    (directory / "9999_extra_step.py").write_text(EXTRA_STEP.format(why=why, head=head, body=body))
    config = alembic_config(database)
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join([str(MIGRATIONS / "versions"), str(directory)]))
    return config


def test_batch_mode_may_re_create_any_table_of_a_populated_sqlite_database(tmp_path: Path):
    """SQLite only: there batch mode copies, drops and renames the table; PostgreSQL alters in place."""
    database = Database(f"sqlite:///{tmp_path / 'nomflow.sqlite3'}")
    try:
        upgrade(database)
        meta = schema(database)
        fill(database, meta, snapshot(database, meta))
        before = snapshot(database, meta)
        triggers = sqlite_triggers(database)
        assert triggers  # 0020_statistics_unit_only's: re-creating their tables must not lose them
        config = with_extra_step(database, tmp_path, "every table re-created", RECREATE_ALL)
        upgrade(database, "9999_extra_step", config)
        assert current(database) == "9999_extra_step"
        assert lost(before, snapshot(database)) == {}
        assert sqlite_triggers(database) == triggers
        assert schema_differences(database) == []  # the links point at the re-created tables
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        database.dispose()


def sqlite_triggers(database: Database) -> dict[str, str]:
    with database.engine.connect() as connection:
        return dict(connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all())


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_an_upgrade_that_fails_halfway_leaves_the_database_as_it_was(database_url: str, tmp_path: Path,
                                                                       failure: str):
    database = Database(database_url)
    try:
        steps = revisions(database)
        start = "0016_movement_version"  # steps below the head, with rows in every table
        upgrade(database, start)
        meta = schema(database)
        fill(database, meta, snapshot(database, meta))
        before = snapshot(database, meta)
        config = with_extra_step(database, tmp_path, *FAILURES[failure])
        with pytest.raises(Exception):  # noqa: B017 - which error depends on the database; the state does not
            upgrade(database, "9999_extra_step", config)
        assert current(database) == start
        if database.is_sqlite:  # the pooled connection the migration used has its foreign keys back
            with database.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        after = snapshot(database)
        assert after.keys() == before.keys()
        assert lost(before, after) == {}
        assert {name: columns for name, (columns, _) in after.items()} == \
            {name: columns for name, (columns, _) in before.items()}
        upgrade(database)  # and the real upgrade still runs from there
        assert current(database) == steps[-1]
    finally:
        database.dispose()


def test_nomflow_init_db_upgrades_a_populated_database_keeping_every_row(tmp_path: Path):
    """The command an operator runs (after installing a new release, or after `nomflow restore` of an
    older backup), as a process, from a revision before the batch-mode steps that re-create tables.
    SQLite only: the only backend where batch mode re-creates tables; the walk above covers both."""
    database_url = f"sqlite:///{tmp_path / 'nomflow.sqlite3'}"
    database = Database(database_url)
    try:
        upgrade(database, "0005_decision_register")
        meta = schema(database)
        fill(database, meta, snapshot(database, meta))
        before = snapshot(database, meta)
        database.dispose()
        nomflow("init-db", instance=tmp_path / "instance", database_url=database_url)
        assert current(database) == revisions(database)[-1]
        assert lost(before, snapshot(database), added=True) == {}
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        database.dispose()
