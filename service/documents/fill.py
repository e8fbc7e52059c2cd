"""The register's number and date written into a draft decision at signing.

A draft leaves gaps (decree30.BLANK) where the number and the date go: "Số:      /QĐ-UBND", "ngày
tháng      năm 2026" and, in the annex, "số      /QĐ-UBND ngày      /      /2026". The draft that
is signed may be the one nomflow rendered or one Home Affairs edited in Word and uploaded, so the
gaps are found in the document's text, not rebuilt from data: what Home Affairs wrote is kept. Word
splits a paragraph into runs as it likes, so a gap spread over runs is joined into the first run.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from docx import Document

from service.documents import decree30

BLANK = decree30.BLANK


class FillError(ValueError):
    """The draft has no gap for the number or the date; the message says so, in Vietnamese."""


def gaps(symbol: str, year: int) -> dict[str, str]:
    """The gap patterns a draft of this symbol and year holds, by what goes into them."""
    return {"number": f"{BLANK}/{symbol}", "date": f"ngày{BLANK}tháng{BLANK}năm {year}",
            "short_date": f"{BLANK}/{BLANK}/{year}"}


def _paragraphs(doc: Any) -> Iterator[Any]:
    yield from doc.paragraphs
    for part in [doc] + [s.header for s in doc.sections] + [s.footer for s in doc.sections]:
        yield from _table_paragraphs(part.tables)


def _table_paragraphs(tables: Any) -> Iterator[Any]:
    for table in tables:
        for row in table.rows:
            seen: set[int] = set()
            for cell in row.cells:
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                yield from cell.paragraphs
                yield from _table_paragraphs(cell.tables)


def check_gaps(docx: bytes, symbol: str, year: int) -> None:
    """Refuse a draft with no gap for the number or the date: the register could not fill it in."""
    text = "\n".join(p.text for p in _paragraphs(_open(docx)))
    wanted = gaps(symbol, year)
    if not re.search(r"Số:\s*" + re.escape(wanted["number"]), text):
        raise FillError(f"Bản dự thảo không còn chỗ trống cho số quyết định (“Số: …/{symbol}”): "
                        "số do sổ đăng ký cấp khi ký, không gõ tay")
    if wanted["date"] not in text:
        raise FillError(f"Bản dự thảo không còn chỗ trống cho ngày ký (“ngày … tháng … năm {year}”): "
                        "ngày do hệ thống điền khi ký")


def fill(docx: bytes, symbol: str, number: int, signed_on: date) -> bytes:
    """The DOCX with every gap filled: number, place-and-date line and the annex's short citation."""
    doc = _open(docx)
    check_gaps(docx, symbol, signed_on.year)
    wanted = gaps(symbol, signed_on.year)
    place_date = decree30.place_and_date("", signed_on, signed_on.year).removeprefix(", ")
    values = {wanted["short_date"]: decree30.short_date(signed_on),  # before "number": it holds a BLANK/
              wanted["number"]: f"{number:02d}/{symbol}",
              wanted["date"]: place_date}
    for paragraph in _paragraphs(doc):
        for gap, value in values.items():
            if gap in paragraph.text:
                _replace(paragraph, gap, value)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _replace(paragraph: Any, gap: str, value: str) -> None:
    runs = paragraph.runs
    for run in runs:
        if gap in run.text:
            run.text = run.text.replace(gap, value)
    if gap not in paragraph.text or not runs:
        return
    # Spread over runs (Word's editing): the paragraph's text goes into its first run.
    joined = "".join(r.text for r in runs).replace(gap, value)
    runs[0].text = joined
    for run in runs[1:]:
        run.text = ""


def _open(docx: bytes) -> Any:
    try:
        return Document(io.BytesIO(docx))
    except Exception as exc:  # noqa: BLE001 - any unreadable DOCX is the same answer to the user
        raise FillError(f"Không đọc được tệp DOCX: {exc}") from exc
