"""process drafts: diagrams edited in the browser, validated, not yet deployed

Revision ID: 0002_process_draft
Revises: 0001
Create Date: 2026-11-26 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import service.db.models


revision = '0002_process_draft'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('process_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('bpmn', sa.LargeBinary(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('deployed_version_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', service.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', service.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['deployed_version_id'], ['process_version.id'], ),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('process_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_draft_process_id'), ['process_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('process_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_draft_process_id'))

    op.drop_table('process_draft')
