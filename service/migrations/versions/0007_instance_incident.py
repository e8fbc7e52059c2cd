"""Incidents: an instance whose engine run failed (create, task completion, timer) carries the error
until an admin retries it, after the diagram is fixed or the instance migrated.

Revision ID: 0007_instance_incident
Revises: 0006_security_hardening
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_instance_incident"
down_revision = "0006_security_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance") as batch:
        batch.add_column(sa.Column("incident", sa.Text(), nullable=True))
        batch.add_column(sa.Column("incident_at", sa.DateTime(timezone=True), nullable=True))
    # The process page lists open incidents: few rows among many, found through a partial index.
    op.create_index("ix_process_instance_incident", "process_instance", ["incident_at"],
                    postgresql_where=sa.text("incident IS NOT NULL"), sqlite_where=sa.text("incident IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_process_instance_incident", table_name="process_instance")
    # Not batch mode: on SQLite it copies and drops process_instance, which the foreign keys of
    # the tables pointing at it forbid; SQLite since 3.35 drops a column in place.
    op.drop_column("process_instance", "incident_at")
    op.drop_column("process_instance", "incident")
