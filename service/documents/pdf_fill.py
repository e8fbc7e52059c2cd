"""The register's number and date written into a draft that Home Affairs uploaded as a PDF.

A PDF cannot be re-rendered, so the gaps are found in its text layer (poppler's pdftotext, as
stamp.signature_place finds the signer's name) and the values are drawn into them as an appended
revision, before the signature covers the whole. Gaps: "Số:      /QĐ-UBND" (and "số      /QĐ-UBND"
in the annex), "ngày      tháng      năm 2026" and "ngày      /      /2026".
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from datetime import date

from lxml import etree
from PIL import Image, ImageDraw, ImageFont
from pyhanko import stamp
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, BoxConstraints, InnerScaling, Margins, SimpleBoxLayoutRule

from service.documents.stamp import FONT

MIN_GAP = 8.0  # points: words closer than this have no gap between them
SCALE = 8  # pixels per point of the drawn values


class PdfFillError(ValueError):
    """No gap for the number or the date in the PDF; the message says so, in Vietnamese."""


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Slot:
    page: int
    page_height: float
    what: str  # number | day | month | short_day | short_month
    x0: float
    x1: float
    y0: float
    y1: float


def _pages(pdf: bytes) -> list[tuple[float, list[Word]]]:
    found = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=False)
    if found.returncode != 0:
        raise PdfFillError("Không đọc được chữ trong tệp PDF tải lên")
    root = etree.fromstring(found.stdout, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    return [(float(page.get("height")),
             [Word(w.text or "", *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")))
              for w in page.iterfind("h:word", ns)]) for page in root.iterfind(".//h:page", ns)]


def slots(pdf: bytes, symbol: str, year: int) -> list[Slot]:
    out: list[Slot] = []
    for index, (height, words) in enumerate(_pages(pdf)):
        for w in words:
            after = _following(w, words, 3)
            texts = [a.text for a in after]

            def gap(a: Word, b: Word, what: str, page: int = index, page_height: float = height) -> None:
                if b.x0 - a.x1 >= MIN_GAP:
                    out.append(Slot(page, page_height, what, a.x1, b.x0, a.y0, a.y1))

            if w.text in ("Số:", "số") and texts[:1] and texts[0].startswith(f"/{symbol}"):
                gap(w, after[0], "number")
            if w.text == "ngày" and texts[:2] == ["tháng", "năm"] and len(texts) == 3 \
                    and texts[2].startswith(str(year)):
                gap(w, after[0], "day")
                gap(after[0], after[1], "month")
            if w.text == "ngày" and len(texts) >= 2 and texts[0] == "/" and texts[1].startswith(f"/{year}"):
                gap(w, after[0], "short_day")
                gap(after[0], after[1], "short_month")
    return out


def _following(word: Word, words: list[Word], count: int) -> list[Word]:
    """The next words to the right on the same line, by position: pdftotext lists the words of a
    two-column header column by column, not line by line."""
    line = sorted((w for w in words if abs(w.y0 - word.y0) < 2 and w.x0 > word.x1), key=lambda w: w.x0)
    return line[:count]


def check_pdf_gaps(pdf: bytes, symbol: str, year: int) -> None:
    found = {s.what for s in slots(pdf, symbol, year)}
    if "number" not in found:
        raise PdfFillError(f"Bản dự thảo PDF không còn chỗ trống cho số quyết định (“Số: …/{symbol}”): "
                           "số do sổ đăng ký cấp khi ký, không gõ tay")
    if "day" not in found:
        raise PdfFillError(f"Bản dự thảo PDF không còn chỗ trống cho ngày ký (“ngày … tháng … năm {year}”)")


def fill_pdf(pdf: bytes, symbol: str, number: int, signed_on: date) -> bytes:
    check_pdf_gaps(pdf, symbol, signed_on.year)
    values = {"number": f"{number:02d}", "day": f"{signed_on.day:02d}",
              "month": f"{signed_on.month:02d}" if signed_on.month <= 2 else str(signed_on.month),
              "short_day": str(signed_on.day), "short_month": str(signed_on.month)}
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    for slot in slots(pdf, symbol, signed_on.year):
        width, height = slot.x1 - slot.x0 - 2, slot.y1 - slot.y0
        picture = _text_image(values[slot.what], width, height, right=slot.what == "number")
        style = stamp.TextStampStyle(stamp_text="", border_width=0, background=PdfImage(picture),
                                     background_opacity=1.0, background_layout=SimpleBoxLayoutRule(
                                         x_align=AxisAlignment.ALIGN_MID, y_align=AxisAlignment.ALIGN_MID,
                                         margins=Margins(0, 0, 0, 0), inner_content_scaling=InnerScaling.STRETCH_FILL))
        box = BoxConstraints(width=int(width), height=int(height))
        stamp.TextStamp(writer, style, box=box).apply(slot.page, int(slot.x0 + 1),
                                                      int(slot.page_height - slot.y1))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _text_image(text: str, width: float, height: float, *, right: bool) -> Image.Image:
    image = Image.new("RGBA", (max(1, int(width * SCALE)), max(1, int(height * SCALE))), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, int(height * SCALE * 0.72))
    x = image.width - 2 if right else image.width // 2
    draw.text((x, image.height // 2), text, fill=(0, 0, 0, 255), font=font, anchor="rm" if right else "mm")
    return image
