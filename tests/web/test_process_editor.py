"""The admin edits the nomination diagram in the browser (bpmn-js Modeler): changes the DOST dossier check
from 5 to 3 working days, saves (a deliberate error first, marked on the element), deploys; a new
nomination gets the new due time, an older one keeps the old until the admin migrates it. Every page is
saved under test-output/screenshots/."""

from __future__ import annotations

from datetime import datetime

from playwright.sync_api import Page, expect
from sqlalchemy import select

from service.db.models import InboxRow
from service.usecases import nominations
from service.usecases.tasks import complete_task
from tests.workflows.conftest import draft_data

from .conftest import PASSWORD, VN, LiveServer, Screenshots

DOST_TIMERS = {  # element → new expression: 3 working days, reminders the day before and on the day
    "dost_check_dossier_reminder_before": "working_days(2, hour=8)",
    "dost_check_dossier_reminder_due": "working_days(3, hour=8)",
    "dost_check_dossier_deadline": "working_days(3)",
}


def at(day: str, hour: int) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=VN)


def at_dost_check(server: LiveServer) -> str:
    """A nomination submitted and signed by its unit: the DOST officer's dossier check is open."""
    rt, staff = server.runtime, server.actor("canbo.hiennam")
    nomination_id = nominations.create_draft(rt, staff, "phuong-hien-nam", draft_data())
    nominations.submit(rt, staff, nomination_id)
    complete_task(rt, server.actor("chutich.hiennam"), open_task(server, nomination_id, "unit_head_review").id,
                  {"decision": "submit", "submission_number": "12/TTr-UBND"})
    return nomination_id


def open_task(server: LiveServer, nomination_id: str, task_id: str) -> InboxRow:
    with server.runtime.uow() as uow:
        task = uow.session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination_id,
                                                          InboxRow.task_id == task_id)).one()
    return task


def set_timer(page: Page, element_id: str, expression: str) -> None:
    page.locator("#find").fill(element_id)
    page.locator("#find").press("Enter")
    page.locator("#find").dispatch_event("change")
    field = page.locator("#props label.prop", has_text="Hẹn giờ").locator("input")
    field.fill(expression)
    field.press("Tab")  # the change event applies it to the diagram


def test_admin_changes_a_timer_deploys_and_migrates_an_older_nomination(
        live_server: LiveServer, browser: object, shots: Screenshots) -> None:
    older = at_dost_check(live_server)
    assert open_task(live_server, older, "dost_check_dossier").due_at == at("2026-04-20", 17)

    page: Page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="vi-VN")  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(live_server.url + "/login")
    page.get_by_label("Tên đăng nhập").fill("quantri")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(live_server.url + "/admin/processes")
    shots.take(page, "processes")
    page.locator("#process-nomination").get_by_role("link", name="Sửa sơ đồ").click()
    expect(page.locator("#canvas.ready")).to_be_visible(timeout=15000)
    # The modeler has the window, not the page's reading column: canvas and properties side by side.
    canvas, props = page.locator("#canvas").bounding_box(), page.locator("#props").bounding_box()
    assert canvas and props and canvas["width"] >= 1400 - 22 * 16 - 80, canvas
    assert props["x"] >= canvas["x"] + canvas["width"] and canvas["height"] >= 1000 - 14 * 16, (canvas, props)
    shots.take(page, "editor-opened")

    # A deliberate error first: the server refuses it, nothing is stored, the element is marked.
    set_timer(page, "dost_check_dossier_deadline", "working_days(3")
    page.get_by_role("button", name="Lưu nháp").click()
    expect(page.locator("#problems")).to_contain_text("dost_check_dossier_deadline")
    expect(page.locator('g.djs-element.has-problem[data-element-id="dost_check_dossier_deadline"]')).to_have_count(1)
    expect(page.locator("#status")).to_contain_text("chưa lưu gì")
    shots.take(page, "error-on-the-element")

    for element_id, expression in DOST_TIMERS.items():
        set_timer(page, element_id, expression)
    page.locator("#note").fill("Kiểm tra hồ sơ của Sở KH&CN rút còn 3 ngày làm việc")
    page.get_by_role("button", name="Lưu nháp").click()
    expect(page.locator("#status")).to_contain_text("Đã lưu bản nháp")
    expect(page.locator("#problems")).to_be_hidden()
    page.get_by_role("button", name="Triển khai").click()
    expect(page.locator("#status")).to_contain_text("Đã triển khai phiên bản v2")
    shots.take(page, "deployed")

    # A day later: a new nomination runs on v2 (3 days from Tuesday); the older one keeps v1's 5 days.
    live_server.clock.set(at("2026-04-14", 9))
    newer = at_dost_check(live_server)
    assert open_task(live_server, newer, "dost_check_dossier").due_at == at("2026-04-17", 17)
    assert open_task(live_server, older, "dost_check_dossier").due_at == at("2026-04-20", 17)
    page.goto(f"{live_server.url}/nominations/{older}")
    expect(page.locator("body")).to_contain_text("4 ngày làm việc còn lại")
    shots.take(page, "older-before-migration")

    page.goto(live_server.url + "/admin/processes")
    migration = page.locator("#process-nomination .migration")
    migration.get_by_role("button", name="Xem trước").click()
    row = migration.locator("tr.safe", has_text=older)
    expect(row).to_contain_text("20/4/2026")
    expect(row).to_contain_text("16/4/2026")
    expect(migration.locator("tr", has_text=newer)).to_have_count(0)  # already on v2
    shots.take(page, "migration-dry-run")
    migration.get_by_role("button", name="Chuyển các hồ sơ đã chọn").click()
    expect(migration.locator("tr.migrated", has_text=older)).to_be_visible()
    shots.take(page, "migrated")

    # Its new due time counts from when the dossier reached DOST (Monday), not from the migration.
    assert open_task(live_server, older, "dost_check_dossier").due_at == at("2026-04-16", 17)
    page.goto(f"{live_server.url}/nominations/{older}")
    expect(page.locator("body")).to_contain_text("2 ngày làm việc còn lại")
    shots.take(page, "older-after-migration")
    page.close()
