"""Where a unit's report stands, from the stage its diagram declares (never from an element id).

Called from record() and complete_task() inside their transaction; imports no other use case, so
that instances.py and tasks.py can import it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import InvalidInput
from service.db.models import InboxRow, ReportRound, UnitReport
from workflows.diagrams import ProcessDefinition
from workflows.engine import Outcome, ProcessInstance
from workflows.forms import FieldError

# Round kind → the process its units' reports run (deployment keys, as config/contracts.toml names them).
PROCESS_OF_KIND = {"plan": "unit_plan", "results": "unit_report"}
REPORT_PROCESSES = frozenset(PROCESS_OF_KIND.values())
# Stages the diagrams of both kinds declare (config/contracts.toml), and the report status each gives.
DRAFTING, APPROVAL, REVIEW = "drafting", "approval", "review"
ACCEPTED, STOPPED = "accepted", "stopped"


def stage_of(definition: ProcessDefinition, bpmn_id: str | None) -> str | None:
    """The stage its diagram declares on an element (see workflows/contract.py), or None."""
    return definition.stage_of(bpmn_id)


def completion_data(session: Session, task: InboxRow, definition: ProcessDefinition,
                    data: dict[str, Any]) -> dict[str, Any]:
    """Before a report's task is completed: sending the draft up takes the saved figures under what
    the form sends, and needs the signed file."""
    if stage_of(definition, task.task_id) != DRAFTING:
        return data
    report = session.scalars(select(UnitReport).where(UnitReport.instance_id == task.instance_id)).one()
    if not report.file_sha256:
        raise InvalidInput("Chưa có tệp báo cáo đã ký", [FieldError("file", "Hãy tải lên tệp báo cáo đã ký "
                                                                            "(PDF hoặc DOCX) trước khi gửi")])
    return {**report.data, **data}


def sync_report(session: Session, report: UnitReport, instance: ProcessInstance,
                outcome: Outcome, now: datetime) -> None:
    """After a step of a report's instance (inside record()): its status from the stage it reached."""
    definition = instance.definition
    if outcome.completed is not None and stage_of(definition, outcome.completed.task.task_id) == DRAFTING:
        report.data = dict(outcome.completed.data)
    if outcome.status == "completed":
        stage = stage_of(definition, outcome.end_event)
        if stage == ACCEPTED:
            report.status, report.accepted_at = "accepted", now
        else:
            report.status = "stopped"
        return
    stages = [stage_of(definition, t) for t in outcome.open_task_ids]
    if REVIEW in stages:
        if report.status != "submitted":
            round_ = session.get(ReportRound, report.round_id)
            report.submitted_at = now
            # Sent after the round's due date: accepted all the same, and shown late (plan IV.1.4).
            report.late = bool(round_ and now > round_.due_at)
        report.status = "submitted"
    elif APPROVAL in stages:
        report.status = "unit_review"
    elif DRAFTING in stages:
        returned = bool(instance.data.get("return_count")) and report.status in ("unit_review", "submitted", "returned")
        report.status = "returned" if returned else ("drafting" if report.data or report.file_sha256 else "not_started")
    report.updated_at = now


