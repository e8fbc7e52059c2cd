"""In Chromium: the public page's boxes show the filter applied (a year with nothing published, a year
that is not one), the inbox's too, and an admin edits the plan a movement's documents cite, with a bad
date refused beside its field. Screenshots under test-output/screenshots/."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import LiveServer, Screenshots
from .test_statistics_browser import login


def test_filter_boxes_and_the_movement_plan_in_the_browser(live_server: LiveServer, browser,
                                                           shots: Screenshots) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/cong-khai?year=2025")
    expect(page.locator("#p-year")).to_have_value("2025")
    expect(page.locator("#p-year option:checked")).to_have_text("2025")
    shots.take(page, "public-year-2025")
    page.goto(live_server.url + "/cong-khai?year=abc&unit_id=xa-nghia-tru")
    expect(page.locator("#p-year")).to_have_value("abc")
    expect(page.locator("#p-year-error")).to_contain_text("Năm “abc” không hợp lệ")
    expect(page.locator("#p-unit option:checked")).to_have_text("Ủy ban nhân dân xã Nghĩa Trụ")
    shots.take(page, "public-year-invalid")

    officer = browser.new_page(viewport={"width": 1280, "height": 900})
    login(officer, live_server, "chuyenvien.khcn")
    officer.goto(live_server.url + "/inbox?unit=xa-nghia-tru&kind=ca_nhan&overdue=maybe")
    expect(officer.locator("#unit option:checked")).to_have_text("Ủy ban nhân dân xã Nghĩa Trụ")
    expect(officer.locator("#overdue-error")).to_be_visible()
    shots.take(officer, "inbox-filters-applied")

    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    login(admin, live_server, "quantri")
    admin.get_by_role("link", name="Phong trào thi đua").click()
    admin.get_by_role("link", name="Phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số").first.click()
    form = admin.locator("form[action$='/admin/movements/1']")
    form.get_by_label("Kế hoạch số").fill("125/KH-UBND")
    form.get_by_label("Ngày ban hành kế hoạch").fill("31/02/2026")
    form.get_by_role("button", name="Lưu thông tin phong trào").click()
    expect(admin.locator("#e-plan_date")).to_contain_text("Ngày không hợp lệ")
    shots.take(admin, "admin-movement-bad-date")
    form = admin.locator("form[action$='/admin/movements/1']")
    form.get_by_label("Ngày ban hành kế hoạch").fill("05/05/2026")
    form.get_by_role("button", name="Lưu thông tin phong trào").click()
    expect(admin.get_by_text("Đã lưu thông tin phong trào thi đua.")).to_be_visible()
    expect(admin.locator(".outbox-detail")).to_contain_text("125/KH-UBND, ngày 05/05/2026")
    shots.take(admin, "admin-movement-plan-saved")
