"""Inbox of unit roles: their tasks that belong to no unit, in due order.

A unit grant also covers its role's tasks without a unit; that branch of the inbox asks for
`role = r AND unit_id IS NULL` in due order. Without this partial index PostgreSQL walks the
role's whole (role, due_at) range filtering on unit_id, since it cannot tell that unit roles'
tasks almost always carry a unit.

Revision ID: 0004_open_task_no_unit_due
Revises: 0003_open_task_role_due
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_open_task_no_unit_due"
down_revision = "0003_open_task_role_due"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_open_task_no_unit_due", "open_task", ["role", "due_at"],
                    postgresql_where=sa.text("unit_id IS NULL"), sqlite_where=sa.text("unit_id IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_open_task_no_unit_due", table_name="open_task")
