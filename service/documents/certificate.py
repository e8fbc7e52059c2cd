"""Bằng khen certificates: one landscape page per awardee, from config/documents/certificate.toml,
rendered once to PDF for printing the whole batch and split into one PDF per awardee."""

from __future__ import annotations

import io

from docx.enum.section import WD_ORIENT
from docx.shared import Mm
from pypdf import PdfReader, PdfWriter

from service.documents import decree30
from service.documents.award_decision import AwardDocument
from service.documents.decree30 import line
from service.documents.pdf import docx_to_pdf
from service.documents.wording import Wording


def render_docx(document: AwardDocument, wording: Wording | None = None) -> bytes:
    wording = wording or Wording.load("certificate")
    base = document.context()
    doc = decree30.new_document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin = section.bottom_margin = Mm(20)
    section.different_first_page_header_footer = False
    section.header.paragraphs[0].clear()  # a certificate carries no page number
    people = document.individual_kinds()
    for index, awardee in enumerate(document.awardees):
        if index:
            doc.add_page_break()
        ctx = {**base, "awardee": {"name": awardee.name, "position": awardee.position or "",
                                   "unit": awardee.unit or "", "is_individual": awardee.kind in people}}
        line(doc, wording.text("heading", ctx), size=16, bold=True, align="center", before=24)
        line(doc, wording.text("title", ctx), size=40, bold=True, align="center", before=18, after=12)
        line(doc, wording.text("lead", ctx), size=16, italic=True, align="center")
        line(doc, wording.text("name", ctx), size=24, bold=True, align="center", before=6)
        held = wording.text("held", ctx)
        if held:
            line(doc, held, size=16, align="center")
        line(doc, wording.text("reason", ctx), size=16, align="center", before=12)
        line(doc, wording.text("decision", ctx), size=13, italic=True, align="left", before=36)
        line(doc, decree30.place_and_date(document.issuer.place, document.signed_on, document.year), size=14,
             italic=True, align="right")
        line(doc, document.signer_authority, size=14, bold=True, align="right", before=6)
        line(doc, document.signer_name, size=14, bold=True, align="right", before=42)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def render_pdfs(document: AwardDocument, wording: Wording | None = None) -> tuple[bytes, list[bytes]]:
    """The batch's certificates in one PDF for printing, and one PDF per awardee, in annex order."""
    combined = docx_to_pdf(render_docx(document, wording))
    reader = PdfReader(io.BytesIO(combined))
    if len(reader.pages) != len(document.awardees):
        raise ValueError(f"{len(reader.pages)} trang cho {len(document.awardees)} người được khen: mẫu in tràn trang")
    singles: list[bytes] = []
    for page in reader.pages:
        writer = PdfWriter()
        writer.add_page(page)
        out = io.BytesIO()
        writer.write(out)
        singles.append(out.getvalue())
    return combined, singles

