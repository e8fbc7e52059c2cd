"""Plain helpers for the API tests: drive nominations over HTTP with the demo users."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from service.core.runtime import Runtime
from service.db.models import User
from service.usecases.accounts import actor_for_user
from tests.workflows.conftest import draft_data

Auth = Callable[[str], dict[str, str]]
HIEN_NAM = "phuong-hien-nam"
TAI_CHINH = "so-tai-chinh"

# Demo users (config/demo.toml) by what they do.
STAFF = "canbo.hiennam"
HEAD = "chutich.hiennam"
OTHER_STAFF = "canbo.taichinh"
OTHER_HEAD = "giamdoc.taichinh"
DOST_OFFICER = "chuyenvien.khcn"
DOST_LEAD = "lanhdao.khcn"
HA_OFFICER = "chuyenvien.noivu"
HA_LEAD = "lanhdao.noivu"
CHAIRMAN = "chutich.tinh"
ADMIN = "quantri"

# Who completes each stage of the nomination path, and with what (tasks are found by the stage their
# diagram declares, as the service finds them, never by element id).
TO_DECISION: list[tuple[str, str, dict[str, Any]]] = [
    ("unit_review", HEAD, {"decision": "submit", "submission_number": "12/TTr-UBND"}),
    ("dost_review", DOST_OFFICER, {"decision": "complete", "criteria_met": ["a1", "a3"]}),
    ("dost_selection", DOST_LEAD, {"decision": "select"}),
    ("home_affairs_review", HA_OFFICER, {"decision": "complete"}),
    ("home_affairs_appraisal", HA_OFFICER, {"decision": "propose",
                                           "appraisal_opinion": "Đủ điều kiện đề nghị tặng Bằng khen."}),
]


def user_id(runtime: Runtime, username: str) -> int:
    with runtime.uow() as uow:
        return int(uow.session.scalars(select(User.id).where(User.username == username)).one())


def actor(runtime: Runtime, username: str) -> Any:
    found = actor_for_user(runtime, user_id(runtime, username))
    assert found is not None
    return found[0]


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["status"] == status
    return dict(body)


def error_fields(response: TestResponse) -> set[str]:
    return {e["field"] for e in response.get_json()["errors"]}


def create_nomination(client: FlaskClient, auth: Auth, data: dict[str, Any] | None = None,
                      staff: str = STAFF, unit_id: str = HIEN_NAM) -> str:
    response = client.post("/api/v1/nominations", headers=auth(staff),
                           json={"unit_id": unit_id, "data": draft_data() if data is None else data})
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def submit(client: FlaskClient, auth: Auth, nomination_id: str, staff: str = STAFF) -> TestResponse:
    return client.post(f"/api/v1/nominations/{nomination_id}/submit", headers=auth(staff), json={"data": {}})


def detail(client: FlaskClient, auth: Auth, nomination_id: str, user: str = ADMIN) -> dict[str, Any]:
    response = client.get(f"/api/v1/nominations/{nomination_id}", headers=auth(user))
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def open_task(client: FlaskClient, auth: Auth, nomination_id: str, stage: str) -> dict[str, Any]:
    tasks = [t for t in detail(client, auth, nomination_id)["tasks"] if t["stage"] == stage]
    assert tasks, f"no task of stage {stage} is open on {nomination_id}"
    return dict(tasks[0])


def complete(client: FlaskClient, auth: Auth, user: str, task_uuid: str, data: dict[str, Any],
             version: int | None = None) -> TestResponse:
    body: dict[str, Any] = {"data": data}
    if version is not None:
        body["version"] = version
    return client.post(f"/api/v1/tasks/{task_uuid}/complete", headers=auth(user), json=body)


def act(client: FlaskClient, auth: Auth, nomination_id: str, stage: str, user: str,
        data: dict[str, Any]) -> dict[str, Any]:
    response = complete(client, auth, user, open_task(client, auth, nomination_id, stage)["id"], data)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def submitted_nomination(client: FlaskClient, auth: Auth, **kwargs: Any) -> str:
    """A nomination waiting for its unit head's review."""
    nomination_id = create_nomination(client, auth, **kwargs)
    response = submit(client, auth, nomination_id, staff=kwargs.get("staff", STAFF))
    assert response.status_code == 200, response.get_json()
    return nomination_id


def drive(client: FlaskClient, auth: Auth, nomination_id: str, until: str | None = None) -> None:
    """Completes the path's stages in order, stopping before `until` (default: to awaiting_decision)."""
    for stage, user, data in TO_DECISION:
        if stage == until:
            return
        act(client, auth, nomination_id, stage, user, data)


def awaiting_decision(client: FlaskClient, auth: Auth, **kwargs: Any) -> str:
    nomination_id = submitted_nomination(client, auth, **kwargs)
    drive(client, auth, nomination_id)
    assert detail(client, auth, nomination_id)["status"] == "awaiting_decision"
    return nomination_id


def migrate_to(database: Any, revision: str) -> None:
    """An empty database brought to an older schema revision, to store rows as they were then."""
    from alembic import command

    from service.db.migrate import alembic_config

    config = alembic_config(database)
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def giay_khen_on_the_nomination_path(runtime: Runtime) -> None:
    """For tests of the nomination diagram's own Giấy khen branch (the unit head's review ends it): the
    movements name no process for the Giấy khen, as a movement's data may, so it runs that diagram
    instead of the unit's own process (tests/service/test_unit_award.py covers that one)."""
    from service.db.models import Movement

    with runtime.uow() as uow:
        for movement in uow.session.scalars(select(Movement)):
            movement.awards = [{k: v for k, v in a.items() if k != "process"} for a in movement.awards]
        uow.commit()
