"""Movements as data (issue 15): the movement table, the units taking part, and a movement on every
nomination and batch.

Rows stored before this revision belong to a shipped movement (config/movements/*.toml), which is
seeded here when such rows exist: the one of the row's creation year, else the latest one.

Revision ID: 0010_movement
Revises: 0008_open_task_stage
"""
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import service.db.models

revision = "0010_movement"
down_revision = "0008_open_task_stage"
branch_labels = None
depends_on = None

UtcDateTime = service.db.models.UtcDateTime
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
MOVEMENTS_DIR = Path(__file__).resolve().parents[3] / "config" / "movements"
# The movement columns as this revision creates them: frozen here, so that a later change to the
# movement files' reader (new columns, new rules) never changes what this revision did.
FIELDS = ("name", "year", "plan_number", "plan_date", "authority", "awards", "nominee_kinds", "contents",
          "opens_on", "closes_on")


def shipped_movements(directory: Path = MOVEMENTS_DIR) -> list[dict[str, Any]]:
    """Each movement file as {column: value, ..., "units": [unit ids]}, oldest year first."""
    found = []
    for path in sorted(directory.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        row = {name: data.get(name) for name in FIELDS}
        row["plan_number"] = row["plan_number"] or ""
        row["contents"] = row["contents"] or []
        row["units"] = list(data.get("units", []))
        found.append(row)
    return sorted(found, key=lambda row: row["year"])


def upgrade() -> None:
    op.create_table(
        "movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("plan_number", sa.String(length=50), nullable=False),
        sa.Column("plan_date", sa.Date(), nullable=True),
        sa.Column("authority", sa.String(length=300), nullable=False),
        sa.Column("awards", sa.JSON(), nullable=False),
        sa.Column("nominee_kinds", sa.JSON(), nullable=False),
        sa.Column("contents", sa.JSON(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("copied_from", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["copied_from"], ["movement.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "year", name="uq_movement_name_year"),
    )
    op.create_index("ix_movement_year", "movement", ["year"])
    op.create_table(
        "movement_unit",
        sa.Column("movement_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["movement_id"], ["movement.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("movement_id", "unit_id"),
    )
    for table in ("nomination", "batch"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("movement_id", sa.Integer(), nullable=True))
    _attach_existing_rows()
    for table in ("nomination", "batch"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("movement_id", existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(f"fk_{table}_movement", "movement", ["movement_id"], ["id"])
        op.create_index(f"ix_{table}_movement_id", table, ["movement_id"])


def _attach_existing_rows() -> None:
    connection = op.get_bind()
    has_rows = any(connection.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first()
                   for table in ("nomination", "batch"))
    if not has_rows:
        return
    json_columns = {"awards", "nominee_kinds", "contents"}
    units = {row[0] for row in connection.execute(sa.text("SELECT id FROM unit"))}
    by_year: dict[int, int] = {}
    for row in shipped_movements():
        values = {k: v for k, v in row.items() if k != "units"} | {"created_at": datetime.now(UTC)}
        movement = sa.table("movement", sa.column("id"), *(
            sa.column(k, sa.JSON() if k in json_columns else UtcDateTime() if k == "created_at" else None)
            for k in values))
        movement_id = connection.execute(sa.insert(movement).values(**values).returning(movement.c.id)).scalar_one()
        by_year[row["year"]] = movement_id
        for unit_id in row["units"]:
            if unit_id in units:
                connection.execute(sa.text("INSERT INTO movement_unit (movement_id, unit_id) VALUES (:m, :u)"),
                                   {"m": movement_id, "u": unit_id})
    if not by_year:
        raise RuntimeError("nominations exist but config/movements/ holds no movement to attach them to")
    for table_name in ("nomination", "batch"):
        table = sa.table(table_name, sa.column("movement_id"), sa.column("created_at", UtcDateTime()))
        for year, movement_id in by_year.items():
            # The year as people there count it: from local midnight on 1 January.
            starts, ends = datetime(year, 1, 1, tzinfo=LOCAL), datetime(year + 1, 1, 1, tzinfo=LOCAL)
            connection.execute(sa.update(table).where(table.c.created_at >= starts, table.c.created_at < ends)
                               .values(movement_id=movement_id))
        connection.execute(sa.update(table).where(table.c.movement_id.is_(None))
                           .values(movement_id=by_year[max(by_year)]))
    # A unit with nominations takes part in the movement its nominations were attached to.
    connection.execute(sa.text(
        "INSERT INTO movement_unit (movement_id, unit_id) SELECT DISTINCT n.movement_id, n.unit_id "
        "FROM nomination n WHERE NOT EXISTS (SELECT 1 FROM movement_unit mu "
        "WHERE mu.movement_id = n.movement_id AND mu.unit_id = n.unit_id)"))


def downgrade() -> None:
    for table in ("batch", "nomination"):
        op.drop_index(f"ix_{table}_movement_id", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_movement", type_="foreignkey")
            batch.drop_column("movement_id")
    op.drop_table("movement_unit")
    op.drop_index("ix_movement_year", table_name="movement")
    op.drop_table("movement")
