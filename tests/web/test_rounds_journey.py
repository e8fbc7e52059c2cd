"""A results round in a real browser: DOST opens it, two units send their reports (one late, after
the reminder mail it gets from a real SMTP server), DOST urges the missing one from the follow-up
board and downloads the province summary, whose text is checked. Pages saved as screenshots."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, time
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from service.db.models import InboxRow, UnitReport
from service.usecases.outbox import deliver_outbox
from service.usecases.timers import wake_due_instances
from tests.scheduler.smtp_sink import SmtpSink

from .conftest import VN, LiveServer, Screenshots
from .test_journey import Session, pdf
from .test_statistics_browser import seed as seed_nominations

HIEN_NAM, TAI_CHINH = "phuong-hien-nam", "so-tai-chinh"
FIGURES = {"Số sáng kiến": "3", "Số hạng mục": "2", "Số dịch vụ": "40", "Số quy trình": "12",
           "Số doanh nghiệp": "5", "Số lượt người": "1200", "Số sự cố": "4", "Số hoạt động": "1"}
APPROVE = "Duyệt, ký và gửi Sở Khoa học và Công nghệ, Sở Nội vụ"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def smtp(live_server: LiveServer) -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    runtime = live_server.runtime
    before = runtime.config
    runtime.config = replace(before, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_security="none",
                             mail_from="nomflow <no-reply@nomflow.hungyen.gov.vn>")
    yield sink
    runtime.config = before
    sink.stop()


class Desk(Session):
    def decide(self, username: str, task_name: str, choice: str, shot: str, logout: bool = True) -> None:
        """`username` opens the task from their inbox's queue, picks `choice` and completes it."""
        self.login(username)
        self.go("/inbox?scope=queue")
        self.page.locator(".task", has_text=task_name).first.get_by_role("link", name="Xử lý").click()
        self.page.get_by_label(choice, exact=True).check()
        self.shot(shot)
        self.complete()
        expect(self.page.get_by_text(f"Đã hoàn thành: {task_name}.")).to_be_visible()
        if logout:
            self.logout()


def task_of(server: LiveServer, round_id: str, unit_id: str) -> InboxRow:
    with server.runtime.read() as uow:
        instance_id = uow.session.scalars(select(UnitReport.instance_id).where(
            UnitReport.round_id == round_id, UnitReport.unit_id == unit_id)).one()
        return uow.session.scalars(select(InboxRow).where(InboxRow.instance_id == instance_id)).one()


def test_results_round_from_opening_to_the_summary(live_server: LiveServer, browser: object, shots: Screenshots,
                                                   smtp: SmtpSink) -> None:
    server, runtime = live_server, live_server.runtime
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    me = Desk(page, server, shots)

    # DOST opens a results round due in 5 working days (Monday 13/4/2026 09:00 → Monday 20/4 17:00).
    me.login("chuyenvien.khcn")
    me.go("/rounds")
    page.get_by_label("Tên đợt").fill("Báo cáo kết quả năm 2026")
    page.get_by_label("Thời hạn (ngày làm việc)").fill("5")
    me.shot("open-round")
    page.get_by_role("button", name="Mở đợt").click()
    expect(page.get_by_role("heading", name="Báo cáo kết quả năm 2026")).to_be_visible()
    round_id = page.url.rsplit("/", 1)[-1]
    me.shot("board-opened")
    me.logout()

    # Hiến Nam's officer fills the figures, attaches the signed report and sends it; the head approves.
    me.login("canbo.hiennam")
    me.go(f"/rounds/{round_id}/units/{HIEN_NAM}")
    page.get_by_label("Số lượt người").fill("-5")
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.locator(".error, [role=alert]").first).to_be_visible()
    me.shot("report-negative-figure")
    for label, value in FIGURES.items():
        page.get_by_label(label).fill(value)
    page.locator("#file").set_input_files(pdf("bao-cao-hien-nam"))
    me.shot("report-filled")
    page.get_by_role("button", name="Gửi thủ trưởng đơn vị").click()
    expect(page.get_by_text("Đã gửi báo cáo lên thủ trưởng đơn vị.")).to_be_visible()
    me.shot("report-sent")
    me.logout()
    # The unit head approves from the inbox; Home Affairs receives it (the plan's "DOST with Home Affairs").
    me.decide("chutich.hiennam", "Thủ trưởng duyệt, ký báo cáo", APPROVE, "head-approves")
    me.decide("chuyenvien.noivu", "Tiếp nhận, kiểm tra báo cáo", "Tiếp nhận", "home-affairs-accepts")

    # Thursday 16/4 08:00: the five other units of the movement, Tài chính among them, get their reminder.
    server.clock.set(datetime(2026, 4, 16, 8, 0, 30, tzinfo=VN))
    assert wake_due_instances(runtime).woken == 5  # Hiến Nam's report is past the drafting step
    deliver_outbox(runtime)
    [reminder] = [m for m in smtp.messages() if m.to == [_email(server, "canbo.taichinh")]]
    assert reminder.subject == "[nomflow] Nhắc việc: còn 2 ngày làm việc để nộp báo cáo – Báo cáo kết quả năm 2026"
    assert not [m for m in smtp.messages() if m.to == [_email(server, "canbo.hiennam")]]

    # Wednesday 22/4, past the due date: DOST urges the late unit from the board.
    server.clock.set(datetime(2026, 4, 22, 9, 0, tzinfo=VN))
    wake_due_instances(runtime)
    me.login("chuyenvien.khcn")
    me.go(f"/rounds/{round_id}")
    row = page.locator("tr", has_text="Sở Tài chính")
    expect(row).to_contain_text("Chậm")
    expect(row.locator("td").nth(2)).to_have_text("2")
    me.shot("board-late")
    page.get_by_role("button", name="Gửi công văn đôn đốc các đơn vị chậm (5)").click()
    expect(page.get_by_text("Đã gửi công văn đôn đốc tới 5 đơn vị chậm.")).to_be_visible()
    me.shot("board-urged")
    deliver_outbox(runtime)
    urging = [m for m in smtp.messages() if m.subject.startswith("[nomflow] Đôn đốc nộp báo cáo")]
    to_tai_chinh = sorted(m.to[0] for m in urging if "Sở Tài chính" in m.subject)
    assert to_tai_chinh == sorted(_email(server, u) for u in ("canbo.taichinh", "giamdoc.taichinh"))
    assert not [m for m in urging if "Hiến Nam" in m.subject]  # its report was accepted on time

    me.logout()

    # Tài chính sends its report late, in the browser; its head approves, DOST accepts it (marked late).
    me.login("canbo.taichinh")
    me.go(f"/rounds/{round_id}/units/{TAI_CHINH}")
    for label, value in FIGURES.items():
        page.get_by_label(label).fill(value)
    page.locator("#file").set_input_files(pdf("bao-cao-tai-chinh"))
    page.get_by_role("button", name="Gửi thủ trưởng đơn vị").click()
    expect(page.get_by_text("Đã gửi báo cáo lên thủ trưởng đơn vị.")).to_be_visible()
    me.shot("late-report-sent")
    me.logout()
    me.decide("giamdoc.taichinh", "Thủ trưởng duyệt, ký báo cáo", APPROVE, "late-head-approves")
    me.decide("chuyenvien.khcn", "Tiếp nhận, kiểm tra báo cáo", "Tiếp nhận", "dost-accepts-late", logout=False)
    me.go(f"/rounds/{round_id}")
    expect(page.locator("tr", has_text="Sở Tài chính")).to_contain_text("(gửi sau hạn)")
    me.shot("board-all-accepted")

    with page.expect_download() as download:
        page.get_by_role("link", name="Dự thảo báo cáo tổng hợp của tỉnh (DOCX)").click()
    text = _docx_text(Path(download.value.path()).read_bytes())
    assert "Đến nay đã tiếp nhận 2/6 báo cáo, trong đó 1 báo cáo gửi chậm; còn 4 đơn vị chưa gửi báo cáo" in text
    assert "Thi đua phát triển xã hội số | Lượt người được đào tạo kỹ năng số | 2.400" in text

    # The statistics page shows what its workbook holds, table by table (with a few nominations on the way).
    seed_nominations(server)
    me.go("/statistics")
    expect(page.get_by_role("heading", name="Thống kê")).to_be_visible()
    me.shot("statistics")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải tất cả các bảng (.xlsx)").click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sections = page.locator("section.stat")
    assert sections.count() == len(book.worksheets) > 0
    compared = 0
    for index, sheet in enumerate(book.worksheets):
        section = sections.nth(index)
        assert sheet.title.startswith(section.locator("h2").inner_text()[:20])
        on_page = [[_number(text) for text in row.locator("td").all_inner_texts()]
                   for row in section.locator("tbody tr").all()]
        in_book = [[_cell(v) for v in row] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert on_page == in_book[:len(on_page)], sheet.title
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
        compared += len(on_page)
    assert compared > 0


def _number(text: str) -> object:
    """A figure as the statistics page writes it (1.200; 2,5) read back as a number; other text as it is."""
    plain = text.replace(".", "").replace(",", ".")
    try:
        return float(plain)
    except ValueError:
        return text


def _cell(value: object) -> object:
    """A workbook cell compared as the page's: numbers as numbers (the workbook keeps 2.0 as 2), date
    cells as the page writes them (dd/mm/yyyy, with the time when it has one)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y" if value.time() == time() else "%d/%m/%Y %H:%M")
    return "" if value is None else str(value)


def _email(server: LiveServer, username: str) -> str:
    from service.db.models import User

    with server.runtime.read() as uow:
        return str(uow.session.scalars(select(User.email).where(User.username == username)).one())


def _version(server: LiveServer, round_id: str, unit_id: str) -> int:
    with server.runtime.read() as uow:
        return int(uow.session.scalars(select(UnitReport.version).where(
            UnitReport.round_id == round_id, UnitReport.unit_id == unit_id)).one())


def _figures() -> dict[str, object]:
    keys = ("c2_1_initiatives", "c2_2_infrastructure", "c2_3_online_services", "c2_3_processes_digitised",
            "c2_4_enterprises_supported", "c2_5_people_trained", "c2_6_incidents_handled", "c2_7_cooperation")
    values = (3, 2, 40, 12, 5, 1200, 4, 1)
    return {k: {"value": v} for k, v in zip(keys, values, strict=True)}


def _docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    parts += [" | ".join(c.text for c in row.cells) for table in doc.tables for row in table.rows]
    return "\n".join(parts)
