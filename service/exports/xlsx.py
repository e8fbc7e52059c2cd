"""A table (the same rows a page shows) as an .xlsx workbook.

Written by rustpy-xlsxwriter, a binding on rust_xlsxwriter (the Rust port of XlsxWriter by the same
author) in its constant-memory mode: rows come from a generator and go to the sheet's temporary file
as they are written, so a 100,000-row export holds one row in memory at a time; the workbook is saved
to a file, never built in memory. The cell XML is written in Rust: the full export's server CPU fell
from ~16 s to ~4 s against XlsxWriter's constant-memory mode, which this replaced (its per-cell Python
code was most of it; docs/performance.md has the figures). Numbers and dates are number
and date cells (a filter and a sum work on them), the header row is bold and frozen, and the auto
filter covers the whole table.

What this module still checks itself, before a value reaches the writer: the number of cells in a row,
each value's type against its column (the writer would store a text in a number column as a text, a
bool as TRUE/FALSE), and Excel's limits (a sheet's name, a cell's 32,767 characters).
"""

from __future__ import annotations

import io
import math
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from rustpy_xlsxwriter import FastExcel, Format

KINDS = ("text", "int", "float", "date", "datetime")
FORMATS = {"date": "dd/mm/yyyy", "datetime": "dd/mm/yyyy hh:mm", "int": "#,##0", "float": "#,##0.0"}
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_SHEET_TITLE = 31  # Excel's limit
MAX_TEXT = 32_767  # Excel's limit on a cell's text
CUT_MARK = "…"


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


def open_xlsx(tables: Sequence[Table]) -> IO[bytes]:
    """The workbook as an open file at its start, to send or copy; closing it frees it. The writer saves a
    buffer in one piece (the whole compressed workbook in memory) but a path as it zips, so it writes to a
    file of its own: memory stays flat. The folder goes at once; the open file stays readable (POSIX)."""
    titles = [_sheet_title(table.title) for table in tables]
    seen = [title.casefold() for title in titles]
    for title in titles:
        if seen.count(title.casefold()) > 1:  # Excel compares sheet names ignoring case
            raise ValueError(f"two sheets would be named {title!r}")
    bold = Format().set_bold().set_text_wrap().set_align("vcenter")
    with tempfile.TemporaryDirectory(prefix="nomflow-xlsx-") as folder:
        path = Path(folder) / "book.xlsx"
        book = FastExcel(str(path)).freeze(row=1, col=0)
        for title, table in zip(titles, tables, strict=True):
            columns = list(table.columns)
            headers = [str(column.title) for column in columns]
            if len(set(headers)) != len(headers):  # the writer keys a row's cells by their column's title
                raise ValueError(f"{table.title!r} has two columns with the same title")
            book.sheet(title, _records(table, headers, columns), column_widths=[float(c.width) for c in columns],
                       column_formats={name: Format().set_num_format(FORMATS[column.kind])
                                       for name, column in zip(headers, columns, strict=True)
                                       if column.kind in FORMATS},
                       header_format=bold, autofilter=True)
        book.save()
        return path.open("rb")


def write_xlsx(tables: Sequence[Table], out: IO[bytes]) -> None:
    with open_xlsx(tables) as written:
        shutil.copyfileobj(written, out)


def to_xlsx(tables: Sequence[Table]) -> bytes:
    out = io.BytesIO()
    write_xlsx(tables, out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    # Excel refuses these characters in a sheet's name, an apostrophe at either end, and "History"
    # (its own change-tracking sheet).
    cleaned = "".join("-" if c in '[]:*?/\\' else c for c in title).strip().strip("'").strip() or "Bảng"
    if cleaned.casefold() == "history":
        cleaned = "Bảng " + cleaned
    return cleaned[:MAX_SHEET_TITLE].rstrip("'")


def _records(table: Table, titles: list[str], columns: list[Column]) -> Iterator[dict[str, Any]]:
    """The rows as the writer takes them, one dict per row keyed by the headers (which it writes as the
    header row), each value checked against its column."""
    cells = list(zip(titles, [_cell(column) for column in columns], strict=True))
    width = len(columns)
    count = 0
    for count, row in enumerate(table.rows, start=1):
        if len(row) != width:
            raise ValueError(f"row {count} of {table.title!r} has {len(row)} cells, expected {width}")
        yield {title: None if value is None else cell(value)
               for (title, cell), value in zip(cells, row, strict=True)}
    if count == 0:
        # The writer takes its header row from the first row's keys: an empty table still shows its
        # header (and its filter, over the header and one empty row).
        yield dict.fromkeys(titles)


def text_cell(value: Any) -> str:
    """The text as the cell holds it: any value as its text, one longer than Excel's limit cut to it
    (ending in "…"). The writer escapes the XML itself, and writes every text as text, never as a formula,
    a number or rich-text runs."""
    text = value if type(value) is str else str(value)
    if len(text) > MAX_TEXT:
        return text[:MAX_TEXT - len(CUT_MARK)] + CUT_MARK
    return text


def _cell(column: Column) -> Callable[[Any], Any]:
    if column.kind == "text":
        return text_cell
    if column.kind in ("int", "float"):
        def number(value: Any) -> Any:
            if (not isinstance(value, int | float) or isinstance(value, bool)
                    or (isinstance(value, float) and not math.isfinite(value))):  # Excel has no NaN or infinity
                raise ValueError(f"{column.title}: {value!r} is not a number")
            return value
        return number

    def moment(value: Any) -> Any:
        if not isinstance(value, date):
            raise ValueError(f"{column.title}: {value!r} is not a date")
        if isinstance(value, datetime):
            if value.tzinfo:
                # Excel has no time zones: the local wall time people read on the page.
                value = value.astimezone(LOCAL).replace(tzinfo=None)
            if column.kind == "date":
                return value.date()
        return value
    return moment
