"""The editor shows and edits what a task or an end event means to the service (its stage); a
diagram left without a required stage is refused and the element that lost it is ringed."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import PASSWORD, LiveServer, Screenshots


def select_element(page: Page, element_id: str) -> None:
    page.locator("#find").fill(element_id)
    page.locator("#find").dispatch_event("change")


def test_admin_sees_and_changes_the_stage_of_a_task(live_server: LiveServer, browser: object,
                                                    shots: Screenshots) -> None:
    page: Page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="vi-VN")  # type: ignore[attr-defined]
    page.goto(live_server.url + "/login")
    page.get_by_label("Tên đăng nhập").fill("quantri")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(live_server.url + "/admin/processes/nomination/edit")
    expect(page.locator("#canvas.ready")).to_be_visible(timeout=15000)

    select_element(page, "end_awarded")
    expect(page.locator("#stage-select")).to_have_value("awarded")
    expect(page.locator("#stage-select option")).to_have_count(4)  # —, awarded, not_awarded, unit_certificate

    select_element(page, "dost_select")
    stage = page.locator("#stage-select")
    expect(stage).to_have_value("dost_selection")
    shots.take(page, "stage-of-a-task")
    stage.select_option("")
    page.get_by_role("button", name="Kiểm tra").click()
    expect(page.locator("#problems")).to_contain_text("dost_selection")
    expect(page.locator('g.djs-element.has-problem[data-element-id="dost_select"]')).to_have_count(1)
    shots.take(page, "stage-missing")

    select_element(page, "dost_select")
    page.locator("#stage-select").select_option("dost_selection")
    page.get_by_role("button", name="Kiểm tra").click()
    expect(page.locator("#status")).to_contain_text("Sơ đồ hợp lệ")
    page.close()
