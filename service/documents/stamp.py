"""Where the visible signature goes and how it looks (Decree 30/2020/NĐ-CP, electronic documents):
the signer's signature image at the signature place, the seal over its left third, then the
organisation's name and the signing time."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass

from lxml import etree
from PIL import Image, ImageDraw, ImageFont
from pyhanko import stamp
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.layout import AxisAlignment, SimpleBoxLayoutRule

FONT = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
BOX_WIDTH, BOX_HEIGHT = 220.0, 72.0


@dataclass(frozen=True)
class SignaturePlace:
    page: int  # zero-based
    box: tuple[float, float, float, float]  # PDF points, from the bottom-left corner
    location: str | None = None

    @property
    def int_box(self) -> tuple[int, int, int, int]:
        x1, y1, x2, y2 = (round(v) for v in self.box)
        return x1, y1, x2, y2


def signature_place(pdf: bytes, signer_name: str, location: str | None = None) -> SignaturePlace:
    """The space above the signer's printed name on the last page that has it: the words are found
    in the PDF's own text layer (poppler's pdftotext), so the box follows the rendered layout."""
    found = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    root = etree.fromstring(found, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    wanted = signer_name.split()
    place = None
    for number, page in enumerate(root.iterfind(".//h:page", ns)):
        height = float(page.get("height"))
        words = list(page.iterfind("h:word", ns))
        texts = [w.text or "" for w in words]
        for i in range(len(words) - len(wanted) + 1):
            if texts[i:i + len(wanted)] == wanted:
                run = words[i:i + len(wanted)]
                x_min, x_max = float(run[0].get("xMin")), float(run[-1].get("xMax"))
                centre = (x_min + x_max) / 2
                name_top = float(run[0].get("yMin"))
                # Up to the line above in the same column (the signer's title), from the top of the page.
                left, right = centre - BOX_WIDTH / 2, centre + BOX_WIDTH / 2
                above = [float(w.get("yMax")) for w in words if float(w.get("yMax")) < name_top
                         and float(w.get("xMax")) > left and float(w.get("xMin")) < right]
                gap_top = max(above, default=name_top - BOX_HEIGHT)
                place = SignaturePlace(number, (centre - BOX_WIDTH / 2, height - name_top + 1,
                                                centre + BOX_WIDTH / 2, height - gap_top - 1), location)
    if place is None:
        raise ValueError(f"không tìm thấy tên người ký '{signer_name}' trong văn bản")
    return place


def appearance(signature: bytes | None, seal: bytes | None, organisation: str, signed_at: str) -> Image.Image:
    """The picture of the signature: the seal over the left third of the signature image, and below
    them the organisation and the signing time. Drawn here, with a font that has every Vietnamese
    glyph, rather than as PDF text in the stamp."""
    sign_img = Image.open(io.BytesIO(signature)).convert("RGBA") if signature else None
    seal_img = Image.open(io.BytesIO(seal)).convert("RGBA") if seal else None
    height = 180
    if sign_img is not None:
        sign_img = sign_img.resize((int(sign_img.width * height / sign_img.height), height))
    if seal_img is not None:
        seal_img = seal_img.resize((int(seal_img.width * height / seal_img.height), height))
    sign_width = sign_img.width if sign_img else 0
    offset = max(0, seal_img.width - sign_width // 3) if seal_img is not None and sign_img is not None else 0
    font = ImageFont.truetype(FONT, 26)
    lines = [f"Ký bởi: {organisation}", f"Thời gian ký: {signed_at}"]
    text_width = max(int(font.getlength(line)) for line in lines)
    width = max(offset + sign_width, seal_img.width if seal_img else 0, text_width) + 8
    canvas = Image.new("RGBA", (width, height + 70), (255, 255, 255, 0))
    left = (width - max(offset + sign_width, seal_img.width if seal_img else 0)) // 2
    if sign_img is not None:
        canvas.alpha_composite(sign_img, (left + offset, 0))
    if seal_img is not None:
        canvas.alpha_composite(seal_img, (left, 0))
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text((width // 2, height + 6 + 32 * i), line, fill=(0, 0, 0, 255), font=font, anchor="mt")
    return canvas


def decree30_stamp(picture: Image.Image) -> stamp.TextStampStyle:
    return stamp.TextStampStyle(
        stamp_text="", border_width=0, background=PdfImage(picture), background_opacity=1.0,
        background_layout=SimpleBoxLayoutRule(x_align=AxisAlignment.ALIGN_MID, y_align=AxisAlignment.ALIGN_MID))
