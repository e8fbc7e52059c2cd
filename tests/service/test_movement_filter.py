"""Every page and API call that filters by movement reads ?movement the same way: an id that is no
movement's answers 404, a value that is no id 400, both saying so; empty means all; never a silent "all"."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.models import Movement
from service.usecases.batches import create_batch
from service.usecases.movements import copy_movement
from tests.service.helpers import ADMIN, HA_LEAD, actor, assert_problem
from tests.service.test_statistics import log_in

PAGES = ("/inbox", "/nominations", "/statistics", "/statistics/export.xlsx", "/batches", "/so-dang-ky")
API = ("/api/v1/nominations?movement_id=", "/api/v1/tasks?scope=all&movement_id=", "/api/v1/rounds?movement_id=")
MALFORMED = ("abc", "-1", "1.5", "0", "１", "99999999999999999999")


def _movement_2026(runtime: Runtime) -> int:
    with runtime.read() as uow:
        return int(uow.session.scalars(select(Movement.id).where(Movement.year == 2026)).one())


@pytest.mark.parametrize("path", PAGES)
def test_pages_refuse_a_malformed_or_unknown_movement(client: FlaskClient, runtime: Runtime, path: str) -> None:
    log_in(client, ADMIN if path == "/so-dang-ky" else HA_LEAD)
    for value in MALFORMED:
        response = client.get(f"{path}?movement={value}")
        assert response.status_code == 400, (path, value)
        assert "Mã phong trào thi đua" in response.text and "không hợp lệ" in response.text
    response = client.get(f"{path}?movement=4242")
    assert response.status_code == 404 and "Không tìm thấy phong trào thi đua 4242" in response.text
    for good in ("", str(_movement_2026(runtime))):
        assert client.get(f"{path}?movement={good}").status_code == 200, (path, good)


@pytest.mark.parametrize("path", API)
def test_the_api_refuses_an_unknown_movement(client: FlaskClient, runtime: Runtime, auth, path: str) -> None:
    body = assert_problem(client.get(f"{path}4242", headers=auth(HA_LEAD)), 404)
    assert body["detail"] == "Không tìm thấy phong trào thi đua 4242"
    assert client.get(f"{path}abc", headers=auth(HA_LEAD)).status_code in (400, 422)
    assert client.get(f"{path}{_movement_2026(runtime)}", headers=auth(HA_LEAD)).status_code == 200


def test_the_batch_list_filters_by_movement(client: FlaskClient, runtime: Runtime) -> None:
    this_year = _movement_2026(runtime)
    batch_id = create_batch(runtime, actor(runtime, HA_LEAD), "Về việc tặng Bằng khen năm 2026")
    source = runtime.read
    with source() as uow:
        movement = uow.session.get(Movement, this_year)
        name, authority = movement.name, movement.authority
    next_year = copy_movement(runtime, actor(runtime, ADMIN), this_year, name=name, year=2027, plan_number="",
                              plan_date=None, authority=authority, opens_on=date(2027, 1, 1),
                              closes_on=date(2027, 12, 31))
    log_in(client, HA_LEAD)
    assert batch_id in client.get(f"/batches?movement={this_year}").text
    assert batch_id in client.get("/batches").text
    page = client.get(f"/batches?movement={next_year}").text
    assert batch_id not in page
    assert f'<option value="{next_year}" selected>' in page


def test_a_new_nomination_refuses_a_malformed_movement(client: FlaskClient, runtime: Runtime) -> None:
    from lxml import html

    from tests.service.helpers import STAFF

    log_in(client, STAFF)
    token = html.fromstring(client.get("/nominations/new").text).xpath("//input[@name='csrf_token']/@value")[0]
    form = {"csrf_token": token, "nominee_kind": "co_quan_don_vi", "award": "bang_khen",
            "nominee_name": "Ủy ban nhân dân phường Hiến Nam"}
    assert client.post("/nominations/new", data=form | {"movement_id": "abc"}).status_code == 400
    assert client.post("/nominations/new", data=form | {"movement_id": "4242"}).status_code == 404
    assert client.post("/nominations/new", data=form | {"movement_id": str(_movement_2026(runtime))}).status_code == 302
