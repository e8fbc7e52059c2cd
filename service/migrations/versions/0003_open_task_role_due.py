"""Inbox queue of province roles: open tasks by role in due order.

Revision ID: 0003_open_task_role_due
Revises: 0002_process_draft
"""
from alembic import op

revision = "0003_open_task_role_due"
down_revision = "0002_process_draft"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_open_task_role_due", "open_task", ["role", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_open_task_role_due", table_name="open_task")
