"""A table (the same rows a page shows) as an .xlsx workbook.

Written in openpyxl's write-only mode, row by row, so a 100,000-row export holds one row in memory
at a time. Numbers and dates are number and date cells (a filter and a sum work on them), the header
row is bold and frozen, and the auto filter covers the whole table.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

KINDS = ("text", "int", "float", "date", "datetime")
FORMATS = {"date": "dd/mm/yyyy", "datetime": "dd/mm/yyyy hh:mm", "int": "#,##0", "float": "#,##0.0"}
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_SHEET_TITLE = 31  # Excel's limit


@dataclass(frozen=True)
class Column:
    title: str  # the header, as the page shows it (Vietnamese by default)
    kind: str = "text"
    width: int = 18

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(frozen=True)
class Table:
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]


def write_xlsx(tables: Sequence[Table], out: IO[bytes]) -> None:
    workbook = Workbook(write_only=True)
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title))
        try:
            _write(sheet, table)
        except BaseException:
            sheet.close()  # ends openpyxl's row writer, which would otherwise be left half-way
            raise
    workbook.save(out)


def to_xlsx(tables: Sequence[Table]) -> bytes:
    out = io.BytesIO()
    write_xlsx(tables, out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    # Excel refuses these characters in a sheet's name.
    cleaned = "".join("-" if c in '[]:*?/\\' else c for c in title).strip() or "Bảng"
    return cleaned[:MAX_SHEET_TITLE]


def _write(sheet: WriteOnlyWorksheet, table: Table) -> None:
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, value=column.title)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        header.append(cell)
    sheet.append(header)
    # One styled cell per number or date column, given each row's value in turn: a write-only sheet
    # writes a row as it is appended, and building and styling a cell per value was most of the time.
    styled = [_styled(sheet, column) for column in table.columns]
    count = 0
    for row in table.rows:
        if len(row) != len(table.columns):
            raise ValueError(f"row {count + 1} of {table.title!r} has {len(row)} cells, expected {len(table.columns)}")
        sheet.append([_cell(cell, column, value) for cell, column, value in zip(styled, table.columns, row,
                                                                                strict=True)])
        count += 1
    last = get_column_letter(len(table.columns))
    sheet.auto_filter.ref = f"A1:{last}{count + 1}"


def _styled(sheet: WriteOnlyWorksheet, column: Column) -> WriteOnlyCell | None:
    if column.kind == "text":
        return None
    cell = WriteOnlyCell(sheet)
    cell.number_format = FORMATS[column.kind]
    return cell


def _cell(cell: WriteOnlyCell | None, column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == "datetime" and isinstance(value, datetime):
        # Excel has no time zones: the local wall time people read on the page.
        value = value.astimezone(LOCAL).replace(tzinfo=None) if value.tzinfo else value
    elif column.kind == "date" and isinstance(value, datetime):
        value = value.date()
    elif column.kind in ("int", "float") and not isinstance(value, int | float):
        raise ValueError(f"{column.title}: {value!r} is not a number")
    elif column.kind == "date" and not isinstance(value, date):
        raise ValueError(f"{column.title}: {value!r} is not a date")
    if cell is None:
        return str(value)
    cell.value = value
    return cell
