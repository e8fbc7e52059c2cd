"""The statistics page and its .xlsx exports on a known data set: the figures are the expected ones,
and the page shows exactly what the workbook (read back with openpyxl) holds."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import html
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from service.core.runtime import Runtime
from service.db.migrate import upgrade
from service.db.models import InboxRow
from service.db.session import Database
from tests.service.conftest import DEMO_PASSWORD, VN
from tests.service.helpers import (
    DOST_OFFICER,
    HEAD,
    OTHER_HEAD,
    OTHER_STAFF,
    TAI_CHINH,
    act,
    create_nomination,
    migrate_to,
    submitted_nomination,
)
from tests.workflows.conftest import draft_data
from workflows.clock import FixedClock

SUBMIT = {"decision": "submit", "submission_number": "12/TTr-UBND"}


@pytest.fixture
def known(runtime: Runtime, client: FlaskClient, auth: Any, clock: FixedClock) -> dict[str, str]:
    """Monday 13 April 2026: four nominations; then two and four working days later, some steps."""
    n1 = submitted_nomination(client, auth)
    n2 = submitted_nomination(client, auth, data=draft_data("ca_nhan") | {"nominee_name": "Nguyễn Văn An"},
                              staff=OTHER_STAFF, unit_id=TAI_CHINH)
    n3 = submitted_nomination(client, auth, data=draft_data("doanh_nghiep", "giay_khen"))
    n4 = create_nomination(client, auth)  # stays a draft
    act(client, auth, n3, "unit_review", HEAD, SUBMIT)  # same day: 0 working days; Giấy khen ends it
    clock.set(datetime(2026, 4, 15, 10, 0, tzinfo=VN))
    act(client, auth, n1, "unit_review", HEAD, SUBMIT)  # 2 working days
    clock.set(datetime(2026, 4, 17, 10, 0, tzinfo=VN))
    act(client, auth, n1, "dost_review", DOST_OFFICER, {"decision": "complete", "criteria_met": ["a1"]})
    act(client, auth, n2, "unit_review", OTHER_HEAD, SUBMIT)  # 4 working days
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=VN))  # every open task with a deadline is late by now
    return {"n1": n1, "n2": n2, "n3": n3, "n4": n4}


def log_in(client: FlaskClient, username: str) -> None:
    page = client.get("/login").text
    token = html.fromstring(page).xpath("//input[@name='csrf_token']/@value")[0]
    assert client.post("/login", data={"csrf_token": token, "username": username,
                                       "password": DEMO_PASSWORD}).status_code == 302


def page_tables(text: str) -> dict[str, list[list[str]]]:
    tree = html.fromstring(text)
    return {table.get("data-table"): [[cell.text_content().strip() for cell in row.xpath("./th|./td")]
                                      for row in table.xpath(".//tr")]
            for table in tree.xpath("//table[@data-table]")}


def workbook_tables(content: bytes) -> dict[str, list[list[Any]]]:
    book = load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def shown(value: Any) -> str:
    """A workbook value as the page writes it: '.' between thousands, ',' before decimals."""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return f"{value:,}".replace(",", ".") if isinstance(value, int) else str(value)


def same(cell: str, value: Any) -> bool:
    """openpyxl reads 2.0 back as 2: numbers are compared as numbers."""
    if isinstance(value, int | float):
        return float(cell.replace(".", "").replace(",", ".")) == float(value)
    return cell == shown(value)


def test_the_page_and_its_workbook_show_the_known_figures(app: Any, runtime: Runtime, known: dict[str, str]) -> None:
    client = app.test_client()
    log_in(client, "quantri")
    page = client.get("/statistics")
    assert page.status_code == 200
    tables = page_tables(page.text)
    export = client.get("/statistics/export.xlsx?movement=" + _movement(page.text))
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    book = workbook_tables(export.data)
    # Same tables, same cells, same order.
    assert list(book) == [_sheet(page.text, key) for key in tables]
    for key, rows in tables.items():
        sheet = book[_sheet(page.text, key)]
        assert tuple(rows[0]) == sheet[0], key  # the Vietnamese headers
        assert len(rows) == len(sheet), key
        for cells, values in zip(rows[1:], sheet[1:], strict=True):
            assert len(cells) == len(values) and all(map(same, cells, values)), (key, cells, values)

    by_unit = {row[0]: row[3:] for row in book["Hồ sơ theo đơn vị"[:31]][1:]}
    assert by_unit == {"phuong-hien-nam": (3, 2, 1, 0), "so-tai-chinh": (1, 1, 0, 0)}
    assert _pairs(book["Hồ sơ theo đối tượng"[:31]]) == {
        "Cơ quan, tổ chức, đơn vị; Ủy ban nhân dân xã, phường": (2, 0), "Cá nhân": (1, 0), "Doanh nghiệp": (1, 1)}
    assert _pairs(book["Hồ sơ theo hình thức khen thưởng"[:31]]) == {
        "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh": (3, 0),
        "Giấy khen của Thủ trưởng các cơ quan, tổ chức, đơn vị": (1, 1)}
    assert _pairs(book["Hồ sơ theo kết quả"[:31]]) == {"Đang xử lý": (3,), "Thủ trưởng đơn vị tặng Giấy khen": (1,)}
    assert book["Khen thưởng theo loại đơn vị"[:31]][1:] == [
        ("Ủy ban nhân dân xã, phường", "Giấy khen của Thủ trưởng các cơ quan, tổ chức, đơn vị", 1)]
    desks = _pairs(book["Thời gian xử lý tại từng vị trí (ngày làm việc)"[:31]])
    assert desks == {"Cán bộ thi đua của đơn vị": (3, 0.0, 0, 0), "Thủ trưởng cơ quan, đơn vị": (3, 2.0, 2, 4),
                     "Chuyên viên Sở Khoa học và Công nghệ": (1, 2.0, 2, 2)}
    open_now = {row[0]: row[1] for row in book["Hồ sơ đang ở từng bước (việc đang mở)"[:31]][1:]}
    assert open_now == {"Lập hồ sơ (đơn vị sửa hồ sơ ở bước này)": 1, "Sở KH&CN kiểm tra hồ sơ": 1,
                        "Sở KH&CN lựa chọn, đề nghị": 1}  # the stages the diagram declares
    now = runtime.clock.now()
    with runtime.read() as uow:
        late = uow.session.scalar(select(func.count()).select_from(InboxRow).where(InboxRow.due_at < now))
    assert late and sum(row[2] for row in book["Việc quá hạn theo vị trí"[:31]][1:]) == late
    assert sum(row[2] for row in book["Việc quá hạn theo người xử lý"[:31]][1:]) == late


def test_number_and_date_cells_frozen_headers_and_filters(app: Any, known: dict[str, str]) -> None:
    client = app.test_client()
    log_in(client, "quantri")
    content = client.get("/statistics/nominations.xlsx?movement=").data
    book = load_workbook(io.BytesIO(content))
    sheet = book["Danh sách hồ sơ"[:31]]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:I5"
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in rows) == sorted(known.values())
    assert all(isinstance(r[7], datetime) for r in rows)
    assert rows[0][7] - datetime(2026, 4, 13, 9, 0) < timedelta(hours=1)  # local wall time, not UTC
    counts = load_workbook(io.BytesIO(client.get("/statistics/export.xlsx?table=by_unit&movement=").data))
    assert counts.active["D2"].data_type == "n" and counts.active.auto_filter.ref == "A1:G3"


def test_a_unit_head_sees_their_units_figures_only(app: Any, known: dict[str, str]) -> None:
    client = app.test_client()
    log_in(client, HEAD)
    tables = page_tables(client.get("/statistics").text)
    assert [row[0] for row in tables["by_unit"][1:]] == ["phuong-hien-nam"]
    staff = app.test_client()
    log_in(staff, "canbo.hiennam")
    assert staff.get("/statistics").status_code == 403
    assert staff.get("/statistics/export.xlsx").status_code == 403


def test_province_roles_do_not_count_other_units_drafts(app: Any, known: dict[str, str]) -> None:
    client = app.test_client()
    log_in(client, "lanhdao.khcn")
    by_unit = {row[0]: row[3] for row in page_tables(client.get("/statistics").text)["by_unit"][1:]}
    assert by_unit == {"phuong-hien-nam": "2", "so-tai-chinh": "1"}


def test_an_unknown_table_is_a_404(app: Any) -> None:
    client = app.test_client()
    log_in(client, "quantri")
    assert client.get("/statistics/export.xlsx?table=nope").status_code == 404


def _movement(text: str) -> str:
    return html.fromstring(text).xpath("//select[@id='movement']/option[@selected]/@value")[0]


def _sheet(text: str, key: str) -> str:
    return html.fromstring(text).xpath(f"//h2[@id='h-{key}']")[0].text_content().strip()[:31]


def _pairs(rows: list[Any]) -> dict[str, tuple[Any, ...]]:
    return {row[0]: tuple(row[1:]) for row in rows[1:]}


def test_desk_times_of_tasks_done_before_the_upgrade_come_from_the_audit_trail(database_url: str) -> None:
    database = Database(database_url)
    try:
        migrate_to(database, "0010_movement")
        opened, done = datetime(2026, 4, 10, 9, 0, tzinfo=VN), datetime(2026, 4, 15, 16, 0, tzinfo=VN)
        audit = ("INSERT INTO audit_event (at, nomination_id, instance_id, kind, detail) "
                 "VALUES (:at, NULL, 'i1', :k, :d)")
        with database.engine.begin() as connection:
            connection.execute(text(audit), {"at": opened, "k": "task_opened",
                                             "d": '{"task": "unit_head_review", "role": "unit_head", "due_at": null}'})
            connection.execute(text(audit), {"at": done, "k": "task_completed",
                                             "d": '{"task": "unit_head_review", "task_uuid": "u1", "data": {}}'})
            connection.execute(text(audit), {"at": done, "k": "task_opened",  # still open: no row
                                             "d": '{"task": "dost_check_dossier", "role": "dost_officer"}'})
        upgrade(database)
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT task_uuid, role, working_days FROM desk_time")).all()
        assert [tuple(r) for r in rows] == [("u1", "unit_head", 3)]  # Fri 10 → Wed 15 April: Mon, Tue, Wed
    finally:
        database.dispose()
