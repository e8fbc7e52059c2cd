"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and
`init_db` may run any number of times."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from service.core.config import ServiceConfig
from service.core.runtime import Runtime
from service.db.migrate import alembic_config, upgrade
from service.db.models import AuditEvent, Base, ProcessVersion
from service.db.session import Database
from service.usecases.setup import init_db


def schema_differences(database: Database) -> list[object]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "compare_server_default": True})
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_head_on_an_empty_database_gives_the_models_schema(database_url: str):
    database = Database(database_url)
    try:
        assert inspect(database.engine).get_table_names() == []
        upgrade(database)
        assert schema_differences(database) == []
        head = ScriptDirectory.from_config(alembic_config(database)).get_current_head()
        with database.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head
    finally:
        database.dispose()


def test_downgrade_to_base_and_up_again(database_url: str):
    database = Database(database_url)
    try:
        upgrade(database)
        config = alembic_config(database)
        with database.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
            connection.commit()
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
        upgrade(database)
        assert schema_differences(database) == []
    finally:
        database.dispose()


def test_init_db_twice_is_harmless(database_url: str, tmp_path: Path):
    runtime = Runtime(ServiceConfig(instance_dir=tmp_path, database_url=database_url, secret_key="x",
                                    testing=True, scheduler_in_process=False))
    try:
        first = init_db(runtime)
        assert first  # the shipped diagrams were deployed
        with runtime.uow() as uow:
            versions = uow.session.execute(select(ProcessVersion.process_id, ProcessVersion.version,
                                                  ProcessVersion.checksum).order_by(ProcessVersion.id)).all()
            events = uow.session.scalar(select(func.count()).select_from(AuditEvent))

        assert init_db(runtime) == []

        with runtime.uow() as uow:
            assert uow.session.execute(select(ProcessVersion.process_id, ProcessVersion.version,
                                              ProcessVersion.checksum).order_by(ProcessVersion.id)).all() == versions
            assert uow.session.scalar(select(func.count()).select_from(AuditEvent)) == events
            assert uow.session.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert schema_differences(runtime.db) == []
    finally:
        runtime.db.dispose()
