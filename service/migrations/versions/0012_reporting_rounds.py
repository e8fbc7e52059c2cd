"""Reporting rounds (plan IV.1.1 and IV.1.4): a round and one report per participating unit.

Revision ID: 0012_reporting_rounds
Revises: 0010_movement
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_reporting_rounds"
down_revision = "0011_desk_time"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_round",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("movement_id", sa.Integer(), sa.ForeignKey("movement.id"), nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("remind_at", WHEN, nullable=False),
        sa.Column("opened_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("opened_at", WHEN, nullable=False),
    )
    op.create_index("ix_report_round_movement_id", "report_round", ["movement_id"])
    op.create_table(
        "unit_report",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("round_id", sa.String(32), sa.ForeignKey("report_round.id"), nullable=False),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("instance_id", sa.String(36), sa.ForeignKey("process_instance.id"), nullable=True, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=True),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("file_type", sa.String(100), nullable=True),
        sa.Column("submitted_at", WHEN, nullable=True),
        sa.Column("accepted_at", WHEN, nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("round_id", "unit_id"),
    )
    op.create_index("ix_unit_report_unit_id", "unit_report", ["unit_id"])
    op.create_index("ix_unit_report_round_status", "unit_report", ["round_id", "status"])


def downgrade() -> None:
    op.drop_table("unit_report")
    op.drop_table("report_round")
