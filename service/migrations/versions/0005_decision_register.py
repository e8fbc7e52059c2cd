"""Decision register (sổ đăng ký văn bản đi): one number sequence per issuing authority and year.

Revision ID: 0005_decision_register
Revises: 0004_open_task_no_unit_due
"""
import sqlalchemy as sa
from alembic import op

from service.db.models import UtcDateTime

revision = "0005_decision_register"
down_revision = "0004_open_task_no_unit_due"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_counter",
        sa.Column("authority_id", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("last_number", sa.Integer(), nullable=False),
    )
    op.create_table(
        "register_entry",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("authority_id", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=False),
        sa.Column("awardee_count", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(32), sa.ForeignKey("batch.id"), nullable=True),
        sa.Column("pdf_sha256", sa.String(64), nullable=True),
        sa.Column("docx_sha256", sa.String(64), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("authority_id", "year", "number", name="uq_register_number"),
    )


def downgrade() -> None:
    op.drop_table("register_entry")
    op.drop_table("register_counter")
