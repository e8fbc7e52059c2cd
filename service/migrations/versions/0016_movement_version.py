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


# Plain ADD/DROP COLUMN (SQLite 3.35+), never batch mode: batch copies the movement table, which
# nominations, batches and rounds reference, and SQLite's foreign keys refuse dropping it.
def upgrade() -> None:
    op.add_column("movement", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    op.drop_column("movement", "version")
