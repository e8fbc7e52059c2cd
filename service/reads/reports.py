"""Reads of the reporting rounds: the rounds, the follow-up board of one round, one unit's report.

The board's rows are what the page shows, the API returns and the Excel export writes: one query
for the reports and their units, one for the last reminder or urging of each.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.errors import Forbidden, NotFound
from service.core.runtime import Runtime, local_date
from service.db.models import AuditEvent, InboxRow, ReportRound, Unit, UnitReport
from service.security.access import Actor, follows_rounds, require_follow_up

# What the board shows, in the words of the follow-up list (plan IV.5.1).
STATUS_TITLES = {
    "not_started": "Chưa thực hiện",
    "drafting": "Đang soạn",
    "submitted": "Đã gửi",
    "late": "Chậm",
    "accepted": "Đã tiếp nhận",
    "returned": "Bị trả lại",
    "stopped": "Dừng (trả lại quá số lần)",
}
KIND_TITLES = {"plan": "Kế hoạch triển khai", "results": "Báo cáo kết quả"}
STILL_WRITING = ("not_started", "drafting", "returned", "unit_review")
REMINDER_KINDS = ("remind_report", "report_urged")


@dataclass(frozen=True)
class BoardRow:
    unit_id: str
    unit_name: str
    unit_kind: str
    status: str  # one of STATUS_TITLES
    status_title: str
    detail: str  # the report's own status (unit_review: with the unit head)
    days_late: int
    late_submission: bool
    submitted_at: datetime | None
    accepted_at: datetime | None
    last_reminder_at: datetime | None


def board_status(report_status: str, due_at: datetime, now: datetime) -> str:
    if report_status in STILL_WRITING and now > due_at:
        return "late"
    return "drafting" if report_status == "unit_review" else report_status


def round_or_404(session: Session, round_id: str) -> ReportRound:
    found = session.get(ReportRound, round_id)
    if found is None:
        raise NotFound(f"Không tìm thấy đợt báo cáo {round_id}")
    return found


def list_rounds(runtime: Runtime, actor: Actor, movement_id: int | None = None,
                year: int | None = None) -> list[dict[str, Any]]:
    """Every round for the province's follow-up roles; a unit's people see the rounds their unit is in."""
    with runtime.read() as uow:
        session = uow.session
        query = select(ReportRound).order_by(ReportRound.opened_at.desc())
        if movement_id is not None:
            query = query.where(ReportRound.movement_id == movement_id)
        if year is not None:
            query = query.where(ReportRound.year == year)
        if not follows_rounds(actor):
            units = {u for _, u in actor.grants if u}
            query = query.where(ReportRound.id.in_(select(UnitReport.round_id).where(UnitReport.unit_id.in_(units))))
        counts = dict(session.execute(select(UnitReport.round_id, func.count()).group_by(UnitReport.round_id)).all())
        done = dict(session.execute(select(UnitReport.round_id, func.count()).where(
            UnitReport.status.in_(("submitted", "accepted"))).group_by(UnitReport.round_id)).all())
        return [{"id": r.id, "kind": r.kind, "kind_title": KIND_TITLES.get(r.kind, r.kind), "title": r.title,
                 "year": r.year, "movement_id": r.movement_id, "due_at": r.due_at, "opened_at": r.opened_at,
                 "units": counts.get(r.id, 0), "sent": done.get(r.id, 0)} for r in session.scalars(query)]


def board(runtime: Runtime, actor: Actor, round_id: str) -> tuple[ReportRound, list[BoardRow]]:
    require_follow_up(actor)
    with runtime.read() as uow:
        session = uow.session
        round_ = round_or_404(session, round_id)
        session.expunge(round_)
        return round_, board_rows(session, runtime, round_)


def board_rows(session: Session, runtime: Runtime, round_: ReportRound) -> list[BoardRow]:
    now = runtime.clock.now()
    today, due_day = local_date(runtime, now), local_date(runtime, round_.due_at)
    reminded = dict(session.execute(
        select(AuditEvent.instance_id, func.max(AuditEvent.at))
        .where(AuditEvent.instance_id.in_(select(UnitReport.instance_id).where(UnitReport.round_id == round_.id)),
               AuditEvent.kind.in_(REMINDER_KINDS))
        .group_by(AuditEvent.instance_id)).all())
    rows = []
    late_today = max(runtime.calendar.working_days_between(due_day, today), 0)
    # Columns, not ORM objects: the board of a round of thousands of units reads no report's figures.
    for report in session.execute(
            select(Unit.id, Unit.name, Unit.kind, UnitReport.status, UnitReport.late, UnitReport.submitted_at,
                   UnitReport.accepted_at, UnitReport.instance_id).join(Unit, Unit.id == UnitReport.unit_id)
            .where(UnitReport.round_id == round_.id).order_by(Unit.kind, Unit.name)).all():
        status = board_status(report.status, round_.due_at, now)
        if report.submitted_at is not None and report.status in ("submitted", "accepted") and report.late:
            days = max(runtime.calendar.working_days_between(due_day, local_date(runtime, report.submitted_at)), 0)
        else:
            days = late_today if status == "late" else 0
        rows.append(BoardRow(report.id, report.name, report.kind, status, STATUS_TITLES[status], report.status, days,
                             report.late, report.submitted_at, report.accepted_at,
                             reminded.get(report.instance_id)))
    return rows


def board_dicts(rows: list[BoardRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


def report_detail(runtime: Runtime, actor: Actor, round_id: str, unit_id: str) -> dict[str, Any]:
    """One unit's report: for that unit's people and for the follow-up roles only."""
    with runtime.read() as uow:
        session = uow.session
        round_ = round_or_404(session, round_id)
        if not (follows_rounds(actor) or any(u == unit_id for _, u in actor.grants)):
            raise Forbidden("Chỉ đơn vị và các sở theo dõi mới xem được báo cáo này")
        report = session.scalars(select(UnitReport).where(UnitReport.round_id == round_id,
                                                          UnitReport.unit_id == unit_id)).first()
        if report is None:
            raise NotFound(f"Đơn vị {unit_id} không thuộc đợt báo cáo này")
        unit = session.get(Unit, unit_id)
        tasks = list(session.scalars(select(InboxRow).where(InboxRow.instance_id == report.instance_id)))
        now = runtime.clock.now()
        return {
            "round": {"id": round_.id, "kind": round_.kind, "title": round_.title, "year": round_.year,
                      "due_at": round_.due_at},
            "unit": {"id": unit_id, "name": unit.name if unit else unit_id, "kind": unit.kind if unit else ""},
            "status": board_status(report.status, round_.due_at, now), "detail": report.status,
            "late_submission": report.late, "data": report.data, "version": report.version,
            "file": {"name": report.file_name, "type": report.file_type, "sha256": report.file_sha256}
            if report.file_sha256 else None,
            "submitted_at": report.submitted_at, "accepted_at": report.accepted_at,
            "tasks": [{"id": t.id, "name": t.name, "role": t.role, "unit_id": t.unit_id, "stage": t.stage,
                       "form": t.form, "due_at": t.due_at}
                      for t in tasks],
        }


def report_file(runtime: Runtime, actor: Actor, round_id: str, unit_id: str) -> tuple[str, str, str]:
    """(sha256, content type, name) of the signed file, for the same readers as the report."""
    detail = report_detail(runtime, actor, round_id, unit_id)
    if detail["file"] is None:
        raise NotFound("Báo cáo chưa có tệp")
    return detail["file"]["sha256"], detail["file"]["type"], detail["file"]["name"]


def report_of_task(runtime: Runtime, instance_id: str) -> tuple[str, str] | None:
    """(round id, unit id) of the report a task's instance runs, for links between the pages."""
    with runtime.read() as uow:
        found = uow.session.execute(select(UnitReport.round_id, UnitReport.unit_id).where(
            UnitReport.instance_id == instance_id)).first()
        return (found[0], found[1]) if found else None
