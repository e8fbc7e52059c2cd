"""The Giấy khen path inside a unit: each unit's register symbol (ký hiệu, e.g. SYT in QĐ-SYT), a flag
on nominations decided inside their unit (province roles never see them), the register entry of a
unit's decision tied to its nomination, and the unit's own criteria for a movement (plan III.2.2).

Revision ID: 0015_unit_award
Revises: 0014_decision_files
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_unit_award"
down_revision = "0014_decision_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("register_symbol", sa.String(32), nullable=True))
    with op.batch_alter_table("nomination") as batch:
        batch.add_column(sa.Column("within_unit", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("register_entry") as batch:
        batch.add_column(sa.Column("nomination_id", sa.String(32), nullable=True))
        batch.create_index("ix_register_entry_nomination_id", ["nomination_id"])
    op.create_table(
        "unit_criteria",
        sa.Column("movement_id", sa.Integer(), sa.ForeignKey("movement.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("unit.id"), primary_key=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("unit_criteria")
    with op.batch_alter_table("register_entry") as batch:
        batch.drop_index("ix_register_entry_nomination_id")
        batch.drop_column("nomination_id")
    with op.batch_alter_table("nomination") as batch:
        batch.drop_column("within_unit")
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("register_symbol")
