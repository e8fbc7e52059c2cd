"""Per-user choice: a task reaching the user's desk is mailed at once (default) or only in the digest.

Revision ID: 0010_mail_preferences
Revises: 0007_instance_incident
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_mail_preferences"
down_revision = "0007_instance_incident"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("mail_immediately", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("mail_immediately")
