"""What DOST and Home Affairs take away from a round: the follow-up board as .xlsx, and the province's
summary report (plan IV.5.3) as a DOCX draft compiled from the accepted reports and the awards."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.core.runtime import Runtime
from service.db.lookups import movement_of
from service.db.models import Nomination, Unit, UnitReport
from service.documents import province_summary
from service.documents.province_summary import Example, ProvinceSummary, UnitFigures
from service.documents.register import authorities
from service.documents.wording import Wording
from service.exports.xlsx import Column, Table, to_xlsx
from service.reads.reports import KIND_TITLES, board, round_or_404
from service.security.access import Actor, require_follow_up

BOARD_COLUMNS = (
    Column("Mã đơn vị", width=22), Column("Đơn vị", width=44), Column("Loại đơn vị", width=20),
    Column("Tình trạng", width=18), Column("Số ngày chậm", "int", 12), Column("Gửi sau hạn", width=12),
    Column("Ngày gửi", "datetime", 18), Column("Ngày tiếp nhận", "datetime", 18),
    Column("Nhắc, đôn đốc lần cuối", "datetime", 20),
)
AWARD_TITLES = {"bang_khen": "Bằng khen của Chủ tịch UBND tỉnh", "giay_khen": "Giấy khen"}


def board_xlsx(runtime: Runtime, actor: Actor, round_id: str) -> tuple[str, bytes]:
    """(file name, workbook) of the board: the same rows as the page."""
    round_, rows = board(runtime, actor, round_id)
    kinds = Wording.load("province_summary").raw("unit_kinds")
    table = Table(f"{KIND_TITLES.get(round_.kind, round_.kind)} {round_.year}", BOARD_COLUMNS, [
        (r.unit_id, r.unit_name, kinds.get(r.unit_kind, r.unit_kind), r.status_title, r.days_late,
         "Có" if r.late_submission else "", r.submitted_at, r.accepted_at, r.last_reminder_at) for r in rows])
    return f"theo-doi-{round_.id[:8]}.xlsx", to_xlsx([table])


def summary_docx(runtime: Runtime, actor: Actor, round_id: str) -> bytes:
    """The province's report from the round's accepted reports and its movement's awards."""
    require_follow_up(actor)
    wording = Wording.load("province_summary")
    figure_keys = [k for content in wording.raw("contents") for k in content["figures"]]
    with runtime.read() as uow:
        session = uow.session
        round_ = round_or_404(session, round_id)
        movement = movement_of(session, round_.movement_id)
        contents = {c.get("code"): c.get("title") for c in movement.contents or []}
        units = session.scalars(select(UnitReport.id).where(UnitReport.round_id == round_id)).all()
        accepted = session.execute(
            select(UnitReport, Unit.kind).join(Unit, Unit.id == UnitReport.unit_id)
            .where(UnitReport.round_id == round_id, UnitReport.status == "accepted").order_by(Unit.id)).all()
        reports = [UnitFigures(kind, {k: _number(report.data.get(k)) for k in figure_keys}, report.late)
                   for report, kind in accepted]
        awarded = session.execute(
            select(Nomination, Unit.name).join(Unit, Unit.id == Nomination.unit_id)
            .where(Nomination.status == "awarded", Nomination.movement_id == round_.movement_id)
            .order_by(Nomination.nominee_kind, Nomination.nominee_name)).all()
        examples = [Example(n.nominee_name or n.id, n.nominee_kind or "", unit_name,
                            AWARD_TITLES.get(n.award or "", n.award or "")) for n, unit_name in awarded]
        authority = authorities()[wording.raw("authority")]
        summary = ProvinceSummary(
            issuer=authority.issuer, province=authority.province,
            symbol=authority.symbol(wording.raw("kind_abbreviation")), year=round_.year, signer_name="",
            movement={"name": movement.name, "year": movement.year}, round_title=round_.title,
            units=len(units), reports=reports, examples=examples)
    return province_summary.render_docx(summary, wording, contents)


def _number(figure: Any) -> int:
    """A figure of the form ({value, note}); anything else counts nothing."""
    value = figure.get("value") if isinstance(figure, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
