"""Issue 16: a per-user choice (a task reaching the user's desk is mailed at once, or only in the
digest) and the comments sent from the public page for the Department of Home Affairs to read.

Revision ID: 0013_desk_mail_and_comments
Revises: 0008_open_task_stage
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_desk_mail_and_comments"
down_revision = "0012_reporting_rounds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("user_account", sa.Column("mail_immediately", sa.Boolean(), nullable=False,
                                            server_default=sa.true()))
    op.create_table(
        "public_comment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nomination_id", sa.String(32), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
    )
    op.create_index("ix_public_comment_client", "public_comment", ["client"])
    op.create_index("ix_public_comment_created_at", "public_comment", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_public_comment_created_at", table_name="public_comment")
    op.drop_index("ix_public_comment_client", table_name="public_comment")
    op.drop_table("public_comment")
    # Not batch mode: on SQLite it copies and drops user_account, which the foreign keys of the
    # tables pointing at it forbid; SQLite since 3.35 drops a column in place.
    op.drop_column("user_account", "mail_immediately")
