"""A version on each movement: two admins editing one movement's criteria and awards cannot overwrite
each other (the second save answers 409).

Revision ID: 0016_movement_version
Revises: 0015_decision_exclusions
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_movement_version"
down_revision = "0015_decision_exclusions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("movement") as table:
        table.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("movement") as table:
        table.drop_column("version")
