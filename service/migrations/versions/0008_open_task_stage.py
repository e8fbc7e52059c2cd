"""Open tasks carry their stage: the service finds "the draft task" or "the batch's preparation"
by the stage its diagram declares, never by the element's id.

Rows opened before this revision belong to versions deployed before diagrams declared stages;
their stage comes once from the contract's map of the shipped diagrams' old ids
(config/contracts.toml `legacy_stages`), the same map the loader uses for those versions.

Revision ID: 0008_open_task_stage
Revises: 0004_open_task_no_unit_due
"""
import sqlalchemy as sa
from alembic import op

from workflows.contract import ContractCatalog

revision = "0008_open_task_stage"
down_revision = "0007_instance_incident"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("open_task", sa.Column("stage", sa.String(40), nullable=True))
    open_task = sa.table("open_task", sa.column("process_id", sa.String), sa.column("task_id", sa.String),
                         sa.column("stage", sa.String))
    for kind, contract in ContractCatalog.default().processes.items():
        for task_id, stage in contract.legacy_stages.items():
            if stage in contract.task_stages:
                op.execute(open_task.update().where(open_task.c.process_id == kind, open_task.c.task_id == task_id,
                                                    open_task.c.stage.is_(None)).values(stage=stage))


def downgrade() -> None:
    with op.batch_alter_table("open_task") as batch:
        batch.drop_column("stage")
