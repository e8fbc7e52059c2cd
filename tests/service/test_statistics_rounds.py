"""The statistics page's reporting rounds table (sent / sent late / not sent per round) on a known
data set, on SQLite and PostgreSQL: the page, its chart and the downloaded .xlsx (read back with
openpyxl) show the same figures, from one query."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from flask.testing import FlaskClient
from lxml import html
from openpyxl import load_workbook

from tests.service.conftest import VN
from tests.service.helpers import HEAD, HIEN_NAM, OTHER_HEAD, OTHER_STAFF, TAI_CHINH
from tests.service.test_reporting_rounds import NGHIA_TRU, open_round, send_up
from tests.service.test_statistics import log_in, page_tables
from workflows.clock import FixedClock

KEY = "rounds"


def known_rounds(client: FlaskClient, auth: Any, clock: FixedClock) -> tuple[str, str]:
    """Monday 13 April 2026: round A (3 units, due in 5 working days) and round B (2 units, due in 10).
    Hiến Nam sends A on time; after A's due date Tài chính sends A late; Nghĩa Trụ never sends; nobody
    sends B."""
    first = open_round(client, auth, units=(HIEN_NAM, TAI_CHINH, NGHIA_TRU), days=5)
    second = open_round(client, auth, units=(HIEN_NAM, TAI_CHINH), days=10)
    send_up(client, auth, first)
    clock.set(datetime(2026, 4, 23, 9, 0, tzinfo=VN))  # past A's due date (Mon 20 April), before B's
    send_up(client, auth, first, unit=TAI_CHINH, staff=OTHER_STAFF, head=OTHER_HEAD)
    return first, second


def the_table(client: FlaskClient) -> tuple[list[list[str]], list[tuple[Any, ...]], str]:
    page = client.get("/statistics")
    assert page.status_code == 200
    rows = page_tables(page.text)[KEY]
    tree = html.fromstring(page.text)
    chart = tree.xpath(f"//section[@id='{KEY}']//svg")
    title = tree.xpath(f"//h2[@id='h-{KEY}']")[0].text_content().strip()
    movement = tree.xpath("//select[@id='movement']/option[@selected]/@value")[0]
    export = client.get(f"/statistics/export.xlsx?table={KEY}&movement={movement}")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.data))
    sheet = book.active
    assert sheet.title == title[:31]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:G{len(rows)}"
    assert chart, "the table has its chart"
    return rows, list(sheet.iter_rows(values_only=True)), chart[0].get("aria-label")


def test_sent_late_and_missing_reports_per_round(client: FlaskClient, auth: Any, clock: FixedClock, app: Any) -> None:
    known_rounds(client, auth, clock)
    browser = app.test_client()
    log_in(browser, "quantri")
    page, sheet, _ = the_table(browser)
    assert page[0] == ["Đợt báo cáo", "Loại báo cáo", "Hạn gửi", "Số đơn vị", "Đã gửi", "Trong đó gửi muộn",
                       "Chưa gửi"]
    assert tuple(page[0]) == sheet[0]
    # Round A is due Monday 20 April (5 working days), round B Tuesday 28 April (10: Monday 27 is the
    # day off for the Hùng Kings festival, which falls on a Sunday in 2026).
    assert sheet[1:] == [("Báo cáo kết quả năm 2026", "Báo cáo kết quả", datetime(2026, 4, 20), 3, 2, 1, 1),
                         ("Báo cáo kết quả năm 2026", "Báo cáo kết quả", datetime(2026, 4, 28), 2, 0, 0, 2)]
    assert [row[2:] for row in page[1:]] == [["20/04/2026", "3", "2", "1", "1"], ["28/04/2026", "2", "0", "0", "2"]]
    assert isinstance(sheet[1][2], date) and all(isinstance(v, int | float) for row in sheet[1:] for v in row[3:])

    head = app.test_client()
    log_in(head, HEAD)  # Hiến Nam's head: their unit's reports only
    page, sheet, _ = the_table(head)
    assert [row[3:] for row in sheet[1:]] == [(1, 1, 0, 0), (1, 0, 0, 1)]
    assert [row[3:] for row in page[1:]] == [["1", "1", "0", "0"], ["1", "0", "0", "1"]]
    assert TAI_CHINH not in str(sheet)
