"""Exports open in Excel as people expect: Vietnamese headers, number and date cells (not text),
bold frozen header, a filter over the whole table, every text shown as typed; and they stream."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from service.exports.xlsx import MAX_TEXT, Column, Table, to_xlsx

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = (Column("Đơn vị", width=40), Column("Số hồ sơ", "int"), Column("Ngày gửi", "date"),
           Column("Lần cập nhật cuối", "datetime"), Column("Số ngày làm việc (trung vị)", "float"))
ROWS = [("Ủy ban nhân dân phường Hiến Nam", 12, date(2026, 5, 4), datetime(2026, 5, 4, 3, 30, tzinfo=UTC), 3.5),
        ("Sở Tài chính", 0, None, None, None)]


def shown(value: object) -> object:
    """A cell's text as Excel shows it: openpyxl leaves OOXML's _xHHHH_ escapes (a control character,
    or a literal "_x" sequence escaped as _x005F_) in inline strings undecoded; Excel decodes them."""
    return unescape(value) if isinstance(value, str) else value


def test_headers_cells_and_filter() -> None:
    book = load_workbook(io.BytesIO(to_xlsx([Table("Hồ sơ theo đơn vị", COLUMNS, ROWS)])))
    sheet = book["Hồ sơ theo đơn vị"]
    assert [c.value for c in sheet[1]] == [c.title for c in COLUMNS]
    assert all(c.font.b and c.alignment.wrap_text for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E3"
    name, count, sent, updated, median = (c.value for c in sheet[2])
    assert name == "Ủy ban nhân dân phường Hiến Nam"
    # A number cell (Excel holds every number as a double; openpyxl may read 12 back as 12.0).
    assert count == 12 and sheet["B2"].data_type == "n" and sheet["B2"].number_format == "#,##0"
    assert sent == datetime(2026, 5, 4) and sheet["C2"].number_format == "dd/mm/yyyy"
    assert updated == datetime(2026, 5, 4, 10, 30)  # local time in Hà Nội
    assert sheet["D2"].number_format == "dd/mm/yyyy hh:mm"
    assert median == 3.5 and sheet["E2"].data_type == "n" and sheet["E2"].number_format == "#,##0.0"
    assert [c.value for c in sheet[3]][1:] == [0, None, None, None]
    # Widths as given (Excel stores a width with its padding: 40 characters are 40.71).
    assert [round(sheet.column_dimensions[letter].width) for letter in "ABCDE"] == [41, 19, 19, 19, 19]


def test_a_date_column_shows_the_local_day() -> None:
    # 20:30 UTC on 4 May is 03:30 on 5 May in Hà Nội: the day people read on the page.
    late = datetime(2026, 5, 4, 20, 30, tzinfo=UTC)
    sheet = load_workbook(io.BytesIO(to_xlsx([Table("x", COLUMNS, [("A", 1, late, late, 1.0)])]))).active
    assert sheet["C2"].value == datetime(2026, 5, 5) and sheet["D2"].value == datetime(2026, 5, 5, 3, 30)


@pytest.mark.parametrize("cells", [("A", "12", None, None, None), ("A", True, None, None, None),
                                   ("A", float("nan"), None, None, None), ("A", float("inf"), None, None, None)])
def test_a_wrong_number_is_refused_with_its_column(cells: tuple) -> None:
    with pytest.raises(ValueError, match="Số hồ sơ"):
        to_xlsx([Table("x", COLUMNS, [ROWS[0], cells])])


def test_a_wrong_row_is_refused() -> None:
    with pytest.raises(ValueError, match="Ngày gửi"):
        to_xlsx([Table("x", COLUMNS, [("A", 1, "04/05/2026", None, None)])])
    with pytest.raises(ValueError, match="5 cells, expected 6"):
        to_xlsx([Table("x", (*COLUMNS, Column("Ghi chú")), [ROWS[0]])])
    with pytest.raises(ValueError, match="row 2 of 'x' has 4 cells"):
        to_xlsx([Table("x", COLUMNS, [ROWS[0], ROWS[1][:4]])])
    with pytest.raises(ValueError, match="same title"):
        to_xlsx([Table("x", (Column("Tên"), Column("Tên")), [("a", "b")])])


def test_sheet_titles_are_made_valid() -> None:
    book = load_workbook(io.BytesIO(to_xlsx([Table("Báo cáo 2026/2027: [tổng hợp]?", COLUMNS, [])])))
    assert book.sheetnames == ["Báo cáo 2026-2027- -tổng hợp--"]
    long = "Số hồ sơ theo đơn vị, loại đối tượng và hình thức khen thưởng"
    assert load_workbook(io.BytesIO(to_xlsx([Table(long, COLUMNS, [])]))).sheetnames == [long[:31]]
    odd = [Table("'Trích dẫn'", COLUMNS, []), Table("History", COLUMNS, []), Table("  ", COLUMNS, []),
           Table("Tên dài đúng ba mươi mốt ký tự'x", COLUMNS, [])]
    assert load_workbook(io.BytesIO(to_xlsx(odd))).sheetnames == ["Trích dẫn", "Bảng History", "Bảng",
                                                                  "Tên dài đúng ba mươi mốt ký tự"]
    # Two tables whose names Excel would take for one: refused before anything is written.
    with pytest.raises(ValueError, match="two sheets"):
        to_xlsx([Table(long + " 2025", COLUMNS, []), Table(long.upper() + " 2026", COLUMNS, [])])


def test_an_empty_table_still_shows_its_header() -> None:
    sheet = load_workbook(io.BytesIO(to_xlsx([Table("Trống", COLUMNS, iter([]))]))).active
    assert [c.value for c in sheet[1]] == [c.title for c in COLUMNS] and all(c.font.b for c in sheet[1])
    assert sheet.max_row == 1 and sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref in ("A1:E1", "A1:E2")  # the header (and one empty row)


def test_several_tables_each_on_its_sheet() -> None:
    first = Table("Theo đơn vị", COLUMNS, ROWS)
    second = Table("Theo hình thức", (Column("Hình thức", width=30), Column("Số", "int")), [("Bằng khen", 7)])
    book = load_workbook(io.BytesIO(to_xlsx([first, second])))
    assert book.sheetnames == ["Theo đơn vị", "Theo hình thức"]
    sheet = book["Theo hình thức"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["Hình thức", "Số"], ["Bằng khen", 7]]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:B2" and sheet["A1"].font.b
    assert round(sheet.column_dimensions["A"].width) == 31 and sheet["B2"].number_format == "#,##0"
    assert book["Theo đơn vị"].auto_filter.ref == "A1:E3"


TEXTS = ["=1+1", "=HYPERLINK(\"http://x.invalid\",\"y\")", "+84912345678", "-5", "@x", "0012", "1e5", "TRUE",
         "<r><t>x</t></r>", "& < > \" '", "]]>", "a\x01b\x1fc", "tab\tline\nreturn\r", "_x0041_", "_x005F_x0041_",
         "😀 thi đua 👍", "Ủy ban nhân dân phường Hiến Nam", "Nguyễn Thị Thu Hương", " spaces around ", "http://x.invalid"]


def test_every_text_is_shown_as_typed_in_a_text_cell() -> None:
    data = to_xlsx([Table("Danh sách", [Column("Tên"), Column("Số", "int")],
                          [[text, n] for n, text in enumerate(TEXTS)])])
    sheet = load_workbook(io.BytesIO(data)).active
    for row, text in enumerate(TEXTS, start=2):
        cell = sheet.cell(row, 1)
        assert (shown(cell.value), cell.data_type) == (text, "s"), row
        assert sheet.cell(row, 2).value == row - 2
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert "<f>" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()


def test_text_shaped_like_rich_text_markup_is_written_as_typed_never_as_cells() -> None:
    """XlsxWriter's constant-memory mode copied "<r>…</r>" strings into the sheet as XML: a name like
    this one would add a formula cell beside it. rust_xlsxwriter escapes every text."""
    hostile = '<r><t>a</t></r></is></c><c r="B2" t="str"><f>HYPERLINK("http://x.invalid","y")</f><v>y</v></c><c><is><r><t>b</t></r>'
    plain = "<r>not markup</r>"
    data = to_xlsx([Table("Danh sách", [Column("Tên"), Column("Số", "int")], [[hostile, 1], [plain, 2]])])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A2"].value == hostile and sheet["B2"].value == 1
    assert sheet["A3"].value == plain and sheet["B3"].value == 2
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_a_text_over_excels_limit_is_cut_to_it_with_a_mark() -> None:
    # Excel keeps at most 32,767 characters in a cell; the export is not refused for one long text.
    long, fits = "Ư" * (MAX_TEXT + 10), "ư" * MAX_TEXT
    sheet = load_workbook(io.BytesIO(to_xlsx([Table("x", [Column("Nội dung")], [[long], [fits]])]))).active
    assert sheet["A2"].value == "Ư" * (MAX_TEXT - 1) + "…"
    assert sheet["A3"].value == fits


MEMORY_PROBE = """
import json, sys, uuid
from datetime import UTC, datetime
sys.path[:0] = [sys.argv[2]]
from service.exports.xlsx import Column, Table, write_xlsx
count = int(sys.argv[1])
now = datetime(2026, 5, 4, 3, 30, tzinfo=UTC)
rows = ((str(uuid.uuid4()), f"Ủy ban nhân dân phường số {i}", f"Nguyễn Văn {i:09d}", i, now) for i in range(count))
columns = [Column("Mã"), Column("Đơn vị"), Column("Tên"), Column("Số", "int"), Column("Lúc", "datetime")]
def peak_kib():
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0])
open("/proc/self/clear_refs", "w").write("5")  # the peak from here on, not the imports'
with open(sys.argv[3], "wb") as out:
    write_xlsx([Table("Lớn", columns, rows)], out)
print(json.dumps(peak_kib()))
"""


def peak_rss_kib(tmp_path: Path, count: int) -> int:
    target = tmp_path / f"big{count}.xlsx"
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(count), str(ROOT), str(target)],
                          check=True, capture_output=True, text=True, timeout=300)
    return int(json.loads(done.stdout))


def test_a_large_export_streams_in_bounded_memory(tmp_path: Path) -> None:
    # Eight times the rows, the same peak memory of the whole process (Python and the writer's own):
    # rows are written as they come, never held, and the workbook is never built in memory (saved
    # into a buffer, the writer holds the whole compressed file: +6 MiB here, +60 MiB for 400,000 rows).
    small, large = peak_rss_kib(tmp_path, 10_000), peak_rss_kib(tmp_path, 80_000)
    assert large - small < 2 * 1024, (small, large)
    assert load_workbook(tmp_path / "big80000.xlsx", read_only=True)["Lớn"].max_row == 80_001
    # The last row is there (read from the sheet's XML: openpyxl takes ~15 s for 80,000 rows).
    xml = zipfile.ZipFile(tmp_path / "big80000.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert xml.rindex('<row r="80001"') > xml.rindex("Nguyễn Văn 000079998") and "Nguyễn Văn 000079999" in xml
