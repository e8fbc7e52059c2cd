"""An admin edits a movement's criteria and awards in a real browser: a refused edit shows why beside
the field and keeps what was typed; a good one shows on the movement's page. Screenshots of each."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from service.db.models import Movement

from .conftest import LiveServer, Screenshots
from .test_journey import Session

NEW = "Có mô hình “Bình dân học vụ số” được nhân rộng trong toàn tỉnh."


def test_an_admin_edits_criteria_in_the_browser(live_server: LiveServer, browser: object, shots: Screenshots) -> None:
    with live_server.runtime.read() as uow:
        movement_id = uow.session.scalars(select(Movement.id).where(Movement.year == 2026)).one()
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    me = Session(page, live_server, shots)
    me.login("quantri")
    me.go(f"/admin/movements/{movement_id}")
    page.get_by_role("link", name="Sửa hình thức khen thưởng và tiêu chuẩn").click()
    expect(page.get_by_role("heading", name="Hình thức khen thưởng và tiêu chuẩn")).to_be_visible()
    me.shot("movement-lists")

    # Criterion a2 given a3's code: refused, said beside the field, nothing stored.
    a2 = page.locator("input[name$='-code'][value='a2']")
    a2.fill("a3")
    last_a = page.locator("fieldset.kind").first.locator("tbody tr").last
    last_a.locator("input[name$='-code']").fill("a10")
    last_a.locator("textarea").fill(NEW)
    page.get_by_role("button", name="Lưu thay đổi").click()
    expect(page.get_by_text("Mã “a3” đã dùng ở tiêu chuẩn")).to_be_visible()
    expect(page.get_by_text("chưa lưu thay đổi nào")).to_be_visible()
    me.shot("movement-lists-refused")

    page.locator("input[name$='-code'][value='a3']").first.fill("a2")
    page.get_by_role("button", name="Lưu thay đổi").click()
    expect(page.get_by_text("Đã lưu hình thức khen thưởng và tiêu chuẩn của phong trào.")).to_be_visible()
    expect(page.get_by_text(NEW)).to_be_visible()
    me.shot("movement-saved")
