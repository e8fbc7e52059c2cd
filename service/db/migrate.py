"""Schema changes go through Alembic; `nomflow init-db` runs them to the newest revision.

Every path (init-db at start-up, `nomflow demo`, tests, after `nomflow restore`) comes through here and
so through service/migrations/env.py, which guards a populated SQLite database: see `foreign_keys_off`
there."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from service.db.session import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head", config: Config | None = None) -> None:
    """All steps up to `revision` in one transaction: a step that fails leaves the database as it was."""
    config = config or alembic_config(database)
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def downgrade(database: Database, revision: str, config: Config | None = None) -> None:
    config = config or alembic_config(database)
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        connection.commit()
