"""The diagram editor shows each problem the server finds in the page's language (issue 16, "Wording
and layout"): the engine's message through the catalogue, a nested problem too, never a gloss of the
other language. Screenshots under test-output/screenshots/."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import PASSWORD, LiveServer, Screenshots

VIETNAMESE = re.compile(r"[À-ỹĐđ]")


def broken_timer(page: Page, label: str) -> str:
    """Types an unclosed call into the DOST deadline's timer, saves, and returns the problems shown."""
    page.locator("#find").fill("dost_check_dossier_deadline")
    page.locator("#find").press("Enter")
    page.locator("#find").dispatch_event("change")
    field = page.locator("#props label.prop", has_text=label).locator("input")
    field.fill("working_days(3")
    field.press("Tab")
    page.locator("#btn-save").click()
    expect(page.locator("#problems")).to_contain_text("dost_check_dossier_deadline")
    return page.locator("#problems").inner_text()


def test_the_editor_shows_the_servers_problems_in_the_pages_language(
        live_server: LiveServer, browser: object, shots: Screenshots) -> None:
    page: Page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="vi-VN")  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(live_server.url + "/login")
    page.get_by_label("Tên đăng nhập").fill("quantri")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()

    page.goto(live_server.url + "/admin/processes/nomination/edit")
    expect(page.locator("#canvas.ready")).to_be_visible(timeout=15000)
    vietnamese = broken_timer(page, "Hẹn giờ")
    assert "biểu thức hẹn giờ 'working_days(3': lỗi cú pháp" in vietnamese, vietnamese
    assert "syntax error" not in vietnamese and "timer expression" not in vietnamese
    shots.take(page, "problem-in-vietnamese")

    page.goto(live_server.url + "/admin/processes/nomination/edit?lang=en")
    expect(page.locator("#canvas.ready")).to_be_visible(timeout=15000)
    english = broken_timer(page, "Timer")
    assert "timer expression 'working_days(3': syntax error" in english, english
    assert not VIETNAMESE.search(re.sub(r"«[^»]*»", "", english)), english  # but the element's own name
    shots.take(page, "problem-in-english")
    page.close()
