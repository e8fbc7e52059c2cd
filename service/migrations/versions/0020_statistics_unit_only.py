"""Statistics without scanning what a province role cannot see: each open task says whether its
nomination is still the unit's own (a draft, or decided inside the unit: what `access.nomination_scope`
hides from province roles), kept by the database itself, so that a province role's open and overdue
counts are one scan of ix_open_task_stats instead of the movement's counts less a join of every open
task to the hidden nominations (a hash join over ~8,000 rows, ~40 ms of the DOST lead's page at 100,000
nominations, and growing with the drafts). The per-unit count groups by (unit, award) in the index's order.

Triggers, not application code, keep `unit_only`: a task inserted takes its nomination's state, and a
nomination whose status or `within_unit` changes updates its open tasks, whatever wrote it (a use
case, a migration of instances, a bulk load), in the writer's own transaction.

Revision ID: 0020_statistics_unit_only
Revises: 0019_statistics_within_unit
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_statistics_unit_only"
down_revision = "0019_statistics_within_unit"
branch_labels = None
depends_on = None

STATS_COLUMNS = ["movement_id", "process_id", "stage", "role", "assignee_id", "due_at", "batch_id"]
UNIT_BEFORE = ["movement_id", "unit_id", "status", "award", "within_unit"]
UNIT_AFTER = ["movement_id", "unit_id", "award", "status", "within_unit"]
# The nomination is its unit's own: the complement of a province role's nomination_scope (less the
# role's own units, which the statistics add back).
UNIT_ONLY = "(status = 'draft' OR within_unit)"

POSTGRESQL_UP = [
    f"""CREATE FUNCTION open_task_unit_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.unit_only := COALESCE((SELECT {UNIT_ONLY} FROM nomination WHERE id = NEW.nomination_id), false);
    RETURN NEW;
END $$""",
    """CREATE TRIGGER open_task_unit_only BEFORE INSERT OR UPDATE OF nomination_id ON open_task
FOR EACH ROW EXECUTE FUNCTION open_task_unit_only()""",
    """CREATE FUNCTION nomination_unit_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE open_task SET unit_only = (NEW.status = 'draft' OR NEW.within_unit) WHERE nomination_id = NEW.id;
    RETURN NULL;
END $$""",
    """CREATE TRIGGER nomination_unit_only AFTER UPDATE OF status, within_unit ON nomination FOR EACH ROW
WHEN ((OLD.status = 'draft' OR OLD.within_unit) IS DISTINCT FROM (NEW.status = 'draft' OR NEW.within_unit))
EXECUTE FUNCTION nomination_unit_only()""",
]
POSTGRESQL_DOWN = ["DROP TRIGGER IF EXISTS nomination_unit_only ON nomination",
                   "DROP FUNCTION IF EXISTS nomination_unit_only()",
                   "DROP TRIGGER IF EXISTS open_task_unit_only ON open_task",
                   "DROP FUNCTION IF EXISTS open_task_unit_only()"]
SQLITE_UP = [
    f"""CREATE TRIGGER open_task_unit_only AFTER INSERT ON open_task WHEN NEW.nomination_id IS NOT NULL
BEGIN
    UPDATE open_task SET unit_only = COALESCE((SELECT {UNIT_ONLY} FROM nomination WHERE id = NEW.nomination_id), 0)
    WHERE id = NEW.id;
END""",
    f"""CREATE TRIGGER open_task_unit_only_moved AFTER UPDATE OF nomination_id ON open_task
BEGIN
    UPDATE open_task SET unit_only = COALESCE((SELECT {UNIT_ONLY} FROM nomination WHERE id = NEW.nomination_id), 0)
    WHERE id = NEW.id;
END""",
    """CREATE TRIGGER nomination_unit_only AFTER UPDATE OF status, within_unit ON nomination
WHEN (OLD.status = 'draft' OR OLD.within_unit) IS NOT (NEW.status = 'draft' OR NEW.within_unit)
BEGIN
    UPDATE open_task SET unit_only = (NEW.status = 'draft' OR NEW.within_unit) WHERE nomination_id = NEW.id;
END""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS nomination_unit_only", "DROP TRIGGER IF EXISTS open_task_unit_only_moved",
               "DROP TRIGGER IF EXISTS open_task_unit_only"]


def upgrade() -> None:
    op.add_column("open_task", sa.Column("unit_only", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(f"UPDATE open_task SET unit_only = true WHERE nomination_id IN (SELECT id FROM nomination "
               f"WHERE {UNIT_ONLY})")
    for statement in POSTGRESQL_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)
    op.drop_index("ix_open_task_stats", table_name="open_task")
    op.create_index("ix_open_task_stats", "open_task", [*STATS_COLUMNS, "unit_only"])
    op.drop_index("ix_nomination_stats_unit", table_name="nomination")
    op.create_index("ix_nomination_stats_unit", "nomination", UNIT_AFTER)


def downgrade() -> None:
    op.drop_index("ix_nomination_stats_unit", table_name="nomination")
    op.create_index("ix_nomination_stats_unit", "nomination", UNIT_BEFORE)
    op.drop_index("ix_open_task_stats", table_name="open_task")
    op.create_index("ix_open_task_stats", "open_task", STATS_COLUMNS)
    for statement in POSTGRESQL_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    op.drop_column("open_task", "unit_only")  # in place (SQLite 3.35+): batch mode would copy the table
