"""security hardening (issue 14): server-side sessions, log-in throttling per (username, client),
token expiry, substitutes that need approval and can be ended

Substitutes stored before this revision have no approval: they stop acting until a unit head or an
admin approves them (they were self-service, across units and unbounded). API tokens stored before it
expire 90 days after the upgrade.

Revision ID: 0006_security_hardening
Revises: 0005_decision_register
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import service.db.models

revision = "0006_security_hardening"
down_revision = "0005_decision_register"
branch_labels = None
depends_on = None

UtcDateTime = service.db.models.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_why", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", "client"),
    )
    op.create_index("ix_login_throttle_last_failed_at", "login_throttle", ["last_failed_at"])
    with op.batch_alter_table("substitute") as batch:
        batch.add_column(sa.Column("created_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("created_at", UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("approved_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("approved_at", UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ended_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ended_at", UtcDateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_substitute_created_by", "user_account", ["created_by"], ["id"])
        batch.create_foreign_key("fk_substitute_approved_by", "user_account", ["approved_by"], ["id"])
        batch.create_foreign_key("fk_substitute_ended_by", "user_account", ["ended_by"], ["id"])
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", UtcDateTime(timezone=True), nullable=True))
    api_token = sa.table("api_token", sa.column("expires_at", UtcDateTime(timezone=True)))
    op.execute(api_token.update().values(expires_at=datetime.now(UTC) + timedelta(days=90)))
    with op.batch_alter_table("api_token") as batch:
        batch.alter_column("expires_at", existing_type=UtcDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("substitute") as batch:
        batch.drop_constraint("fk_substitute_ended_by", type_="foreignkey")
        batch.drop_constraint("fk_substitute_approved_by", type_="foreignkey")
        batch.drop_constraint("fk_substitute_created_by", type_="foreignkey")
        for column in ("ended_at", "ended_by", "approved_at", "approved_by", "created_at", "created_by"):
            batch.drop_column(column)
    op.drop_index("ix_login_throttle_last_failed_at", table_name="login_throttle")
    op.drop_table("login_throttle")
    op.drop_index("ix_user_session_user_id", table_name="user_session")
    op.drop_table("user_session")
