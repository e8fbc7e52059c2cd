"""In a real browser: the statistics page (charts beside tables) shows the same figures as the .xlsx it
offers for download, and an admin makes next year's movement by copying this year's. Screenshots
are saved under test-output/screenshots/."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from service.usecases import nominations
from service.usecases.tasks import complete_task
from tests.service.helpers import giay_khen_on_the_nomination_path
from tests.workflows.conftest import draft_data

from .conftest import PASSWORD, LiveServer, Screenshots

VN = timezone(timedelta(hours=7))


def seed(server: LiveServer) -> None:
    rt = server.runtime
    giay_khen_on_the_nomination_path(rt)
    for unit, staff, head, kind, award in (("phuong-hien-nam", "canbo.hiennam", "chutich.hiennam", "co_quan_don_vi",
                                            "bang_khen"),
                                           ("so-tai-chinh", "canbo.taichinh", "giamdoc.taichinh", "ca_nhan",
                                            "bang_khen"),
                                           ("phuong-hien-nam", "canbo.hiennam", "chutich.hiennam", "doanh_nghiep",
                                            "giay_khen")):
        nid = nominations.create_draft(rt, server.actor(staff), unit, draft_data(kind, award))
        nominations.submit(rt, server.actor(staff), nid)
        task = next(t for t in _tasks(server, nid) if t[1] == "unit_head")
        complete_task(rt, server.actor(head), task[0], {"decision": "submit", "submission_number": "3/TTr"})


def _tasks(server: LiveServer, nid: str) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from service.db.models import InboxRow

    with server.runtime.read() as uow:
        return [(t.id, t.role) for t in uow.session.scalars(select(InboxRow).where(InboxRow.nomination_id == nid))]


def login(page: Page, server: LiveServer, username: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator(".topbar .who")).to_have_text(username)


def test_statistics_and_movements_in_the_browser(live_server: LiveServer, browser, shots: Screenshots) -> None:
    seed(live_server)
    live_server.clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=VN))
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    login(page, live_server, "lanhdao.khcn")
    page.get_by_role("link", name="Thống kê").click()
    expect(page.get_by_role("heading", name="Hồ sơ theo đơn vị")).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    shots.take(page, "statistics-dost-lead")
    cells = page.locator("table[data-table='by_unit'] tbody tr").first.locator("td").all_inner_texts()
    with page.expect_download() as download:
        page.locator("#by_unit").get_by_role("link", name="Tải bảng này (.xlsx)").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    # Excel holds numbers as doubles; openpyxl reads the writer's "1.0" back as a float.
    first = [str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
             for v in next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))]
    assert first == cells
    assert sheet.freeze_panes == "A2"

    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    login(admin, live_server, "quantri")
    admin.get_by_role("link", name="Phong trào thi đua").click()
    expect(admin.get_by_role("heading", name="Tạo phong trào mới bằng cách sao chép")).to_be_visible()
    shots.take(admin, "admin-movements")
    admin.get_by_label("Kế hoạch số").fill("21/KH-UBND")
    admin.get_by_role("button", name="Tạo phong trào").click()
    expect(admin.get_by_role("heading", name="(2027)")).to_be_visible()
    shots.take(admin, "admin-movement-2027")
    admin.goto(live_server.url + "/statistics")
    shots.take(admin, "statistics-admin")
