"""An officer's check passes its deadline and the lead takes it over, in a real browser (issue 16,
"Hearing about it"): the officer's page says the task was taken over, the lead's inbox shows it
late with the deadline it missed, and the lead's own reminders (timers on the escalated task,
data of the diagram) appear in the nomination's timeline and its steps view. Screenshots under
test-output/screenshots/.
"""

from __future__ import annotations

from datetime import datetime

from playwright.sync_api import Page, expect
from sqlalchemy import select

from service.db.models import OutboxMail
from service.usecases.timers import wake_due_instances

from .conftest import VN, LiveServer, Screenshots
from .test_journey import Session, seed_second_nomination

NOMINEE = "Công ty Cổ phần Công nghệ số Hưng Yên"


def test_an_escalated_check_is_shown_to_the_officer_and_reminded_to_the_lead(
        live_server: LiveServer, browser: object, shots: Screenshots) -> None:
    nomination_id = seed_second_nomination(live_server)  # with the DOST officer since Monday 13/4, due 20/4
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")  # type: ignore[attr-defined]
    page.set_default_timeout(15_000)
    me = Session(page, live_server, shots)

    me.login("chuyenvien.khcn")
    me.go("/inbox?scope=queue")
    page.locator(".task", has_text=NOMINEE).get_by_role("button", name="Nhận việc").click()
    expect(page.locator(".flash")).to_contain_text("Đã nhận việc")
    me.go("/inbox?scope=mine", "escalation-officer-holds-the-check")
    me.logout()

    # --- Wednesday 22/4: the deadline passed two days ago; the sweep hands the check to the lead
    live_server.clock.set(datetime(2026, 4, 22, 9, 0, tzinfo=VN))
    assert wake_due_instances(live_server.runtime).woken == 1

    me.login("chuyenvien.khcn")
    me.go("/inbox?scope=mine")
    expect(page.locator(".task", has_text=NOMINEE)).to_have_count(0)
    me.go(f"/nominations/{nomination_id}", "escalation-officer-sees-the-take-over")
    expect(page.locator("ol.timeline")).to_contain_text("Quá hạn, chuyển lãnh đạo xử lý thay")
    me.logout()

    me.login("lanhdao.khcn")
    me.go("/inbox?scope=queue", "escalation-lead-inbox")
    row = page.locator(".task", has_text=NOMINEE)
    expect(row).to_contain_text("lãnh đạo xử lý thay")
    expect(row.locator(".badge")).to_contain_text("Quá hạn")
    expect(row).to_contain_text("20/04/2026")  # the deadline it missed, kept

    # --- Thursday 23/4, 8:00: the lead's first reminder, a timer of the escalated task
    live_server.clock.set(datetime(2026, 4, 23, 8, 1, tzinfo=VN))
    assert wake_due_instances(live_server.runtime).woken == 1
    with live_server.runtime.uow() as uow:
        subjects = list(uow.session.scalars(select(OutboxMail.subject).where(OutboxMail.to_addr.like("lanhdao.khcn%"))))
    reminder = "[nomflow] Quá hạn xử lý: Kiểm tra hồ sơ (lãnh đạo xử lý thay)"
    assert any(s.startswith(reminder) for s in subjects), subjects
    me.go(f"/nominations/{nomination_id}")
    expect(page.locator("ol.timeline")).to_contain_text("Gửi nhắc việc")
    expect(page.locator(".steps .step-current")).to_contain_text("Sở KH&CN kiểm tra hồ sơ")
    me.shot("escalation-lead-reminded-timeline-and-steps")
    me.logout()
    page.close()
