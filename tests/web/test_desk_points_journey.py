"""The points of issue 16 that the long journeys do not walk through, each in a real browser with a
screenshot under test-output/screenshots/: a nomination returned to the unit (its resubmission
deadline in the staff's inbox, the "trả lại" mail read from a real SMTP server), work waiting to be
batched, the Chairman's batch row, "Mở việc" only for who can act, a unit withdrawing its draft,
a replaced dossier file marked, and a date typed as dd/mm/yyyy, stored as ISO and shown back as typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from service.db.models import AuditEvent, Nomination
from service.mail.smtp import SmtpMailer
from service.usecases import nominations
from service.usecases.batches import create_batch
from service.usecases.drafts import Upload, save_and_submit, save_draft_form
from service.usecases.outbox import deliver_outbox
from tests.scheduler.smtp_sink import SmtpSink

from .conftest import LiveServer, Screenshots, actor_of
from .giay_khen import council_recommends, send_draft, set_criteria, start_draft
from .test_desks import step
from .test_journey import Session
from .test_pages import PDF, advance, draft, submitted

REASON = "Bổ sung số liệu dịch vụ công trực tuyến năm 2026."
TITLE = "Về việc tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh năm 2026"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def me(live_server: LiveServer, browser: object, shots: Screenshots) -> Iterator[Session]:
    page: Page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")  # type: ignore[attr-defined]
    page.set_default_timeout(15_000)
    yield Session(page, live_server, shots)
    page.close()


def deliver(server: LiveServer, sink: SmtpSink) -> None:
    """Sends the outbox to the loopback SMTP server, as the worker would."""
    config = replace(server.runtime.config, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_security="none")
    deliver_outbox(server.runtime, mailer=SmtpMailer(config))


def test_a_returned_nomination_reaches_the_staff_with_its_deadline_and_a_mail(
        live_server: LiveServer, me: Session, smtp: SmtpSink, browser: object, shots: Screenshots) -> None:
    page, rt = me.page, live_server.runtime
    nid = submitted(rt, name="Ủy ban nhân dân phường Hiến Nam")  # Monday 13/4/2026 09:00
    deliver(live_server, smtp)  # the head's "new task" mail: not what this test reads
    me.login("chutich.hiennam")
    me.open_task("Ủy ban nhân dân phường Hiến Nam")
    me.choose("Trả lại để hoàn thiện")
    page.get_by_label("Lý do").fill(REASON)
    me.complete()
    expect(page.locator(".flash")).to_contain_text("Đã hoàn thành")
    me.logout()

    deliver(live_server, smtp)
    [mail] = [m for m in smtp.messages() if m.to[0].startswith("canbo.hiennam@") and "trả lại" in m.subject]
    assert mail.subject == "[nomflow] Hồ sơ bị trả lại để hoàn thiện – Ủy ban nhân dân phường Hiến Nam"
    assert f"Lý do trả lại: {REASON}" in mail.text
    assert "gửi lại trước 17:00 thứ Hai, ngày 20/04/2026" in mail.text  # 5 working days, from the diagram
    assert f"/nominations/{nid}" in mail.text
    # the mail as its reader sees it, in a page of its own: a mail's inline styles are not the site's
    reader = browser.browser.new_page(viewport={"width": 800, "height": 600})  # type: ignore[attr-defined]
    reader.set_content(mail.html or f"<pre>{mail.text}</pre>")
    shots.take(reader, "returned-mail-to-the-staff")
    reader.close()

    me.login("canbo.hiennam")
    me.go("/inbox")
    row = page.locator(".task", has_text="Ủy ban nhân dân phường Hiến Nam")
    expect(row).to_contain_text("20/04/2026")  # the resubmission deadline, dd/mm/yyyy
    me.shot("staff-inbox-returned-with-deadline")
    me.logout()


def test_waiting_work_and_the_chairmans_batch_row(live_server: LiveServer, me: Session) -> None:
    page, rt = me.page, live_server.runtime
    nid = submitted(rt, name="Ủy ban nhân dân phường Lam Sơn")
    advance(rt, nid, 5)  # appraised by Home Affairs: waits to be batched
    me.login("lanhdao.noivu")
    me.go("/inbox")
    expect(page.locator(".waiting-work")).to_contain_text("1 hồ sơ đã thẩm định đang chờ lập đợt trình")
    expect(page.get_by_text("Không có việc nào.")).to_have_count(0)
    me.shot("home-affairs-lead-inbox-waiting-to-batch")
    me.logout()

    batch_id = create_batch(rt, actor_of(rt, "lanhdao.noivu"), TITLE)
    step(rt, "lanhdao.noivu", {"nomination_ids": [nid], "decision_title": TITLE,
                               "decision_draft": "Điều 1. Tặng Bằng khen cho các tập thể."}, batch_id=batch_id)
    me.login("chutich.tinh")
    me.go("/inbox?scope=queue")
    row = page.locator(".task").first
    expect(row).to_contain_text(TITLE)
    expect(row).to_contain_text("1 hồ sơ")
    expect(row).to_contain_text("Người trình: Đặng Quang Huy")
    expect(page.locator("select#kind")).to_have_count(0)  # the nominations' filters make no sense here
    me.shot("chairman-inbox-batch-row")
    me.logout()


def test_open_task_only_for_who_can_act(live_server: LiveServer, me: Session) -> None:
    page, rt = me.page, live_server.runtime
    nid = submitted(rt, name="Ủy ban nhân dân phường An Tảo")
    advance(rt, nid, 1)  # with the DOST officer
    me.login("lanhdao.khcn")  # sees the nomination, cannot complete the officer's check
    me.go(f"/nominations/{nid}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Mở việc")).to_have_count(0)
    me.shot("dost-lead-nomination-without-open-task")
    me.logout()
    me.login("chuyenvien.khcn")
    me.go(f"/nominations/{nid}")
    expect(page.get_by_role("link", name="Mở việc")).to_be_visible()
    me.shot("dost-officer-nomination-with-open-task")
    me.logout()


def test_a_replaced_file_is_marked_and_the_unit_withdraws_its_draft(live_server: LiveServer, me: Session) -> None:
    page, rt = me.page, live_server.runtime
    nid = draft(rt, name="Ủy ban nhân dân phường Minh Khai")
    staff = actor_of(rt, "canbo.hiennam")
    form = {"nominee_kind": "co_quan_don_vi", "award": "bang_khen", "nominee_name": "Ủy ban nhân dân phường Minh Khai"}
    save_draft_form(rt, staff, nid, form, [Upload("to_trinh", "to-trinh-cu.pdf", PDF + b"old")])
    save_draft_form(rt, staff, nid, form, [Upload("to_trinh", "to-trinh-moi.pdf", PDF + b"new")])
    me.login("canbo.hiennam")
    me.go(f"/nominations/{nid}")
    old = page.locator("ul.files li", has_text="to-trinh-cu.pdf")
    expect(old).to_contain_text("đã thay thế")
    expect(page.locator("ul.files li", has_text="to-trinh-moi.pdf")).not_to_contain_text("đã thay thế")
    me.shot("replaced-file-marked")

    me.go(f"/nominations/{nid}/edit")
    page.locator("details.withdraw summary").click()
    page.get_by_label("Lý do", exact=True).last.fill("Đơn vị lập trùng hồ sơ.")
    me.shot("withdraw-draft-form")
    page.locator("details.withdraw").get_by_role("button", name="Rút hồ sơ").click()
    expect(page.locator("ol.timeline")).to_contain_text("Đơn vị rút hồ sơ")
    expect(page.locator("ol.timeline")).to_contain_text("Đơn vị lập trùng hồ sơ.")
    # the steps it went through: the draft, then the withdrawal; none of the desks it never reached
    expect(page.locator(".steps li")).to_have_count(2)
    expect(page.locator(".steps li").last).to_contain_text("Đơn vị đã rút hồ sơ")
    me.shot("draft-withdrawn")
    me.logout()
    with rt.uow() as uow:
        assert uow.session.get(Nomination, nid).status == "withdrawn"


def test_a_date_typed_dd_mm_yyyy_is_stored_and_shown_as_typed(live_server: LiveServer, me: Session) -> None:
    page, rt = me.page, live_server.runtime
    nominee = "Phạm Thu Hà"
    me.login("chutich.hiennam")  # the unit's own Giấy khen criteria come first (plan III.2.2)
    set_criteria(me, "Hoàn thành xuất sắc nhiệm vụ chuyển đổi số được giao")
    me.logout()
    me.login("canbo.hiennam")
    start_draft(me, nominee)
    nomination_url = send_draft(me, "Công chức Tư pháp – Hộ tịch",
                                "Số hóa 12.000 sổ hộ tịch của phường, tra cứu trực tuyến.")
    nomination_path = nomination_url.removeprefix(live_server.url)
    me.logout()

    me.login("thuky.hiennam")
    council_recommends(me, nominee, "09/04/2026", "date-typed-dd-mm-yyyy")
    me.logout()

    with rt.uow() as uow:  # stored as ISO: the day is the 9th of April, not the 4th of September
        details = [e.detail or {} for e in uow.session.scalars(select(AuditEvent))]
    assert any((d.get("data") or {}).get("meeting_date") == "2026-04-09" for d in details), details[-3:]

    me.login("chutich.hiennam")
    me.open_task(nominee)
    expect(page.locator(".desk-results")).to_contain_text("09/04/2026")  # shown back as it was typed
    expect(page.locator(".desk-results")).not_to_contain_text("2026-04-09")
    expect(page.locator(".desk-results")).to_contain_text("bien-ban-hop-hoi-dong.pdf")  # a name, not a hash
    me.shot("date-shown-dd-mm-yyyy-to-the-head")
    me.go(nomination_path)
    expect(page.locator("ol.timeline")).not_to_contain_text("2026-04-09")
    me.logout()


def proposed_individual(server: LiveServer, name: str, position: str) -> str:
    """An individual's nomination appraised by Home Affairs: published as proposed, waiting for the decision."""
    rt, staff = server.runtime, actor_of(server.runtime, "canbo.hiennam")
    data = {"nominee_kind": "ca_nhan", "award": "bang_khen", "nominee_name": name}
    nid = nominations.create_draft(rt, staff, "phuong-hien-nam", data)
    save_and_submit(rt, staff, nid, {**data, "position": position, "work_unit": "Ủy ban nhân dân phường Hiến Nam",
                                     "achievement_summary": "Hướng dẫn 3.000 người dân dùng dịch vụ công trực tuyến.",
                                     "criteria": ["d1"]},
                    [Upload(slot, f"{slot}.pdf", PDF + slot.encode())
                     for slot in ("to_trinh", "bien_ban_hoi_dong", "bao_cao_thanh_tich")])
    advance(rt, nid, 5)
    return nid


def test_the_public_list_filters_by_year_unit_and_award_and_names_positions(
        live_server: LiveServer, me: Session) -> None:
    page, rt = me.page, live_server.runtime
    proposed_individual(live_server, "Nguyễn Thị Lan", "Phó Chủ tịch Ủy ban nhân dân phường")
    other = submitted(rt, unit="so-tai-chinh", staff="canbo.taichinh", name="Sở Tài chính")
    advance_as(rt, other)
    me.go("/cong-khai")
    proposed = page.locator("section", has_text="Đề nghị khen thưởng, chờ quyết định")
    expect(proposed.locator("h3", has_text="Nguyễn Thị Lan")).to_contain_text(
        "Nguyễn Thị Lan, Phó Chủ tịch Ủy ban nhân dân phường")  # an individual's position
    expect(proposed.locator("h3", has_text="Sở Tài chính")).to_have_text("Sở Tài chính")  # a collective: none
    page.get_by_label("Năm").select_option("2026")
    page.get_by_label("Đơn vị đề nghị").select_option(label="Ủy ban nhân dân phường Hiến Nam")
    page.get_by_label("Hình thức khen thưởng").select_option(label="Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh")
    page.get_by_role("button", name="Lọc").click()
    expect(proposed.locator("h3", has_text="Nguyễn Thị Lan")).to_have_count(1)
    expect(proposed.locator("h3", has_text="Sở Tài chính")).to_have_count(0)
    expect(page.get_by_label("Đơn vị đề nghị")).to_have_value("phuong-hien-nam")  # the choice stays shown
    me.shot("public-list-filtered-with-position")
    me.go("/cong-khai?year=2025")
    expect(page.get_by_text("Không có hồ sơ nào khớp với bộ lọc.")).to_have_count(2)
    # a comment may still be about any published nomination, whatever the list shows
    expect(page.get_by_label("Góp ý về").locator("option", has_text="Nguyễn Thị Lan")).to_have_count(1)
    me.shot("public-list-filtered-empty")


def advance_as(rt: object, nid: str) -> None:
    """Sở Tài chính's own head signs its tờ trình; the desks after it are the province's."""
    from .test_pages import STEPS

    step(rt, "giamdoc.taichinh", {"decision": "submit", "submission_number": "21/TTr-STC"}, nid)  # type: ignore[arg-type]
    for username, data in STEPS[1:]:
        step(rt, username, data, nid)  # type: ignore[arg-type]
