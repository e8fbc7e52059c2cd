"""The layout rules of Decree 30/2020/NĐ-CP, Appendix I, for a document built with python-docx.

Fixed by law, so they are code: A4, margins (top/bottom 20 mm, left 30 mm, right 15 mm), Times New
Roman, the header block (issuing authority and number on the left, Quốc hiệu and Tiêu ngữ on the
right), place and date in italics, the document type and trích yếu, body at 14 pt justified with a
first-line indent, the signature block beside "Nơi nhận", page numbers from the second page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.text.paragraph import Paragraph

FONT = "Times New Roman"
NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
BLANK = "\u00a0" * 6  # the gap left for a number or a day the register fills in at signing
ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
         "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}


def document_number(number: int | None, symbol: str) -> str:
    """'Số: 05/QĐ-UBND': numbers under 10 take a leading zero (Appendix I, section II.4)."""
    return f"Số: {f'{number:02d}' if number is not None else BLANK}/{symbol}"


def place_and_date(place: str, day: date | None, year: int) -> str:
    """'Hưng Yên, ngày 05 tháng 02 năm 2026': days under 10 and months 1 and 2 take a leading zero."""
    if day is None:
        return f"{place}, ngày{BLANK}tháng{BLANK}năm {year}"
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def short_date(day: date) -> str:
    """'15/5/2026', as documents cite another document's date in running text."""
    return f"{day.day}/{day.month}/{day.year}"


@dataclass(frozen=True)
class Issuer:
    parent: str | None  # the governing body above the issuer, not bold; None for a province's UBND
    name: str  # e.g. "ỦY BAN NHÂN DÂN\nTỈNH HƯNG YÊN"
    place: str  # địa danh, e.g. "Hưng Yên"


def new_document() -> DocxDocument:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    _all_scripts(normal.element.get_or_add_rPr())
    normal.paragraph_format.space_after = Pt(0)
    _page_numbers(section)
    return doc


def _all_scripts(rpr: Any) -> None:
    # Without eastAsia/cs the Vietnamese letters with two diacritics may fall back to another font.
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)


def _page_numbers(section: Any) -> None:
    section.different_first_page_header_footer = True  # no number on the first page
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def line(container: Any, text: str = "", *, size: float = 14, bold: bool = False, italic: bool = False,
         align: str = "left", indent: bool = False, before: float = 0, after: float = 0) -> Paragraph:
    paragraph = container.add_paragraph()
    paragraph.alignment = ALIGN[align]
    fmt = paragraph.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if indent:
        fmt.first_line_indent = Cm(1.27)
    if text:
        for i, part in enumerate(text.split("\n")):
            run = paragraph.add_run(part)
            run.font.size, run.font.bold, run.font.italic = Pt(size), bold, italic
            if i < len(text.split("\n")) - 1:
                run.add_break(WD_BREAK.LINE)
    return paragraph


def rule_below(container: Any, width_cm: float, container_cm: float) -> None:
    """The short solid line under the issuer's name, the motto and the trích yếu, centred."""
    paragraph = line(container, size=2)
    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = Cm(max(0.0, (container_cm - width_cm) / 2))
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def set_widths(table: Any, widths_cm: tuple[float, ...]) -> None:
    """Column widths in the grid and in every cell: Word reads the cells, LibreOffice the grid."""
    table.autofit = False
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def keep_row_together(row: Any) -> None:
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def header_block(doc: DocxDocument, issuer: Issuer, number_line: str, date_line: str) -> None:
    left_cm, right_cm = 6.0, 10.5
    table = doc.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(table, (left_cm, right_cm))
    left, right = table.cell(0, 0), table.cell(0, 1)
    left.paragraphs[0].text = ""
    if issuer.parent:
        line(left, issuer.parent, size=13, align="center")
    line(left, issuer.name, size=13, bold=True, align="center")
    rule_below(left, 2.2, left_cm)
    line(left, number_line, size=13, align="center", before=6)
    line(right, NATIONAL_TITLE, size=12, bold=True, align="center")
    line(right, MOTTO, size=14, bold=True, align="center")
    rule_below(right, 5.6, right_cm)
    line(table.cell(1, 1), date_line, size=14, italic=True, align="center", before=6)
    for cell in (left, right, table.cell(1, 0), table.cell(1, 1)):
        first = cell.paragraphs[0]
        if not first.text and len(cell.paragraphs) > 1:
            first._p.getparent().remove(first._p)


def title_block(doc: DocxDocument, kind: str, subject: str) -> None:
    line(doc, kind, size=14, bold=True, align="center", before=18)
    line(doc, subject, size=14, bold=True, align="center")
    rule_below(doc, 4.0, 16.5)


def body(doc: DocxDocument, text: str, *, bold_lead: str | None = None, italic: bool = False) -> Paragraph:
    """A body paragraph: 14 pt, justified, 1.27 cm first-line indent, 6 pt apart, line spacing 1.15."""
    paragraph = line(doc, align="justify", indent=True, before=6)
    paragraph.paragraph_format.line_spacing = 1.15
    if bold_lead:
        lead = paragraph.add_run(bold_lead)
        lead.font.bold, lead.font.size = True, Pt(14)
    run = paragraph.add_run(text)
    run.font.size, run.font.italic = Pt(14), italic
    return paragraph


def signature_block(doc: DocxDocument, recipients: list[str], authority_lines: str, signer_name: str) -> None:
    table = doc.add_table(rows=1, cols=2)
    set_widths(table, (8.0, 8.5))
    keep_row_together(table.rows[0])  # the signer's name never goes to another page than the title
    left, right = table.cell(0, 0), table.cell(0, 1)
    left.paragraphs[0].text = ""
    line(left, "Nơi nhận:", size=12, bold=True, italic=True, before=12)
    for i, recipient in enumerate(recipients):
        end = "." if i == len(recipients) - 1 else ";"
        line(left, f"- {recipient.rstrip(';.')}{end}", size=11)
    right.paragraphs[0].text = ""
    line(right, authority_lines, size=14, bold=True, align="center", before=12)
    # Room for the signature and the seal (Appendix I: the image sits here in an e-signed copy).
    for _ in range(3):
        line(right, "", size=14)
    line(right, signer_name, size=14, bold=True, align="center")
