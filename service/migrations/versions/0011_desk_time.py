"""Desk times and statistics indexes (issue 15): one row per completed human task with its time at the desk in working days,
filled here from the audit trail (each task_completed paired with the task_opened before it on the
same instance and task) and written with every completion from now on.

Revision ID: 0011_desk_time
Revises: 0010_movement
"""
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import service.db.models
from workflows.calendar import WorkingCalendar

revision = "0011_desk_time"
down_revision = "0010_movement"
branch_labels = None
depends_on = None

UtcDateTime = service.db.models.UtcDateTime
BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "desk_time",
        sa.Column("task_uuid", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("nomination_id", sa.String(length=32), nullable=True),
        sa.Column("batch_id", sa.String(length=32), nullable=True),
        sa.Column("movement_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("due_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("task_uuid"),
    )
    op.create_index("ix_desk_time_movement_role", "desk_time", ["movement_id", "role", "working_days"])
    # The statistics page's GROUP BYs over nominations read these indexes only.
    op.create_index("ix_nomination_stats_unit", "nomination", ["movement_id", "unit_id", "status", "award"])
    op.create_index("ix_nomination_stats_kind", "nomination", ["movement_id", "nominee_kind", "award", "status"])
    _fill_from_audit_trail()


def _fill_from_audit_trail() -> None:
    connection = op.get_bind()
    calendar = WorkingCalendar.default()
    local = ZoneInfo(calendar.timezone)
    nominations = {nid: (movement_id, unit_id) for nid, movement_id, unit_id in connection.execute(
        sa.text("SELECT id, movement_id, unit_id FROM nomination"))}
    batches = {instance_id: (bid, movement_id) for bid, instance_id, movement_id in connection.execute(
        sa.text("SELECT id, instance_id, movement_id FROM batch"))}
    audit = sa.table("audit_event", sa.column("id"), sa.column("at", UtcDateTime()), sa.column("actor_id"),
                     sa.column("nomination_id"), sa.column("instance_id"), sa.column("kind"),
                     sa.column("detail", sa.JSON()))
    desk_time = sa.table("desk_time", *(sa.column(c) for c in (
        "task_uuid", "instance_id", "nomination_id", "batch_id", "movement_id", "unit_id", "role", "stage",
        "actor_id", "working_days")), *(sa.column(c, UtcDateTime()) for c in ("opened_at", "completed_at", "due_at")))
    opened: dict[tuple[str, str], tuple[Any, str, Any]] = {}
    rows: list[dict[str, Any]] = []
    events = connection.execute(sa.select(audit).where(audit.c.kind.in_(["task_opened", "task_completed"]))
                                .order_by(audit.c.id).execution_options(yield_per=BATCH))
    for event in events:
        detail = event.detail or {}
        key = (event.instance_id, str(detail.get("task")))
        if event.kind == "task_opened":
            opened[key] = (event.at, str(detail.get("role") or ""), detail.get("due_at"))
            continue
        start = opened.pop(key, None)
        if start is None or not detail.get("task_uuid"):
            continue  # opened before the audit trail began: no time to tell
        movement_id, unit_id = nominations.get(event.nomination_id, (None, None))
        batch_id, batch_movement = batches.get(event.instance_id, (None, None))
        due = datetime.fromisoformat(start[2]) if start[2] else None
        rows.append({"task_uuid": detail["task_uuid"], "instance_id": event.instance_id,
                     "nomination_id": event.nomination_id, "batch_id": batch_id,
                     "movement_id": movement_id or batch_movement, "unit_id": unit_id, "role": start[1],
                     "stage": None, "actor_id": event.actor_id, "opened_at": start[0], "completed_at": event.at,
                     "due_at": due, "working_days": calendar.working_days_between(
                         start[0].astimezone(local).date(), event.at.astimezone(local).date())})
        if len(rows) >= BATCH:
            connection.execute(sa.insert(desk_time), rows)
            rows.clear()
    if rows:
        connection.execute(sa.insert(desk_time), rows)


def downgrade() -> None:
    op.drop_index("ix_nomination_stats_kind", table_name="nomination")
    op.drop_index("ix_nomination_stats_unit", table_name="nomination")
    op.drop_index("ix_desk_time_movement_role", table_name="desk_time")
    op.drop_table("desk_time")
