"""The browser steps of a Giấy khen inside the ward (phường Hiến Nam), shared by the journeys that walk
them: the head sets the unit's criteria, the staff drafts and sends to the unit's council, the council
secretary records the meeting. Each step expects the page's own answer; logging in and out, and
what a journey checks around a step, stay in the journey."""

from __future__ import annotations

from playwright.sync_api import expect

from .test_journey import Session, pdf

WORK_UNIT = "Ủy ban nhân dân phường Hiến Nam"


def set_criteria(me: Session, criteria: str) -> None:
    """The unit's head (logged in) saves the unit's own Giấy khen criteria, one a line (plan III.2.2)."""
    page = me.page
    page.get_by_role("link", name="Giấy khen của đơn vị").click()
    page.get_by_label("Mỗi dòng một tiêu chuẩn").fill(criteria)
    page.get_by_role("button", name="Lưu tiêu chuẩn").click()
    expect(page.locator(".flash")).to_contain_text("Đã lưu tiêu chuẩn Giấy khen")


def start_draft(me: Session, nominee: str) -> None:
    """The unit's staff (logged in) starts an individual's Giấy khen: the draft's form is open."""
    page = me.page
    page.get_by_role("link", name="Lập hồ sơ mới").first.click()
    me.choose("d) Cá nhân")
    me.choose("Giấy khen của Thủ trưởng các cơ quan, tổ chức, đơn vị")
    page.get_by_label("Tên tập thể hoặc họ và tên cá nhân được đề nghị khen thưởng").fill(nominee)
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.get_by_role("heading", name=nominee)).to_be_visible()


def send_draft(me: Session, position: str, summary: str, criterion: str | None = None,
               shot: str | None = None) -> str:
    """Fill the open draft (the first criterion unless one is named), attach the achievements report and
    send it to the unit's council; the nomination's URL back."""
    page = me.page
    page.get_by_label("Chức vụ").fill(position)
    page.get_by_label("Đơn vị công tác").fill(WORK_UNIT)
    page.get_by_label("Tóm tắt thành tích").fill(summary)
    criteria = page.locator('input[name="criteria"]')
    (criteria.first if criterion is None else page.locator(f'input[name="criteria"][value="{criterion}"]')).check()
    page.locator('input[name="upload.bao_cao_thanh_tich"]').set_input_files(pdf("bao-cao-thanh-tich"))
    if shot:
        me.shot(shot)
    page.get_by_role("button", name="Gửi Hội đồng Thi đua – Khen thưởng của đơn vị").click()
    expect(page.locator(".flash")).to_contain_text("Đã gửi hồ sơ lên Hội đồng Thi đua – Khen thưởng của đơn vị")
    return page.url


def council_recommends(me: Session, nominee: str, meeting_date: str, shot: str) -> None:
    """The council secretary (logged in) records the meeting (date typed dd/mm/yyyy, 7 of 7 for) with
    its minutes and recommends the Giấy khen to the head."""
    page = me.page
    me.open_task(nominee)
    me.choose("Đề nghị thủ trưởng đơn vị tặng Giấy khen")
    page.get_by_label("Ngày họp Hội đồng").fill(meeting_date)
    page.get_by_label("Số thành viên dự họp").fill("7")
    page.get_by_label("Số phiếu đồng ý").fill("7")
    page.get_by_label("Số phiếu không đồng ý").fill("0")
    page.locator('input[name="upload.minutes_file"]').set_input_files(pdf("bien-ban-hop-hoi-dong"))
    me.shot(shot)
    me.complete()
    expect(page.locator(".flash")).to_contain_text("Đã hoàn thành")
