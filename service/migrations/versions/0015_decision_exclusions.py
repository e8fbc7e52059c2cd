"""Decision exclusions: the nominations the Chairman leaves out of a batch's decision at signing,
each with his reason (the decision is re-drafted without them; they end "not awarded").

Revision ID: 0015_decision_exclusions
Revises: 0014_decision_files
"""
import sqlalchemy as sa
from alembic import op

from service.db.models import UtcDateTime

revision = "0015_decision_exclusions"
down_revision = "0014_decision_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_exclusion",
        sa.Column("batch_id", sa.String(32), sa.ForeignKey("batch.id"), primary_key=True),
        sa.Column("nomination_id", sa.String(32), sa.ForeignKey("nomination.id"), primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excluded_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("excluded_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("decision_exclusion")
