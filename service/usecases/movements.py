"""Emulation movements (phong trào thi đua) as data: the shipped ones in config/movements/*.toml are
seeded by `nomflow seed-demo`; an admin makes next year's by copying one. Every nomination and batch
belongs to one movement, chosen when it is created."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from service.core.config import ROOT
from service.core.errors import Conflict, InvalidInput, NotFound
from service.core.runtime import Runtime
from service.db.lookups import movement_of
from service.db.models import Movement, MovementUnit, Nomination, Unit
from service.security.access import Actor, require_admin
from service.usecases.audit import audit
from workflows.contract import NOMINATION
from workflows.forms import FieldError

MOVEMENTS_DIR = ROOT / "config" / "movements"
# The columns a movement file fills; `units` (the taking-part unit ids) goes to movement_unit.
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


def seed_movements(session: Session, now: Any, directory: Path = MOVEMENTS_DIR) -> list[int]:
    """Insert each shipped movement not stored yet (same name and year); its units that exist take part."""
    created = []
    known_units = set(session.scalars(select(Unit.id)))
    for row in shipped_movements(directory):
        exists = session.scalars(select(Movement.id).where(Movement.name == row["name"],
                                                           Movement.year == row["year"])).first()
        if exists is not None:
            continue
        movement = Movement(**{name: row[name] for name in FIELDS}, created_at=now)
        session.add(movement)
        session.flush()
        session.add_all(MovementUnit(movement_id=movement.id, unit_id=unit_id)
                        for unit_id in row["units"] if unit_id in known_units)
        created.append(movement.id)
    return created


def takes_part(session: Session, movement_id: int, unit_id: str) -> bool:
    return session.get(MovementUnit, (movement_id, unit_id)) is not None


def movement_for_nomination(session: Session, unit_id: str, today: date, movement_id: int | None = None) -> Movement:
    """The movement a new nomination of `unit_id` joins: the one asked for, or else the only one that
    takes the unit's nominations today. Refused outside the window or for a unit not taking part."""
    if movement_id is not None:
        # The movement and whether the unit takes part, in one statement (every new draft asks).
        found = session.execute(select(Movement, MovementUnit.unit_id).outerjoin(MovementUnit, and_(
            MovementUnit.movement_id == Movement.id, MovementUnit.unit_id == unit_id))
            .where(Movement.id == movement_id)).first()
        if found is None:
            raise NotFound(f"Không tìm thấy phong trào thi đua {movement_id}")
        movement, taking_part = found
        if taking_part is None:
            raise InvalidInput(f"Đơn vị {unit_id} không tham gia phong trào thi đua “{movement.name}” năm "
                               f"{movement.year}")
        if not movement.opens_on <= today <= movement.closes_on:
            raise InvalidInput(f"Phong trào thi đua “{movement.name}” năm {movement.year} chỉ nhận hồ sơ từ "
                               f"{movement.opens_on:%d/%m/%Y} đến {movement.closes_on:%d/%m/%Y}")
        return movement
    open_now = list(session.scalars(
        select(Movement).join(MovementUnit, MovementUnit.movement_id == Movement.id)
        .where(MovementUnit.unit_id == unit_id, Movement.opens_on <= today, Movement.closes_on >= today)
        .order_by(Movement.year.desc(), Movement.id.desc())))
    if not open_now:
        raise InvalidInput(f"Hôm nay ({today:%d/%m/%Y}) không có phong trào thi đua nào mà đơn vị {unit_id} "
                           "tham gia đang nhận hồ sơ")
    if len(open_now) > 1:
        names = "; ".join(f"{m.id}: {m.name} ({m.year})" for m in open_now)
        raise InvalidInput(f"Có nhiều phong trào thi đua đang nhận hồ sơ, hãy chọn một (movement_id): {names}")
    return open_now[0]


def movement_for_batch(session: Session, today: date, movement_id: int | None = None) -> Movement:
    """A batch gathers one movement's nominations: the one asked for, or else the only one whose
    window holds today, or else the latest one (a batch is often signed after the window closed)."""
    if movement_id is not None:
        return movement_of(session, movement_id)
    open_now = list(session.scalars(select(Movement).where(Movement.opens_on <= today,
                                                           Movement.closes_on >= today)))
    if len(open_now) == 1:
        return open_now[0]
    if len(open_now) > 1:
        names = "; ".join(f"{m.id}: {m.name} ({m.year})" for m in open_now)
        raise InvalidInput(f"Có nhiều phong trào thi đua đang diễn ra, hãy chọn một (movement_id): {names}")
    latest = session.scalars(select(Movement).order_by(Movement.closes_on.desc(), Movement.id.desc())).first()
    if latest is None:
        raise InvalidInput("Chưa có phong trào thi đua nào")
    return latest


def copy_movement(runtime: Runtime, actor: Actor, source_id: int, *, name: str, year: int, plan_number: str,
                  plan_date: date | None, authority: str, opens_on: date, closes_on: date) -> int:
    """Next year's movement: a copy of `source_id` (awards, kinds and their criteria, contents, units)
    under the given name, year, plan and window. Admins only; the copy is audited."""
    require_admin(actor)
    problems = []
    if not name.strip():
        problems.append(FieldError("name", "Trường này là bắt buộc"))
    if not authority.strip():
        problems.append(FieldError("authority", "Trường này là bắt buộc"))
    if closes_on < opens_on:
        problems.append(FieldError("closes_on", "Ngày kết thúc phải sau ngày bắt đầu nhận hồ sơ"))
    if problems:
        raise InvalidInput("Dữ liệu phong trào thi đua không hợp lệ", problems)
    with runtime.uow() as uow:
        session = uow.session
        source = movement_of(session, source_id)
        taken = session.scalars(select(Movement.id).where(Movement.name == name.strip(), Movement.year == year)).first()
        if taken is not None:
            raise Conflict(f"Đã có phong trào thi đua “{name.strip()}” năm {year} (movement exists)")
        copy = Movement(name=name.strip(), year=year, plan_number=plan_number.strip(), plan_date=plan_date,
                        authority=authority.strip(), awards=list(source.awards),
                        nominee_kinds=list(source.nominee_kinds), contents=list(source.contents),
                        opens_on=opens_on, closes_on=closes_on, copied_from=source.id, created_by=actor.user_id,
                        created_at=runtime.clock.now())
        session.add(copy)
        session.flush()
        units = session.scalars(select(MovementUnit.unit_id).where(MovementUnit.movement_id == source.id)).all()
        session.add_all(MovementUnit(movement_id=copy.id, unit_id=unit_id) for unit_id in units)
        audit(session, runtime, "movement_copied", actor_id=actor.user_id, movement_id=copy.id,
              copied_from=source.id, year=year)
        uow.commit()
        return copy.id


def join_open_movements(session: Session, unit_id: str, today: date) -> list[int]:
    """A unit created while movements still take nominations joins them (the plan calls on every agency,
    commune, ward and enterprise); an admin may take it out of one again."""
    open_ids = list(session.scalars(select(Movement.id).where(Movement.closes_on >= today).order_by(Movement.id)))
    session.add_all(MovementUnit(movement_id=movement_id, unit_id=unit_id) for movement_id in open_ids)
    return open_ids


def process_for_award(movement: Movement, award: Any) -> str:
    """The process a nomination for `award` runs: the one its movement's award kind names (a Giấy khen is
    decided inside the unit), else the province's nomination process."""
    found = next((a for a in movement.awards if isinstance(a, dict) and a.get("code") == award), None)
    return str(found.get("process") or NOMINATION) if found is not None else NOMINATION


def check_same_process(session: Session, nomination: Nomination, data: dict[str, Any]) -> None:
    """The award kind chose the process the nomination runs; another kind with another process would
    leave it on the wrong path (a Bằng khen decided inside the unit), so it takes a new nomination."""
    if "award" not in data or data["award"] == nomination.award:
        return
    movement = movement_of(session, nomination.movement_id)
    if process_for_award(movement, data["award"]) != process_for_award(movement, nomination.award):
        raise InvalidInput("Hình thức khen thưởng này theo một quy trình khác (Giấy khen do thủ trưởng đơn vị "
                           "quyết định, Bằng khen trình lên tỉnh): hãy lập hồ sơ mới với hình thức đó")
