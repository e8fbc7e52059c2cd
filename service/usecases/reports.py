"""Reporting rounds (plan IV.1.1 unit plans, IV.1.4 results reports): open a round, fill a unit's
report, attach its signed file, urge the late units (IV.5.1, IV.6.1: "theo dõi, đôn đốc").

Each unit's report runs its own instance of the round kind's diagram; where it stands (drafting,
with the unit head, with the province, accepted) is read from the `stage` its diagram declares on
the open task or the end event, never from an element id.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.core.runtime import Runtime, local_date
from service.db.models import (
    AuditEvent,
    InboxRow,
    InstanceRow,
    Movement,
    MovementUnit,
    ReportRound,
    RoleAssignment,
    Unit,
    UnitReport,
    User,
)
from service.security.access import Actor, require_follow_up
from service.usecases.audit import audit
from service.usecases.files import check_file, save_blob
from service.usecases.instances import Links, keep_instances, record, start_instance
from service.usecases.movements import movement_for_batch
from service.usecases.outbox import enqueue
from service.usecases.report_status import DRAFTING, PROCESS_OF_KIND, stage_of
from workflows.diagrams import ProcessDefinition
from workflows.engine import ProcessInstance
from workflows.forms import FieldError, FormError

# Who opens rounds, follows them and compiles the province report (plan IV.5, IV.6).
OPEN_STATUSES = ("not_started", "drafting", "returned")  # the unit is still writing
MAX_ROUND_DAYS = 120
REMIND_DAYS_BEFORE = 2


def open_round(runtime: Runtime, actor: Actor, kind: str, title: str, year: int, working_days: int,
               unit_ids: list[str] | None = None, movement_id: int | None = None) -> str:
    """A round of a movement (the one named, else the one running today, else the latest) and one
    report (with its instance) per participating unit, in one commit. Due `working_days` working
    days from now at 17:00; units are reminded REMIND_DAYS_BEFORE earlier."""
    require_follow_up(actor)
    if kind not in PROCESS_OF_KIND:
        raise InvalidInput("Loại đợt không hợp lệ", [FieldError("kind", "Chọn 'plan' (kế hoạch) hoặc 'results' "
                                                                        "(báo cáo kết quả)")])
    if not 1 <= working_days <= MAX_ROUND_DAYS:
        raise InvalidInput("Thời hạn không hợp lệ", [FieldError("working_days", f"Từ 1 đến {MAX_ROUND_DAYS} ngày "
                                                                                "làm việc")])
    title = (title or "").strip()
    if not 5 <= len(title) <= 300:
        raise InvalidInput("Tên đợt không hợp lệ", [FieldError("title", "Cần 5–300 ký tự")])
    with runtime.uow() as uow:
        session = uow.session
        now = runtime.clock.now()
        movement = movement_for_batch(session, local_date(runtime, now), movement_id)
        units = _participants(session, movement, unit_ids)
        due_at = runtime.calendar.deadline(now, working_days, hour=17)
        remind_at = runtime.calendar.deadline(now, max(working_days - REMIND_DAYS_BEFORE, 1), hour=8)
        round_ = ReportRound(id=uuid.uuid4().hex, kind=kind, title=title, year=year, movement_id=movement.id,
                             due_at=due_at, remind_at=min(remind_at, due_at), opened_by=actor.user_id, opened_at=now)
        session.add(round_)
        written: list[tuple[InstanceRow, ProcessInstance]] = []
        # Thousands of new instances in one transaction: nothing to read back for any of them (no
        # nomination, no batch, no earlier task), so each is recorded without a query, and the audit
        # events of the whole round go in one multi-row insert.
        audit_rows: list[dict[str, Any]] = []
        active = runtime.active_definition(session, PROCESS_OF_KIND[kind])
        started = []
        with session.no_autoflush:  # the rows are written by two flushes, not one per unit
            for unit in units:
                report = UnitReport(id=uuid.uuid4().hex, round_id=round_.id, unit_id=unit.id, status="not_started",
                                    data={}, late=False, updated_at=now)
                data = {"unit_id": unit.id, "report_id": report.id, "round_id": round_.id,
                        "due_at": due_at.isoformat(), "remind_at": round_.remind_at.isoformat()}
                started.append((report, *start_instance(session, runtime, PROCESS_OF_KIND[kind], data, active)))
        session.flush()  # the round and the instance rows, before the rows that point at them
        for report, row, instance, outcome in started:
            report.instance_id = row.id
            session.add(report)
            record(session, runtime, row, instance, outcome, actor.user_id, links=Links(None, None, []),
                   audit_rows=audit_rows)
            written.append((row, instance))
        session.flush()
        if audit_rows:
            session.execute(insert(AuditEvent), audit_rows)
        audit(session, runtime, "round_opened", actor_id=actor.user_id, round_id=round_.id, round_kind=kind,
              title=title, due_at=due_at.isoformat(), units=len(units))
        uow.commit()
        keep_instances(runtime, written)
        return round_.id


def _participants(session: Session, movement: Movement, unit_ids: list[str] | None) -> list[Unit]:
    """The named units, or every unit of the movement that reports to the province (not the
    province's own offices); a named unit must take part in the movement."""
    taking_part = select(MovementUnit.unit_id).where(MovementUnit.movement_id == movement.id)
    if unit_ids is None:
        return list(session.scalars(select(Unit).where(Unit.kind != "province_office", Unit.id.in_(taking_part))
                                    .order_by(Unit.id)))
    wanted = list(dict.fromkeys(unit_ids))
    found = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(wanted), Unit.id.in_(taking_part)))}
    outside = [u for u in wanted if u not in found]
    if outside or not wanted:
        raise InvalidInput("Danh sách đơn vị không hợp lệ", [FieldError(
            "unit_ids", f"Không tham gia phong trào thi đua “{movement.name}” năm {movement.year}: "
                        + ", ".join(outside) if outside else "Cần ít nhất một đơn vị")])
    return [found[u] for u in wanted]


# --- a unit's report ------------------------------------------------------------------------------

def report_for_unit(session: Session, round_id: str, unit_id: str) -> UnitReport:
    if session.get(ReportRound, round_id) is None:
        raise NotFound(f"Không tìm thấy đợt báo cáo {round_id}")
    report = session.scalars(select(UnitReport).where(UnitReport.round_id == round_id,
                                                      UnitReport.unit_id == unit_id)).first()
    if report is None:
        raise NotFound(f"Đơn vị {unit_id} không thuộc đợt báo cáo này")
    return report


def _drafting_task(session: Session, runtime: Runtime, actor: Actor, report: UnitReport,
                   definition: ProcessDefinition) -> InboxRow:
    """The report's open drafting task, when the actor may write it; else why not."""
    tasks = list(session.scalars(select(InboxRow).where(InboxRow.instance_id == report.instance_id)))
    task = next((t for t in tasks if stage_of(definition, t.task_id) == DRAFTING), None)
    if report.unit_id not in actor.units_where("unit_reports"):
        raise Forbidden("Chỉ cán bộ của đơn vị được sửa báo cáo của đơn vị mình")
    if task is None:
        raise Conflict("Báo cáo đã gửi đi, không sửa được nữa; chờ thủ trưởng hoặc Sở trả lại nếu cần sửa")
    if not any(r == task.role and u == task.unit_id for r, u in actor.grants):
        raise Forbidden("Chỉ cán bộ thi đua của đơn vị được lập báo cáo")
    return task


def save_report(runtime: Runtime, actor: Actor, round_id: str, unit_id: str, data: dict[str, Any],
                version: int, language: str = "vi") -> int:
    """Save the figures typed so far (not yet complete is fine; wrong is not). `version` is the one the
    writer read: another save since then answers 409 and this one changes nothing."""
    with runtime.uow() as uow:
        session = uow.session
        report = report_for_unit(session, round_id, unit_id)
        definition = _definition(session, runtime, report)
        task = _drafting_task(session, runtime, actor, report, definition)
        if version != report.version:
            raise Conflict("Báo cáo vừa được người khác sửa; hãy tải lại để xem bản mới nhất rồi sửa tiếp")
        _check_partial(runtime, task, data, language)
        report.data = dict(data)
        report.status = "returned" if report.status == "returned" else "drafting"
        report.updated_by, report.updated_at = actor.user_id, runtime.clock.now()
        audit(session, runtime, "report_saved", actor_id=actor.user_id, instance_id=report.instance_id,
              report_id=report.id)
        _commit(uow)
        return report.version


def _check_partial(runtime: Runtime, task: InboxRow, data: dict[str, Any], language: str) -> None:
    if not task.form:
        return
    try:
        runtime.engine.forms.get(task.form, task.ui_form).check(data, language)
    except FormError as exc:
        # A draft may leave fields out; every other error (a negative or non-number figure) stops it.
        errors = [e for e in exc.errors if not (e.path.split(".")[0] and e.path.split(".")[0] not in data)]
        if errors:
            raise InvalidInput("Số liệu báo cáo không hợp lệ", errors) from exc


def attach_file(runtime: Runtime, actor: Actor, round_id: str, unit_id: str, filename: str, content: bytes) -> int:
    """The signed report (PDF, DOCX...), checked as every dossier file is; replaces the previous one."""
    with runtime.uow() as uow:
        session = uow.session
        report = report_for_unit(session, round_id, unit_id)
        _drafting_task(session, runtime, actor, report, _definition(session, runtime, report))
        stored = check_file(runtime, filename, content)
        save_blob(runtime, stored, content)
        report.file_sha256, report.file_name, report.file_type = stored.sha256, stored.filename, stored.content_type
        report.updated_by, report.updated_at = actor.user_id, runtime.clock.now()
        if report.status == "not_started":
            report.status = "drafting"
        audit(session, runtime, "report_file_added", actor_id=actor.user_id, instance_id=report.instance_id,
              report_id=report.id, filename=stored.filename, sha256=stored.sha256, size=stored.size)
        _commit(uow)
        return report.version


def _definition(session: Session, runtime: Runtime, report: UnitReport) -> ProcessDefinition:
    row = session.get(InstanceRow, report.instance_id)
    if row is None:
        raise NotFound("Báo cáo chưa có quy trình")
    return runtime.definition_of(session, row.process_version_id)


def _commit(uow: Any) -> None:
    try:
        uow.commit()
    except (StaleDataError, IntegrityError) as exc:
        raise Conflict("Báo cáo vừa được người khác sửa; hãy tải lại để xem bản mới nhất rồi sửa tiếp") from exc


# --- urging the late units ------------------------------------------------------------------------

def urge_late(runtime: Runtime, actor: Actor, round_id: str) -> int:
    """One urging mail (công văn đôn đốc) to the staff and head of each unit whose report is past the
    due date and not yet with the province; the number of units urged."""
    require_follow_up(actor)
    with runtime.uow() as uow:
        session = uow.session
        round_ = session.get(ReportRound, round_id)
        if round_ is None:
            raise NotFound(f"Không tìm thấy đợt báo cáo {round_id}")
        now = runtime.clock.now()
        if now <= round_.due_at:
            raise InvalidInput("Đợt báo cáo chưa đến hạn nên chưa có đơn vị nào chậm; hãy đôn đốc sau hạn nộp")
        late = list(session.scalars(select(UnitReport).where(
            UnitReport.round_id == round_id, UnitReport.status.in_(OPEN_STATUSES + ("unit_review",)))))
        units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_([r.unit_id for r in late])))}
        people = session.execute(
            select(RoleAssignment.unit_id, User).join(User, User.id == RoleAssignment.user_id).where(
                RoleAssignment.unit_id.in_(list(units)),
                RoleAssignment.role.in_(runtime.roles.keys_that_may("unit_reports")),
                User.active).order_by(User.id)).all()
        sender = session.get(User, actor.user_id)
        for report in late:
            unit = units[report.unit_id]
            days = runtime.calendar.working_days_between(local_date(runtime, round_.due_at), local_date(runtime, now))
            for _, user in {(u, p.id): (u, p) for u, p in people if u == unit.id}.values():
                enqueue(session, runtime, user.email, "report_urge",
                        {"user": user, "unit": unit, "round": round_, "due_at": round_.due_at, "days_late": days,
                         "sender": sender.full_name if sender else "",
                         "url": f"{runtime.config.link_base}/rounds/{round_.id}/units/{unit.id}"},
                        language=user.language, user_id=user.id)
            audit(session, runtime, "report_urged", actor_id=actor.user_id, instance_id=report.instance_id,
                  report_id=report.id, round_id=round_id, unit_id=unit.id)
        uow.commit()
        return len(late)


def submit_report(runtime: Runtime, actor: Actor, round_id: str, unit_id: str, version: int,
                  language: str = "vi") -> dict[str, Any]:
    """Send the saved report up (its drafting task, completed with the saved figures and file)."""
    from service.usecases.tasks import complete_task

    with runtime.read() as uow:
        session = uow.session
        report = report_for_unit(session, round_id, unit_id)
        task = _drafting_task(session, runtime, actor, report, _definition(session, runtime, report))
        if version != report.version:
            raise Conflict("Báo cáo vừa được người khác sửa; hãy tải lại để xem bản mới nhất rồi gửi")
        task_uuid = task.id
    return complete_task(runtime, actor, task_uuid, {}, language=language)
