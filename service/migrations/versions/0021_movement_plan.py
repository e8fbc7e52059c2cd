"""Documents cite their movement's record, no longer config/documents/movement.toml: the stored 2026
movement takes the plan number and date that file gave every decision and Tờ trình until now, so that
a draft made after the upgrade cites the same plan as the ones made before it. Only a row still
without a plan number and date is filled; an admin's own values stay.

Revision ID: 0021_movement_plan
Revises: 0020_statistics_unit_only
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0021_movement_plan"
down_revision = "0020_statistics_unit_only"
branch_labels = None
depends_on = None

# What config/documents/movement.toml held up to revision 0019, frozen here.
NAME = "Phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số"
YEAR = 2026
PLAN_NUMBER = "125/KH-UBND"
PLAN_DATE = date(2026, 5, 5)

movement = sa.table("movement", sa.column("name", sa.String), sa.column("year", sa.Integer),
                    sa.column("plan_number", sa.String), sa.column("plan_date", sa.Date))


def upgrade() -> None:
    op.execute(movement.update()
               .where(movement.c.name == NAME, movement.c.year == YEAR, movement.c.plan_number == "",
                      movement.c.plan_date.is_(None))
               .values(plan_number=PLAN_NUMBER, plan_date=PLAN_DATE))


def downgrade() -> None:
    op.execute(movement.update()
               .where(movement.c.name == NAME, movement.c.year == YEAR, movement.c.plan_number == PLAN_NUMBER,
                      movement.c.plan_date == PLAN_DATE)
               .values(plan_number="", plan_date=None))
