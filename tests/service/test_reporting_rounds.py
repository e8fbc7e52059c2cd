"""Reporting rounds over HTTP, on SQLite and PostgreSQL: DOST opens a results round, units fill and
send their reports (figures of the plan's contents II.2.1-2.7 + the signed file), the unit head
approves, DOST accepts or returns; the follow-up board, the urging mail, the Excel export and the
province summary. Time moves with the injected clock."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from typing import Any

from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from service.db.models import OutboxMail, UnitReport
from tests.service.helpers import (
    DOST_OFFICER,
    HA_OFFICER,
    HEAD,
    HIEN_NAM,
    OTHER_HEAD,
    OTHER_STAFF,
    STAFF,
    TAI_CHINH,
    assert_problem,
    awaiting_decision,
    complete,
    detail,
    error_fields,
)

VN = timezone(timedelta(hours=7))
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NGHIA_TRU = "xa-nghia-tru"  # a unit left out of the round


def figures(**overrides: int) -> dict[str, Any]:
    values = {"c2_1_initiatives": 3, "c2_2_infrastructure": 2, "c2_3_online_services": 40,
              "c2_3_processes_digitised": 12, "c2_4_enterprises_supported": 5, "c2_5_people_trained": 1200,
              "c2_6_incidents_handled": 4, "c2_7_cooperation": 1, **overrides}
    return {k: {"value": v, "note": "Theo số liệu của đơn vị"} for k, v in values.items()}


def open_round(client, auth, units=(HIEN_NAM, TAI_CHINH), days: int = 5, user: str = DOST_OFFICER) -> str:
    response = client.post("/api/v1/rounds", headers=auth(user), json={
        "kind": "results", "title": "Báo cáo kết quả năm 2026", "year": 2026, "working_days": days,
        "unit_ids": list(units)})
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def report(client, auth, round_id: str, unit: str = HIEN_NAM, user: str = STAFF) -> dict[str, Any]:
    response = client.get(f"/api/v1/rounds/{round_id}/units/{unit}", headers=auth(user))
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def save(client, auth, round_id: str, data: dict[str, Any], version: int, unit: str = HIEN_NAM, user: str = STAFF):
    return client.put(f"/api/v1/rounds/{round_id}/units/{unit}", headers=auth(user),
                      json={"data": data, "version": version})


def upload(client, auth, round_id: str, name: str = "bao-cao.pdf", content: bytes = PDF, unit: str = HIEN_NAM,
           user: str = STAFF):
    return client.post(f"/api/v1/rounds/{round_id}/units/{unit}/file", headers=auth(user),
                       data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def send_up(client, auth, round_id: str, unit: str = HIEN_NAM, staff: str = STAFF, head: str = HEAD) -> None:
    """Fill, attach, submit, and have the unit head approve."""
    version = report(client, auth, round_id, unit, staff)["version"]
    response = save(client, auth, round_id, figures(), version, unit, staff)
    assert response.status_code == 200, response.get_json()
    assert upload(client, auth, round_id, unit=unit, user=staff).status_code == 200
    version = report(client, auth, round_id, unit, staff)["version"]
    response = client.post(f"/api/v1/rounds/{round_id}/units/{unit}/submit", headers=auth(staff),
                           json={"version": version})
    assert response.status_code == 200, response.get_json()
    [task] = report(client, auth, round_id, unit, head)["tasks"]
    assert task["role"] == "unit_head"
    assert complete(client, auth, head, task["id"], {"decision": "approve"}).status_code == 200


def board(client, auth, round_id: str, user: str = DOST_OFFICER) -> dict[str, dict[str, Any]]:
    response = client.get(f"/api/v1/rounds/{round_id}/board", headers=auth(user))
    assert response.status_code == 200, response.get_json()
    return {row["unit_id"]: row for row in response.get_json()}


def test_a_results_round_from_opening_to_the_province_summary(client, auth, clock, runtime, pki):
    round_id = open_round(client, auth)  # Monday 13/4/2026 09:00, due in 5 working days: Monday 20/4 17:00
    rows = board(client, auth, round_id)
    assert set(rows) == {HIEN_NAM, TAI_CHINH}
    assert {r["status"] for r in rows.values()} == {"not_started"}
    mine = report(client, auth, round_id)
    assert mine["round"]["due_at"].startswith("2026-04-20T10:00:00")  # 17:00 in Hà Nội
    [fill] = mine["tasks"]
    assert fill["role"] == "unit_staff" and fill["form"] == "unit_report_fill.schema.json"

    send_up(client, auth, round_id)
    assert board(client, auth, round_id)[HIEN_NAM]["status"] == "submitted"
    [review] = report(client, auth, round_id, user=DOST_OFFICER)["tasks"]
    assert review["role"] == "report_reviewer"
    assert complete(client, auth, DOST_OFFICER, review["id"], {"decision": "accept"}).status_code == 200
    rows = board(client, auth, round_id, user=HA_OFFICER)  # Home Affairs follows the round too
    assert rows[HIEN_NAM]["status"] == "accepted" and rows[HIEN_NAM]["days_late"] == 0
    assert rows[HIEN_NAM]["late_submission"] is False

    # Past the due date: Tài chính has sent nothing and is late; one click urges it.
    clock.set(datetime(2026, 4, 22, 9, 0, tzinfo=VN))  # Wednesday: 2 working days after the due day
    rows = board(client, auth, round_id)
    assert rows[TAI_CHINH]["status"] == "late" and rows[TAI_CHINH]["days_late"] == 2
    response = client.post(f"/api/v1/rounds/{round_id}/urge", headers=auth(DOST_OFFICER))
    assert response.status_code == 200 and response.get_json() == {"urged": 1}
    with runtime.uow() as uow:
        mails = uow.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        urging = [m for m in mails if m.subject.startswith("[nomflow] Đôn đốc nộp báo cáo")]
    assert sorted(m.to_addr for m in urging) == sorted(_emails(runtime, OTHER_STAFF, OTHER_HEAD))
    assert "đã chậm 2 ngày làm việc" in urging[0].body_text
    assert board(client, auth, round_id)[TAI_CHINH]["last_reminder_at"] is not None

    # Sent after the round closed: accepted all the same, and marked late.
    send_up(client, auth, round_id, TAI_CHINH, OTHER_STAFF, OTHER_HEAD)
    [review] = report(client, auth, round_id, TAI_CHINH, DOST_OFFICER)["tasks"]
    assert complete(client, auth, DOST_OFFICER, review["id"], {"decision": "accept"}).status_code == 200
    rows = board(client, auth, round_id)
    assert rows[TAI_CHINH]["status"] == "accepted" and rows[TAI_CHINH]["late_submission"] is True
    assert rows[TAI_CHINH]["days_late"] == 2

    # The Excel export holds the board's rows, numbers as numbers.
    response = client.get(f"/api/v1/rounds/{round_id}/board.xlsx", headers=auth(DOST_OFFICER))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:5] == ("Mã đơn vị", "Đơn vị", "Loại đơn vị", "Tình trạng", "Số ngày chậm")
    by_unit = {row[0]: row for row in values[1:]}
    assert by_unit[TAI_CHINH][3] == "Đã tiếp nhận" and by_unit[TAI_CHINH][4] == 2 and by_unit[TAI_CHINH][5] == "Có"
    assert sheet.freeze_panes == "A2"

    # The province summary: totals per content from the two accepted reports, and the movement's awards.
    awarded = awarded_nomination(client, auth, runtime, pki)
    response = client.get(f"/api/v1/rounds/{round_id}/summary.docx", headers=auth(DOST_OFFICER))
    assert response.status_code == 200
    text = _docx_text(response.data)
    assert "BÁO CÁO" in text
    assert "Đến nay đã tiếp nhận 2/2 báo cáo, trong đó 1 báo cáo gửi chậm" in text
    # Contents under the movement's own titles (config/movements), figures summed over the reports.
    assert "2.5. Thi đua phát triển xã hội số | Lượt người được đào tạo kỹ năng số | 2.400" in text
    assert ("công tác quản lý, điều hành của các cơ quan nhà nước | Dịch vụ công trực tuyến toàn trình | 80\n"
            " | Quy trình nghiệp vụ nội bộ được số hóa | 24") in text
    assert "Cơ quan, đơn vị cấp tỉnh | 1 | 3 | 40 | 1.200" in text
    assert "Phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số" in text  # the movement's name
    assert "đã tặng Bằng khen cho 1 tập thể, cá nhân tiêu biểu" in text
    assert f"1. {awarded} (Ủy ban nhân dân phường Hiến Nam) – Bằng khen của Chủ tịch UBND tỉnh." in text


def test_bad_input_changes_nothing(client, auth, runtime):
    round_id = open_round(client, auth)
    version = report(client, auth, round_id)["version"]

    response = save(client, auth, round_id, figures(c2_5_people_trained=-3), version)
    assert_problem(response, 422)
    assert {"field": "c2_5_people_trained.value", "message": "Giá trị nhỏ nhất là 0"} in response.get_json()["errors"]
    response = save(client, auth, round_id, {**figures(), "c2_1_initiatives": {"value": "ba"}}, version)
    assert_problem(response, 422)
    assert {"field": "c2_1_initiatives.value", "message": "Kiểu dữ liệu không hợp lệ (cần: số nguyên)"} \
        in response.get_json()["errors"]
    assert report(client, auth, round_id)["data"] == {}

    # Two people editing one report: the second save, made on the version both read, is refused.
    assert save(client, auth, round_id, figures(), version).status_code == 200
    problem = assert_problem(save(client, auth, round_id, figures(c2_1_initiatives=9), version), 409)
    assert "người khác sửa" in problem["detail"]
    assert report(client, auth, round_id)["data"]["c2_1_initiatives"]["value"] == 3

    # Wrong file types: a name the service does not take, and content that is not what its name says.
    assert_problem(upload(client, auth, round_id, name="bao-cao.exe", content=b"MZ..."), 422)
    assert_problem(upload(client, auth, round_id, name="bao-cao.pdf", content=b"PK\x03\x04 not a pdf"), 422)
    assert report(client, auth, round_id)["file"] is None
    # Sending up without the signed file is refused too.
    version = report(client, auth, round_id)["version"]
    response = client.post(f"/api/v1/rounds/{round_id}/units/{HIEN_NAM}/submit", headers=auth(STAFF),
                           json={"version": version})
    assert_problem(response, 422)
    assert "file" in error_fields(response)

    # A unit that is not in the round, and another unit's report.
    problem = assert_problem(client.get(f"/api/v1/rounds/{round_id}/units/{NGHIA_TRU}", headers=auth(DOST_OFFICER)),
                             404)
    assert "không thuộc đợt báo cáo" in problem["detail"]
    assert_problem(save(client, auth, round_id, figures(), version, unit=TAI_CHINH), 403)
    # Only DOST and Home Affairs open rounds and see the board.
    assert_problem(client.post("/api/v1/rounds", headers=auth(STAFF), json={
        "kind": "results", "title": "Báo cáo kết quả năm 2026", "year": 2026, "working_days": 5}), 403)
    assert_problem(client.get(f"/api/v1/rounds/{round_id}/board", headers=auth(HEAD)), 403)
    response = client.post("/api/v1/rounds", headers=auth(DOST_OFFICER), json={
        "kind": "results", "title": "Báo cáo kết quả năm 2026", "year": 2026, "working_days": 5,
        "unit_ids": [HIEN_NAM, "khong-co"]})
    assert_problem(response, 422)
    # Urging before the due date: nobody is late yet.
    assert_problem(client.post(f"/api/v1/rounds/{round_id}/urge", headers=auth(DOST_OFFICER)), 422)


def test_a_returned_report_goes_back_to_the_unit(client, auth, runtime):
    round_id = open_round(client, auth, units=(HIEN_NAM,))
    send_up(client, auth, round_id)
    [review] = report(client, auth, round_id, user=DOST_OFFICER)["tasks"]
    response = complete(client, auth, DOST_OFFICER, review["id"],
                        {"decision": "return", "reason": "Bổ sung số liệu nội dung 2.6"})
    assert response.status_code == 200
    assert board(client, auth, round_id)[HIEN_NAM]["status"] == "returned"
    again = report(client, auth, round_id)
    assert again["data"]["c2_5_people_trained"]["value"] == 1200  # the figures sent stay for the next edit
    assert save(client, auth, round_id, figures(c2_6_incidents_handled=6), again["version"]).status_code == 200
    with runtime.uow() as uow:
        row = uow.session.scalars(select(UnitReport)).one()
        assert row.status == "returned"


def awarded_nomination(client, auth, runtime, pki) -> str:
    """A nomination through the whole path to the Chairman's digitally signed decision; its nominee's name."""
    from tests.service.helpers import CHAIRMAN, HA_OFFICER, actor
    from tests.service.test_api_batches import new_batch, prepare
    from tests.support.signing import sign_batch

    nomination_id = awaiting_decision(client, auth)
    batch_id = new_batch(client, auth)
    assert prepare(client, auth, batch_id, [nomination_id]).status_code == 200
    sign_batch(runtime, pki, batch_id, actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN))
    return str(detail(client, auth, nomination_id)["nominee_name"])


def _emails(runtime, *usernames: str) -> list[str]:
    from service.db.models import User

    with runtime.uow() as uow:
        return list(uow.session.scalars(select(User.email).where(User.username.in_(usernames))))


def _docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def test_a_plan_round_takes_the_units_plan(client, auth):
    response = client.post("/api/v1/rounds", headers=auth(HA_OFFICER), json={
        "kind": "plan", "title": "Kế hoạch triển khai phong trào thi đua năm 2026", "year": 2026,
        "working_days": 10})
    assert response.status_code == 201, response.get_json()
    round_id = response.get_json()["id"]
    # Every unit of the movement that reports to the province, none of the province's own offices.
    assert set(board(client, auth, round_id)) == {
        HIEN_NAM, TAI_CHINH, NGHIA_TRU, "so-y-te", "mttq-tinh", "cty-hung-yen-digital"}
    version = report(client, auth, round_id)["version"]
    response = save(client, auth, round_id, {"plan_number": "25/KH-UBND", "plan_date": "30/04/2026"}, version)
    assert_problem(response, 422)
    assert error_fields(response) == {"plan_date"}  # a date as the form wants it (YYYY-MM-DD)
    response = save(client, auth, round_id, {"plan_number": "25/KH-UBND", "plan_date": "2026-04-10",
                                             "main_targets": "100% thủ tục hành chính trực tuyến toàn trình."},
                    version)
    assert response.status_code == 200, response.get_json()
    assert upload(client, auth, round_id, name="ke-hoach.pdf").status_code == 200
    response = client.post(f"/api/v1/rounds/{round_id}/units/{HIEN_NAM}/submit", headers=auth(STAFF),
                           json={"version": report(client, auth, round_id)["version"]})
    assert response.status_code == 200, response.get_json()
    assert board(client, auth, round_id)[HIEN_NAM]["detail"] == "unit_review"
