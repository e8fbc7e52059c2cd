"""Statistics indexes cover `within_unit`: a province role's scope reads it (other units' Giấy khen,
decided inside the unit, are not counted until they end), and without it in the index every row the
GROUP BYs count was fetched from the table (the DOST lead's statistics page p95 677 ms on PostgreSQL
at 100,000 nominations, the admin's 305 ms).

Revision ID: 0019_statistics_within_unit
Revises: 0018_unit_award
"""
from alembic import op

revision = "0019_statistics_within_unit"
down_revision = "0018_unit_award"
branch_labels = None
depends_on = None

BEFORE = {"ix_nomination_stats_unit": ["movement_id", "unit_id", "status", "award"],
          "ix_nomination_stats_kind": ["movement_id", "nominee_kind", "award", "status", "unit_id"]}


def upgrade() -> None:
    for name, columns in BEFORE.items():
        op.drop_index(name, table_name="nomination")
        op.create_index(name, "nomination", [*columns, "within_unit"])


def downgrade() -> None:
    for name, columns in BEFORE.items():
        op.drop_index(name, table_name="nomination")
        op.create_index(name, "nomination", columns)
