"""A unit's report is received by DOST or Home Affairs (plan IV.5.1 and 6.1): the review lane is a desk
worked by the `review_reports` capability (config/roles.toml), not one role's; over HTTP, on SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from service.db.models import OutboxMail, User
from tests.service.helpers import (
    DOST_OFFICER,
    HA_LEAD,
    HA_OFFICER,
    HEAD,
    HIEN_NAM,
    OTHER_HEAD,
    OTHER_STAFF,
    STAFF,
    TAI_CHINH,
    complete,
    user_id,
)
from tests.service.test_reporting_rounds import board, open_round, report, send_up
from workflows.settings import RoleCatalog, SettingsError


def test_home_affairs_accepts_and_dost_returns_a_units_report(client, auth, runtime) -> None:
    round_id = open_round(client, auth, units=(HIEN_NAM, TAI_CHINH))
    send_up(client, auth, round_id)
    send_up(client, auth, round_id, TAI_CHINH, OTHER_STAFF, OTHER_HEAD)
    [hien_nam] = report(client, auth, round_id, user=HA_OFFICER)["tasks"]
    [tai_chinh] = report(client, auth, round_id, TAI_CHINH, user=DOST_OFFICER)["tasks"]
    assert hien_nam["role"] == tai_chinh["role"] == "report_reviewer"

    # Both departments find the reports in their queue; the units do not.
    for user in (HA_OFFICER, HA_LEAD, DOST_OFFICER):
        queue = client.get("/api/v1/tasks?scope=queue", headers=auth(user)).get_json()
        assert {hien_nam["id"], tai_chinh["id"]} <= {t["id"] for t in queue}, user
    for user in (STAFF, HEAD):
        assert complete(client, auth, user, hien_nam["id"], {"decision": "accept"}).status_code == 403

    assert complete(client, auth, HA_OFFICER, hien_nam["id"], {"decision": "accept"}).status_code == 200
    response = complete(client, auth, DOST_OFFICER, tai_chinh["id"],
                        {"decision": "return", "reason": "Bổ sung số liệu nội dung 2.6"})
    assert response.status_code == 200
    rows = board(client, auth, round_id, user=HA_OFFICER)
    assert (rows[HIEN_NAM]["status"], rows[TAI_CHINH]["status"]) == ("accepted", "returned")

    # The report reaching the desk was announced to the people of both departments.
    with runtime.read() as uow:
        mailed = set(uow.session.scalars(select(User.username).join(OutboxMail, OutboxMail.to_user_id == User.id)
                                         .where(OutboxMail.subject.contains("Tiếp nhận, kiểm tra báo cáo"))))
    assert {DOST_OFFICER, HA_OFFICER} <= mailed, mailed


def test_home_affairs_hands_a_report_over_to_dost(client, auth, runtime) -> None:
    round_id = open_round(client, auth, units=(HIEN_NAM,))
    send_up(client, auth, round_id)
    [review] = report(client, auth, round_id, user=HA_OFFICER)["tasks"]
    assert client.post(f"/api/v1/tasks/{review['id']}/claim", headers=auth(HA_OFFICER)).status_code == 204
    response = client.post(f"/api/v1/tasks/{review['id']}/reassign", headers=auth(HA_OFFICER),
                           json={"user_id": user_id(runtime, DOST_OFFICER)})
    assert response.status_code in (200, 204), response.get_json()
    response = client.post(f"/api/v1/tasks/{review['id']}/reassign", headers=auth(DOST_OFFICER),
                           json={"user_id": user_id(runtime, STAFF)})
    assert response.status_code == 422  # a unit's own staff never receive its report
    assert complete(client, auth, DOST_OFFICER, review["id"], {"decision": "accept"}).status_code == 200


def test_a_desk_must_name_a_known_capability(tmp_path: Path) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text('[roles.desk]\ntitle_vi = "Bàn"\ntitle_en = "Desk"\nworked_by = "no_such"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="worked_by"):
        RoleCatalog.from_toml(roles)
    shipped = RoleCatalog.default()
    assert set(shipped.holders("report_reviewer")) == {"report_reviewer", "dost_officer", "dost_lead",
                                                       "home_affairs_officer", "home_affairs_lead"}
    assert shipped.holders("unit_head") == ("unit_head",)
