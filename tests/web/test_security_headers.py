"""The main pages under the Content-Security-Policy, in Chromium: each draws what it should (the
bpmn-js diagram and modeler, swagger-ui) and meets no violation (the autouse `no_csp_violations`
fixture fails the test on any). Also: the headers are on every response, and no page can be framed."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from service.db.models import InboxRow
from service.usecases import nominations
from service.usecases.outbox import enqueue
from service.usecases.tasks import complete_task
from tests.workflows.conftest import draft_data

from .conftest import PASSWORD, CspWatch, LiveServer, Screenshots

PAGES_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def log_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator(".topbar .who")).to_have_text(username)


def at_unit_head(server: LiveServer) -> tuple[str, str]:
    rt, staff = server.runtime, server.actor("canbo.hiennam")
    nomination_id = nominations.create_draft(rt, staff, "phuong-hien-nam", draft_data())
    nominations.submit(rt, staff, nomination_id)
    with rt.uow() as uow:
        task_id = uow.session.scalars(select(InboxRow.id).where(InboxRow.nomination_id == nomination_id)).one()
    return nomination_id, task_id


def test_the_main_pages_work_under_the_policy(live_server: LiveServer, browser: CspWatch, shots: Screenshots) -> None:
    nomination_id, task_id = at_unit_head(live_server)
    complete_task(live_server.runtime, live_server.actor("chutich.hiennam"), task_id,
                  {"decision": "return", "reason": "Bổ sung biên bản họp hội đồng thi đua."})
    page: Page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="vi-VN")  # type: ignore[assignment]

    response = page.goto(live_server.url + "/login")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert all(response.headers[name.lower()] == value for name, value in PAGES_HEADERS.items())
    shots.take(page, "login")

    log_in(page, live_server, "canbo.hiennam")
    page.goto(live_server.url + "/inbox")
    shots.take(page, "inbox")
    page.goto(live_server.url + f"/nominations/{nomination_id}")
    expect(page.locator("#diagram.ready")).to_be_visible(timeout=15000)  # bpmn-js drew the diagram
    expect(page.locator("#diagram .djs-overlay .diagram-badge").first).to_be_visible()
    shots.take(page, "nomination")
    page.goto(live_server.url + f"/nominations/{nomination_id}/edit")
    expect(page.locator("form")).not_to_have_count(0)
    shots.take(page, "draft-form")
    page.goto(live_server.url + "/cong-khai")

    admin: Page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="vi-VN")  # type: ignore[assignment]
    log_in(admin, live_server, "quantri")
    admin.goto(live_server.url + "/admin/processes")
    shots.take(admin, "processes")
    admin.locator("#process-nomination").get_by_role("link", name="Sửa sơ đồ").click()
    expect(admin.locator("#canvas.ready")).to_be_visible(timeout=15000)  # the bpmn-js Modeler
    admin.locator("#canvas g.djs-element[data-element-id='dost_check_dossier']").first.click()
    expect(admin.locator("#props")).to_contain_text("dost_check_dossier")
    shots.take(admin, "process-editor")
    admin.goto(live_server.url + "/batches")
    with live_server.runtime.uow() as uow:
        mail = enqueue(uow.session, live_server.runtime, "hoa@example.com", "awarded", {
            "user": {"full_name": "Nguyễn Thị Hoa"}, "recipient_title": None, "subject_name": "UBND phường",
            "nomination": None, "unit": None, "batch": None, "decision_number": "12/QĐ-UBND",
            "decision_title": None, "url": live_server.url + f"/nominations/{nomination_id}"})
        uow.session.flush()
        mail_id = mail.id
        uow.commit()
    admin.goto(live_server.url + f"/admin/outbox/{mail_id}")
    frame = admin.frame_locator("iframe.mail-html")
    expect(frame.locator("body")).to_contain_text("Kính gửi")  # the HTML part, with its own styles
    shots.take(admin, "outbox-mail")

    admin.goto(live_server.url + "/api/docs")
    expect(admin.locator(".swagger-ui .info .title")).to_contain_text("nomflow API", timeout=15000)
    admin.locator(".opblock-summary", has_text="/api/v1/nominations").first.click()
    expect(admin.locator(".opblock-body").first).to_be_visible()
    shots.take(admin, "api-docs")
    page.close()
    admin.close()


def test_no_page_can_be_framed(live_server: LiveServer, browser: CspWatch) -> None:
    """A page of another origin (here: a data: URL) frames the inbox: the browser refuses it."""
    page: Page = browser.new_page()  # type: ignore[assignment]
    log_in(page, live_server, "canbo.hiennam")
    page.set_content(f'<iframe id="f" src="{live_server.url}/inbox"></iframe>')
    page.wait_for_timeout(1000)
    expect(page.frame_locator("#f").locator(".topbar")).to_have_count(0)
    browser.violations.clear()  # the frame-ancestors refusal is the point here, not a broken page
    page.close()


def test_every_response_carries_the_headers(live_server: LiveServer, browser: CspWatch) -> None:
    page: Page = browser.new_page()  # type: ignore[assignment]
    for path in ("/login", "/cong-khai", "/api/openapi.json", "/api/v1/me", "/static/app.css",
                 "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js", "/nope"):
        response = page.request.get(live_server.url + path)
        headers = response.headers
        assert all(headers.get(name.lower()) == value for name, value in PAGES_HEADERS.items()), (path, headers)
        assert re.search(r"frame-ancestors 'none'", headers["content-security-policy"]), path
    page.close()
