"""Movements as data: seeded from config/movements by seed-demo, chosen for each new nomination and
batch, and given to rows stored before the migration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.core.runtime import Runtime
from service.db.migrate import upgrade
from service.db.models import Batch, Movement, MovementUnit, Nomination
from service.db.session import Database
from service.usecases.batches import create_batch
from service.usecases.movements import copy_movement, shipped_movements
from service.usecases.nominations import create_draft
from tests.service.helpers import (
    ADMIN,
    DOST_OFFICER,
    HA_LEAD,
    HEAD,
    HIEN_NAM,
    STAFF,
    act,
    actor,
    assert_problem,
    complete,
    create_nomination,
    error_fields,
    migrate_to,
    open_task,
    submit,
    submitted_nomination,
)
from tests.workflows.conftest import draft_data

PLAN_FIRST_A = "Nội bộ đoàn kết, gương mẫu, chấp hành chủ trương của Đảng, chính sách, pháp luật của Nhà nước."


def the_2026_movement(runtime: Runtime) -> Movement:
    with runtime.read() as uow:
        movement = uow.session.scalars(select(Movement).where(Movement.year == 2026)).one()
        uow.session.expunge(movement)
        return movement


def test_seed_demo_stores_the_2026_movement_with_the_plans_criteria(runtime: Runtime) -> None:
    movement = the_2026_movement(runtime)
    assert movement.name == "Phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số"
    assert (movement.opens_on, movement.closes_on) == (date(2026, 1, 1), date(2026, 12, 31))
    assert [a["code"] for a in movement.awards] == ["bang_khen", "giay_khen"]
    kinds = {k["code"]: [c["code"] for c in k["criteria"]] for k in movement.nominee_kinds}
    assert kinds == {"co_quan_don_vi": [f"a{i}" for i in range(1, 10)], "mat_tran_to_chuc": ["b1", "b2", "b3"],
                     "doanh_nghiep": [f"c{i}" for i in range(1, 6)], "ca_nhan": ["d1", "d2"]}
    assert movement.nominee_kinds[0]["criteria"][0]["title"] == PLAN_FIRST_A
    assert [c["code"] for c in movement.contents] == [f"2.{i}" for i in range(1, 8)]
    with runtime.read() as uow:
        units = set(uow.session.scalars(select(MovementUnit.unit_id).where(MovementUnit.movement_id == movement.id)))
    assert HIEN_NAM in units and len(units) == 9


def test_a_new_nomination_and_batch_join_the_open_movement(runtime: Runtime) -> None:
    movement = the_2026_movement(runtime)
    nomination_id = create_draft(runtime, actor(runtime, STAFF), HIEN_NAM, draft_data())
    batch_id = create_batch(runtime, actor(runtime, HA_LEAD))
    with runtime.read() as uow:
        assert uow.session.get(Nomination, nomination_id).movement_id == movement.id
        assert uow.session.get(Batch, batch_id).movement_id == movement.id


def test_a_nomination_outside_the_window_or_the_movement_is_refused(runtime: Runtime) -> None:
    movement = the_2026_movement(runtime)
    with runtime.uow() as uow:
        uow.session.execute(text("UPDATE movement SET opens_on = :d"), {"d": date(2026, 6, 1)})
        uow.commit()
    with pytest.raises(InvalidInput, match="không có phong trào thi đua nào"):
        create_draft(runtime, actor(runtime, STAFF), HIEN_NAM, draft_data())
    with pytest.raises(InvalidInput, match="chỉ nhận hồ sơ từ 01/06/2026"):
        create_draft(runtime, actor(runtime, STAFF), HIEN_NAM, draft_data(), movement_id=movement.id)
    with runtime.uow() as uow:
        uow.session.execute(text("UPDATE movement SET opens_on = :d"), {"d": date(2026, 1, 1)})
        uow.session.execute(text("DELETE FROM movement_unit WHERE unit_id = :u"), {"u": HIEN_NAM})
        uow.commit()
    with pytest.raises(InvalidInput, match="không tham gia"):
        create_draft(runtime, actor(runtime, STAFF), HIEN_NAM, draft_data(), movement_id=movement.id)
    with runtime.read() as uow:
        assert uow.session.scalars(select(Nomination.id)).all() == []


def test_rows_stored_before_the_migration_join_the_shipped_movement_of_their_year(database_url: str,
                                                                                 tmp_path: Path) -> None:
    database = Database(database_url)
    try:
        migrate_to(database, "0007_instance_incident")
        created = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
        with database.engine.begin() as connection:
            connection.execute(text("INSERT INTO unit (id, name, kind) VALUES ('u1', 'Đơn vị 1', 'enterprise')"))
            connection.execute(text(
                "INSERT INTO user_account (id, username, full_name, email, password_hash, language, active, "
                "failed_logins, created_at) VALUES (1, 'a', 'A', 'a@x', 'x', 'vi', true, 0, :t)"), {"t": created})
            for nid in ("DN1", "DN2"):
                connection.execute(text(
                    "INSERT INTO nomination (id, unit_id, status, data, created_by, created_at, updated_at) "
                    "VALUES (:id, 'u1', 'draft', '{}', 1, :t, :t)"), {"id": nid, "t": created})
        upgrade(database)
        with database.engine.connect() as connection:
            movements = connection.execute(text("SELECT id, year FROM movement")).all()
            assert [year for _, year in movements] == [m["year"] for m in shipped_movements()]
            by_year = {year: mid for mid, year in movements}
            attached = connection.execute(text("SELECT DISTINCT movement_id FROM nomination")).scalars().all()
            assert attached == [by_year[2026]]
            assert connection.execute(text(
                "SELECT count(*) FROM movement_unit WHERE unit_id = 'u1'")).scalar() == 1
    finally:
        database.dispose()


def test_the_draft_form_takes_its_criteria_from_the_nominations_movement(runtime: Runtime, client, auth) -> None:
    """An admin's change to a movement's lists changes what its nominations accept: no form file involved."""
    movement = the_2026_movement(runtime)
    kinds = [dict(k) for k in movement.nominee_kinds]
    kinds[0] = {**kinds[0], "criteria": [*kinds[0]["criteria"], {"code": "a10", "title": "Mở dữ liệu cho dân."}]}
    kinds[0]["criteria"] = [c for c in kinds[0]["criteria"] if c["code"] != "a3"]
    with runtime.uow() as uow:
        uow.session.get(Movement, movement.id).nominee_kinds = kinds
        uow.commit()
    refused = client.post("/api/v1/nominations", headers=auth(STAFF),
                          json={"unit_id": HIEN_NAM, "data": draft_data() | {"criteria": ["a1", "a3"]}})
    assert_problem(refused, 422)
    assert error_fields(refused) == {"criteria.1"}
    nomination_id = create_nomination(client, auth, draft_data() | {"criteria": ["a1", "a10"]})
    assert submit(client, auth, nomination_id).status_code == 200
    # The DOST officer ticks from the same lists.
    act(client, auth, nomination_id, "unit_review", HEAD, {"decision": "submit", "submission_number": "1/TTr"})
    task = open_task(client, auth, nomination_id, "dost_review")
    response = complete(client, auth, DOST_OFFICER, task["id"], {"decision": "complete", "criteria_met": ["a3"]})
    assert_problem(response, 422)
    act(client, auth, nomination_id, "dost_review", DOST_OFFICER,
        {"decision": "complete", "criteria_met": ["a10"]})


def test_an_admin_copies_a_movement_for_next_year(runtime: Runtime) -> None:
    source = the_2026_movement(runtime)
    admin = actor(runtime, ADMIN)
    fields = dict(name=source.name, year=2027, plan_number="12/KH-UBND", plan_date=date(2027, 1, 20),
                  authority=source.authority, opens_on=date(2027, 1, 1), closes_on=date(2027, 12, 31))
    copy_id = copy_movement(runtime, admin, source.id, **fields)
    with runtime.read() as uow:
        copy = uow.session.get(Movement, copy_id)
        assert (copy.year, copy.copied_from, copy.plan_number) == (2027, source.id, "12/KH-UBND")
        assert copy.nominee_kinds == source.nominee_kinds and copy.awards == source.awards
        units = uow.session.scalars(select(MovementUnit.unit_id).where(MovementUnit.movement_id == copy_id)).all()
        assert len(units) == 9
    with pytest.raises(Conflict):
        copy_movement(runtime, admin, source.id, **fields)
    with pytest.raises(InvalidInput) as bad:
        copy_movement(runtime, admin, source.id, **(fields | {"year": 2028, "closes_on": date(2026, 12, 31)}))
    assert [e.path for e in bad.value.errors] == ["closes_on"]
    with pytest.raises(Forbidden):
        copy_movement(runtime, actor(runtime, STAFF), source.id, **(fields | {"year": 2029}))
    with pytest.raises(NotFound):
        copy_movement(runtime, admin, 999, **(fields | {"year": 2029}))


def test_lists_filter_by_movement(runtime: Runtime, client, auth) -> None:
    source = the_2026_movement(runtime)
    nomination_id = submitted_nomination(client, auth)
    later = copy_movement(runtime, actor(runtime, ADMIN), source.id, name=source.name, year=2027, plan_number="",
                          plan_date=None, authority=source.authority, opens_on=date(2027, 1, 1),
                          closes_on=date(2027, 12, 31))
    for movement_id, expected in ((source.id, [nomination_id]), (later, [])):
        listed = client.get(f"/api/v1/nominations?movement_id={movement_id}", headers=auth(ADMIN)).get_json()
        assert [n["id"] for n in listed] == expected
        assert all(n["movement_id"] == movement_id for n in listed)
        tasks = client.get(f"/api/v1/tasks?scope=all&movement_id={movement_id}", headers=auth(HEAD)).get_json()
        assert [t["nomination_id"] for t in tasks] == expected
