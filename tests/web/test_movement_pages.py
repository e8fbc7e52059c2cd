"""/admin/movements: the list, next year's movement copied from a form, refusals shown beside fields;
the nominations list filtered by movement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import Movement

from .conftest import log_in


def test_an_admin_makes_next_years_movement_by_copying(app: Any, runtime: Runtime) -> None:
    client = app.test_client()
    token = log_in(client, "quantri")
    page = client.get("/admin/movements")
    assert page.status_code == 200
    assert "Phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số" in page.text
    assert 'value="2027"' in page.text  # next year proposed
    with runtime.read() as uow:
        source = uow.session.scalars(select(Movement.id).where(Movement.year == 2026)).one()
    form = {"csrf_token": token, "source_id": source, "name": "Chuyển đổi số toàn diện", "year": "2027",
            "authority": "Ủy ban nhân dân tỉnh Hưng Yên", "opens_on": "2027-02-01", "closes_on": "2027-01-01"}
    refused = client.post("/admin/movements/copy", data=form)
    assert refused.status_code == 422 and 'id="e-closes_on"' in refused.text
    done = client.post("/admin/movements/copy", data=form | {"closes_on": "2027-12-31", "plan_number": "5/KH-UBND"})
    assert done.status_code == 302
    shown = client.get(done.headers["Location"])
    assert "Chuyển đổi số toàn diện (2027)" in shown.text and "5/KH-UBND" in shown.text
    assert "Nội bộ đoàn kết, gương mẫu" in shown.text  # the criteria came along
    assert client.post("/admin/movements/copy", data=form | {"closes_on": "2027-12-31"}).status_code == 409
    staff = app.test_client()
    log_in(staff, "canbo.hiennam")
    assert staff.get("/admin/movements").status_code == 403


def test_the_nominations_list_filters_by_movement(app: Any, runtime: Runtime) -> None:
    client = app.test_client()
    log_in(client, "quantri")
    page = client.get("/nominations")
    assert '<select id="movement" name="movement">' in page.text
    assert client.get("/nominations?movement=1").status_code == 200
    assert client.get("/inbox?movement=1").status_code == 200


def test_with_two_movements_open_the_officer_chooses_one(app: Any, runtime: Runtime) -> None:
    from datetime import date

    from service.db.models import Nomination
    from service.usecases.movements import copy_movement

    from .conftest import actor_of

    with runtime.read() as uow:
        source = uow.session.scalars(select(Movement).where(Movement.year == 2026)).one()
        source_id, authority = source.id, source.authority
    other = copy_movement(runtime, actor_of(runtime, "quantri"), source_id, name="Dân vận khéo", year=2026,
                          plan_number="", plan_date=None, authority=authority, opens_on=date(2026, 1, 1),
                          closes_on=date(2026, 12, 31))
    client = app.test_client()
    token = log_in(client, "canbo.hiennam")
    page = client.get("/nominations/new")
    assert '<select id="movement_id" name="movement_id">' in page.text and "Dân vận khéo" in page.text
    done = client.post("/nominations/new", data={"csrf_token": token, "unit_id": "phuong-hien-nam",
                                                 "movement_id": str(other), "nominee_kind": "co_quan_don_vi",
                                                 "award": "bang_khen", "nominee_name": "UBND phường Hiến Nam"})
    assert done.status_code == 302
    with runtime.read() as uow:
        assert uow.session.scalars(select(Nomination.movement_id)).all() == [other]
    refused = client.post("/nominations/new", data={"csrf_token": token, "unit_id": "phuong-hien-nam",
                                                    "nominee_kind": "co_quan_don_vi", "award": "bang_khen"})
    assert refused.status_code == 422 and "hãy chọn một" in refused.text


def test_an_admin_edits_the_plan_a_movements_documents_cite(app: Any, runtime: Runtime) -> None:
    """Name, plan number, plan date (dd/mm/yyyy) and launching authority on the movement's page; a bad
    date is refused beside its field, in Vietnamese, and nothing is saved."""
    client = app.test_client()
    token = log_in(client, "quantri")
    with runtime.read() as uow:
        movement = uow.session.scalars(select(Movement).where(Movement.year == 2026)).one()
        movement_id, name, authority, version = movement.id, movement.name, movement.authority, movement.version
    page = client.get(f"/admin/movements/{movement_id}")
    assert page.status_code == 200 and 'name="plan_date"' in page.text and "Ngày ban hành kế hoạch" in page.text
    form = {"csrf_token": token, "version": str(version), "name": name, "authority": authority,
            "plan_number": "125/KH-UBND", "plan_date": "31/02/2026"}
    refused = client.post(f"/admin/movements/{movement_id}", data=form)
    assert refused.status_code == 422 and 'id="e-plan_date"' in refused.text
    assert "Ngày không hợp lệ: hãy nhập theo dạng ngày/tháng/năm" in refused.text
    assert 'value="31/02/2026"' in refused.text  # what was typed stays, to be corrected
    assert client.post(f"/admin/movements/{movement_id}", data=form | {"plan_date": "abc"}).status_code == 422
    done = client.post(f"/admin/movements/{movement_id}", data=form | {"plan_date": "05/05/2026"})
    assert done.status_code == 302
    shown = client.get(done.headers["Location"]).text
    assert "125/KH-UBND" in shown and 'value="05/05/2026"' in shown
    with runtime.read() as uow:
        saved = uow.session.get(Movement, movement_id)
        assert (saved.plan_number, saved.plan_date.isoformat(), saved.version) == ("125/KH-UBND", "2026-05-05",
                                                                                   version + 1)
    stale = client.post(f"/admin/movements/{movement_id}", data=form | {"plan_date": "06/05/2026"})
    assert stale.status_code == 409  # read at the older version: another admin's save is not overwritten
    assert client.post(f"/admin/movements/{movement_id}", data=form | {"version": str(version + 1), "name": ""}
                       ).status_code == 422
