"""The province's report on the movement's results (plan IV.5.3) as a DOCX draft: totals per content
of the plan (II.2.1-2.7) and per unit kind from the accepted unit reports, and the typical examples
(units and people awarded). Decree 30 layout (decree30.py), words in
config/documents/province_summary.toml. A draft: no number and no date until it is registered.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Pt

from service.documents import decree30
from service.documents.decree30 import Issuer, line
from service.documents.wording import Wording


@dataclass(frozen=True)
class UnitFigures:
    unit_kind: str
    figures: Mapping[str, int]  # figure key → the unit's number
    late: bool = False


@dataclass(frozen=True)
class Example:
    name: str
    kind: str  # the nominee kinds of the plan (III.2.1 a-d)
    unit: str
    award: str


@dataclass(frozen=True)
class ProvinceSummary:
    issuer: Issuer
    province: str
    symbol: str
    year: int
    signer_name: str
    movement: Mapping[str, Any]  # name, year
    round_title: str
    units: int  # units in the round
    reports: Sequence[UnitFigures]  # the accepted reports
    examples: Sequence[Example] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for report in self.reports:
            for key, value in report.figures.items():
                out[key] = out.get(key, 0) + value
        return out

    def by_unit_kind(self) -> dict[str, tuple[int, dict[str, int]]]:
        """unit kind → (reports accepted, totals of its figures)."""
        out: dict[str, tuple[int, dict[str, int]]] = {}
        for report in self.reports:
            count, sums = out.get(report.unit_kind, (0, {}))
            for key, value in report.figures.items():
                sums[key] = sums.get(key, 0) + value
            out[report.unit_kind] = (count + 1, sums)
        return out

    def context(self) -> dict[str, Any]:
        return {"province": self.province, "movement": dict(self.movement), "round": {"title": self.round_title},
                "counts": {"units": self.units, "accepted": len(self.reports),
                           "late": sum(1 for r in self.reports if r.late),
                           "missing": self.units - len(self.reports), "awarded": len(self.examples)}}


def render_docx(summary: ProvinceSummary, wording: Wording | None = None,
                contents: Mapping[str, str] | None = None) -> bytes:
    """`contents`: the movement's own titles of its contents (code → title), over the wording's."""
    wording = wording or Wording.load("province_summary")
    titles = dict(contents or {})
    ctx = summary.context()
    doc = decree30.new_document()
    decree30.header_block(doc, summary.issuer, decree30.document_number(None, summary.symbol),
                          decree30.place_and_date(summary.issuer.place, None, summary.year))
    decree30.title_block(doc, wording.text("kind", ctx), wording.text("subject", ctx))
    for text in wording.texts("intro", ctx):
        decree30.body(doc, text)
    figure_titles: Mapping[str, str] = wording.raw("figures")
    totals = summary.totals()
    line(doc, wording.text("figures_heading", ctx), bold=True, before=12)
    rows = []
    for content in wording.raw("contents"):
        for i, key in enumerate(content["figures"]):
            title = titles.get(content["key"]) or content["title"]
            head = f"{content['key']}. {title}" if i == 0 else ""
            rows.append((head, figure_titles.get(key, key), f"{totals.get(key, 0):,}".replace(",", ".")))
    _table(doc, wording.raw("figures_columns"), rows, (6.0, 7.0, 3.5), numbers_from=2)
    line(doc, wording.text("unit_kinds_heading", ctx), bold=True, before=12)
    kinds: Mapping[str, str] = wording.raw("unit_kinds")
    shown = wording.raw("unit_kinds_figures")
    kind_rows = [(kinds.get(kind, kind), str(count), *(f"{sums.get(k, 0):,}".replace(",", ".") for k in shown))
                 for kind, (count, sums) in sorted(summary.by_unit_kind().items())]
    _table(doc, wording.raw("unit_kinds_columns"), kind_rows, (4.5, 2.8, 3.0, 3.0, 3.2), numbers_from=1)
    line(doc, wording.text("examples_heading", ctx), bold=True, before=12)
    if summary.examples:
        decree30.body(doc, wording.text("examples_intro", ctx))
        for number, example in enumerate(summary.examples, start=1):
            decree30.body(doc, f"{number}. {example.name} ({example.unit}) – {example.award}.")
    else:
        decree30.body(doc, wording.text("examples_none", ctx))
    line(doc, wording.text("closing_heading", ctx), bold=True, before=12)
    last = None
    for text in wording.texts("closing", ctx):
        last = decree30.body(doc, text)
    if last is not None:
        last.paragraph_format.keep_with_next = True
    decree30.signature_block(doc, wording.texts("recipients", ctx), wording.text("signer_authority", ctx),
                             summary.signer_name)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _table(doc: Any, columns: Sequence[str], rows: Sequence[Sequence[str]], widths: tuple[float, ...],
           numbers_from: int) -> None:
    """A bordered table; the columns from `numbers_from` on hold numbers, right-aligned."""
    table = doc.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    decree30.set_widths(table, widths)
    for cell, title in zip(table.rows[0].cells, columns, strict=True):
        _cell(cell, title, bold=True, align="center")
    for values in rows:
        cells = table.add_row().cells
        for index, (cell, text) in enumerate(zip(cells, values, strict=True)):
            _cell(cell, text, align="right" if index >= numbers_from else "left")
    decree30.set_widths(table, widths)


def _cell(cell: Any, text: str, *, bold: bool = False, align: str = "left") -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = decree30.ALIGN[align]
    run = paragraph.add_run(text)
    run.font.size, run.font.bold = Pt(12), bold
