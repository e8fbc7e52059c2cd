"""The Giấy khen path inside a unit: each unit's register symbol (ký hiệu, e.g. SYT in QĐ-SYT), a flag
on nominations decided inside their unit (province roles never see them), the register entry of a
unit's decision tied to its nomination, and the unit's own criteria for a movement (plan III.2.2).

Revision ID: 0018_unit_award
Revises: 0017_statistics_speed
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_unit_award"
down_revision = "0017_statistics_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): a batch copy would drop and recreate tables other rows point to.
    op.add_column("unit", sa.Column("register_symbol", sa.String(32), nullable=True))
    op.add_column("nomination", sa.Column("within_unit", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("register_entry", sa.Column("nomination_id", sa.String(32), nullable=True))
    op.create_index("ix_register_entry_nomination_id", "register_entry", ["nomination_id"])
    op.create_table(
        "unit_criteria",
        sa.Column("movement_id", sa.Integer(), sa.ForeignKey("movement.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("unit.id"), primary_key=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason as above.
    op.drop_table("unit_criteria")
    op.drop_index("ix_register_entry_nomination_id", "register_entry")
    op.drop_column("register_entry", "nomination_id")
    op.drop_column("nomination", "within_unit")
    op.drop_column("unit", "register_symbol")
