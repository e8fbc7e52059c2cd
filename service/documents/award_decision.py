"""The documents of an award, with the list of awardees annexed, as DOCX: the Chairman's decision
(Quyết định tặng Bằng khen, config/documents/award_decision.toml) and Home Affairs' submission to
him (Tờ trình, config/documents/award_submission.toml). Same facts, same Decree 30 layout
(decree30.py), different words.

A draft has no number and no date (the register allocates both at signing); the signed version is
rendered again from the same data with them filled in, so the PDF that is signed carries them.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Cm, Pt

from service.documents import decree30
from service.documents.decree30 import Issuer, line
from service.documents.wording import Wording

# Only for documents made without their movement's kinds (AwardDocument.kinds empty): the 2026 plan's.
COLLECTIVE_KINDS = ("co_quan_don_vi", "mat_tran_to_chuc", "doanh_nghiep")
INDIVIDUAL = "ca_nhan"
ANNEX_WIDTHS_CM = (1.4, 5.0, 4.1, 6.0)


@dataclass(frozen=True)
class Awardee:
    kind: str  # the plan's nominee kinds (III.2.1 a-d): co_quan_don_vi, mat_tran_to_chuc, doanh_nghiep, ca_nhan
    name: str
    achievement: str
    position: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class AwardDocument:
    issuer: Issuer
    province: str
    symbol: str  # ký hiệu, e.g. "QĐ-UBND"
    year: int
    signer_authority: str  # "CHỦ TỊCH", or "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    signer_name: str
    movement: Mapping[str, Any]
    submission: Mapping[str, Any]  # Home Affairs' tờ trình: number, date
    awardees: Sequence[Awardee]
    number: int | None = None  # from the register, at signing
    signed_on: date | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The movement's nominee kinds in its order, (code, title, is a person): the annex's groups.
    kinds: Sequence[tuple[str, str, bool]] = ()
    award_title: str = ""  # the award granted, as the movement names it (the wording's {{ award.title }})

    def individual_kinds(self) -> set[str]:
        return {code for code, _, person in self.kinds if person} if self.kinds else {INDIVIDUAL}

    def collective_groups(self) -> list[tuple[str, str]]:
        """(code, title) of the collective kinds in the movement's order, then any other kind an awardee has."""
        known = [(code, title) for code, title, person in self.kinds if not person] if self.kinds else \
            [(code, "") for code in COLLECTIVE_KINDS]
        seen = {code for code, _ in known} | self.individual_kinds()
        extra = dict.fromkeys(a.kind for a in self.awardees if a.kind not in seen)
        return known + [(code, code) for code in extra]

    @property
    def citation(self) -> str:
        """'số 05/QĐ-UBND ngày 15/5/2026', as other documents and mails cite it."""
        if self.number is None or self.signed_on is None:
            return f"số{decree30.BLANK}/{self.symbol}"
        return f"số {self.number:02d}/{self.symbol} ngày {decree30.short_date(self.signed_on)}"

    def context(self) -> dict[str, Any]:
        people = self.individual_kinds()
        collectives = sum(1 for a in self.awardees if a.kind not in people)
        blank = decree30.BLANK
        number = f"{self.number:02d}/{self.symbol}" if self.number is not None else f"{blank}/{self.symbol}"
        when = decree30.short_date(self.signed_on) if self.signed_on else f"{blank}/{blank}/{self.year}"
        return {"province": self.province, "movement": dict(self.movement), "submission": dict(self.submission),
                "counts": {"collectives": collectives, "individuals": len(self.awardees) - collectives},
                "document": {"number": number, "date": when}, "award": {"title": self.award_title},
                **self.extra}


def render_docx(document: AwardDocument, wording: Wording | None = None) -> bytes:
    """Parts the wording file leaves out are left out: a Tờ trình has an addressee and no articles,
    a decision has the issuer's title, grounds (căn cứ) and articles."""
    wording = wording or Wording.load("award_decision")
    ctx = document.context()
    doc = decree30.new_document()
    decree30.header_block(doc, document.issuer, decree30.document_number(document.number, document.symbol),
                          decree30.place_and_date(document.issuer.place, document.signed_on, document.year))
    decree30.title_block(doc, wording.text("kind", ctx), wording.text("subject", ctx))
    if "addressee" in wording.data:
        line(doc, wording.text("addressee", ctx), align="center", before=12, after=6)
    if "issuer_title" in wording.data:
        line(doc, wording.text("issuer_title", ctx), bold=True, align="center", before=12, after=6)
    for ground in wording.texts("grounds", ctx) if "grounds" in wording.data else []:
        decree30.body(doc, ground, italic=True)
    if "decides" in wording.data:
        line(doc, wording.text("decides", ctx), bold=True, align="center", before=12, after=6)
    last = None
    for i, article in enumerate(wording.raw("articles")):
        lead = wording.text(f"articles[{i}].lead", ctx, article["lead"]) if article.get("lead") else None
        text = wording.text(f"articles[{i}].text", ctx, article["text"])
        last = decree30.body(doc, f" {text}" if lead else text, bold_lead=lead)
    if last is not None:
        last.paragraph_format.keep_with_next = True  # the last paragraph goes over with the signature
    decree30.signature_block(doc, wording.texts("recipients", ctx), document.signer_authority,
                             document.signer_name)
    _annex(doc, document, wording, ctx)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _annex(doc: Any, document: AwardDocument, wording: Wording, ctx: Mapping[str, Any]) -> None:
    # A page break before the title, not a paragraph holding a break: when the signature block ends
    # at the foot of the page, that paragraph would spill over and leave a blank page before the annex.
    annex_title = line(doc, wording.text("annex_title", ctx), bold=True, align="center")
    annex_title.paragraph_format.page_break_before = True
    line(doc, wording.text("annex_reference", ctx), italic=True, align="center", after=12)
    groups = wording.raw("annex_groups")
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    decree30.set_widths(table, ANNEX_WIDTHS_CM)
    for cell, title in zip(table.rows[0].cells, wording.raw("annex_columns"), strict=True):
        _cell(cell, title, bold=True, align="center")
    _repeat_as_header(table.rows[0])
    people = document.individual_kinds()
    collectives = [a for a in document.awardees if a.kind not in people]
    individuals = [a for a in document.awardees if a.kind in people]
    number = 0
    for heading, members, subgroups in ((groups["collectives"], collectives, True),
                                        (groups["individuals"], individuals, False)):
        if not members:
            continue
        _group_row(table, heading)
        # The wording file may shorten a kind's title for the annex; otherwise the movement's own title.
        parts = ([(groups.get(code) or title, [a for a in members if a.kind == code])
                  for code, title in document.collective_groups()] if subgroups else [(None, members)])
        for index, (title, rows) in enumerate(p for p in parts if p[1]):
            if title:
                _group_row(table, f"{index + 1}. {title}", bold=False, italic=True)
            for awardee in rows:
                number += 1
                held = ", ".join(x for x in (awardee.position, awardee.unit) if x)
                row = table.add_row()
                decree30.keep_row_together(row)
                cells = row.cells
                for cell, text, width, align in zip(
                        cells, (str(number), awardee.name, held, awardee.achievement), ANNEX_WIDTHS_CM,
                        ("center", "left", "left", "left"), strict=True):
                    cell.width = Cm(width)
                    _cell(cell, text, align=align)


def _cell(cell: Any, text: str, *, bold: bool = False, italic: bool = False, align: str = "left") -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = decree30.ALIGN[align]
    run = paragraph.add_run(text)
    run.font.size, run.font.bold, run.font.italic = Pt(13), bold, italic


def _group_row(table: Any, text: str, *, bold: bool = True, italic: bool = False) -> None:
    cells = table.add_row().cells
    merged = cells[0].merge(cells[-1])
    _cell(merged, text, bold=bold, italic=italic)


def _repeat_as_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)
