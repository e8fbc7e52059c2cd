"""Exports open in Excel as people expect: Vietnamese headers, number and date cells (not text),
bold frozen header, a filter over the whole table; and they stream."""

from __future__ import annotations

import io
import tracemalloc
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from service.exports.xlsx import Column, Table, to_xlsx, write_xlsx

COLUMNS = (Column("Đơn vị", width=40), Column("Số hồ sơ", "int"), Column("Ngày gửi", "date"),
           Column("Lần cập nhật cuối", "datetime"), Column("Số ngày làm việc (trung vị)", "float"))
ROWS = [("Ủy ban nhân dân phường Hiến Nam", 12, date(2026, 5, 4), datetime(2026, 5, 4, 3, 30, tzinfo=UTC), 3.5),
        ("Sở Tài chính", 0, None, None, None)]


def test_headers_cells_and_filter() -> None:
    book = load_workbook(io.BytesIO(to_xlsx([Table("Hồ sơ theo đơn vị", COLUMNS, ROWS)])))
    sheet = book["Hồ sơ theo đơn vị"]
    assert [c.value for c in sheet[1]] == [c.title for c in COLUMNS]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E3"
    name, count, sent, updated, median = (c.value for c in sheet[2])
    assert name == "Ủy ban nhân dân phường Hiến Nam"
    assert count == 12 and isinstance(count, int)
    assert sent == datetime(2026, 5, 4) and sheet["C2"].number_format == "dd/mm/yyyy"
    assert updated == datetime(2026, 5, 4, 10, 30)  # local time in Hà Nội
    assert median == 3.5 and sheet["E2"].data_type == "n"
    assert [c.value for c in sheet[3]][1:] == [0, None, None, None]


def test_a_wrong_cell_is_refused_with_its_column() -> None:
    with pytest.raises(ValueError, match="Số hồ sơ"):
        to_xlsx([Table("x", COLUMNS, [("A", "12", None, None, None)])])
    with pytest.raises(ValueError, match="5 cells"):
        to_xlsx([Table("x", COLUMNS[:4] + (Column("thêm"),) * 2, [ROWS[0]])])


def test_sheet_titles_are_made_valid() -> None:
    book = load_workbook(io.BytesIO(to_xlsx([Table("Báo cáo 2026/2027: [tổng hợp]?", COLUMNS, [])])))
    assert book.sheetnames == ["Báo cáo 2026-2027- -tổng hợp--"]


def peak_bytes(tmp_path, count: int) -> int:
    rows = ((f"Đơn vị {i}", i, date(2026, 1, 1), None, 1.5) for i in range(count))
    tracemalloc.start()
    with (tmp_path / f"big{count}.xlsx").open("wb") as out:
        write_xlsx([Table("Lớn", COLUMNS, rows)], out)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def test_a_large_export_streams_in_bounded_memory(tmp_path) -> None:
    # Ten times the rows, about the same memory: rows are written as they come, never held.
    small, large = peak_bytes(tmp_path, 1_000), peak_bytes(tmp_path, 10_000)
    assert large < 2 * small, (small, large)
    sheet = load_workbook(tmp_path / "big10000.xlsx", read_only=True)["Lớn"]
    assert sum(1 for _ in sheet.iter_rows()) == 10_001


def test_text_shaped_like_rich_text_markup_is_written_as_typed_never_as_cells() -> None:
    """XlsxWriter's constant-memory mode copies "<r>…</r>" strings into the sheet as XML: a name like
    this one would add a formula cell beside it."""
    import openpyxl

    hostile = '<r><t>a</t></r></is></c><c r="B2" t="str"><f>HYPERLINK("http://x.invalid","y")</f><v>y</v></c><c><is><r><t>b</t></r>'
    plain = "<r>not markup</r>"
    data = to_xlsx([Table("Danh sách", [Column("Tên"), Column("Số", "int")], [[hostile, 1], [plain, 2]])])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["A2"].value == hostile and sheet["B2"].value == 1
    assert sheet["A3"].value == plain and sheet["B3"].value == 2
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
