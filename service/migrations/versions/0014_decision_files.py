"""Decision files: every version of a batch's Tờ trình and Quyết định (DOCX, PDF), the final PDF with
its register number and the signed PDF, each with its sha256, who made it and when.

Revision ID: 0014_decision_files
Revises: 0008_open_task_stage
"""
import sqlalchemy as sa
from alembic import op

from service.db.models import UtcDateTime

revision = "0014_decision_files"
down_revision = "0013_desk_mail_and_comments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_file",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.String(32), sa.ForeignKey("batch.id"), nullable=False),
        sa.Column("document", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("register_entry_id", sa.Integer(), sa.ForeignKey("register_entry.id"), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("batch_id", "document", "version", "format", name="uq_decision_file"),
    )
    op.create_index("ix_decision_file_batch_id", "decision_file", ["batch_id"])
    op.create_index("ix_decision_file_sha256", "decision_file", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_decision_file_sha256", table_name="decision_file")
    op.drop_index("ix_decision_file_batch_id", table_name="decision_file")
    op.drop_table("decision_file")
