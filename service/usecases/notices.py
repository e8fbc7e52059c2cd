"""Who is told what when the engine emits a notification: recipients and the facts a mail shows.

Runs inside the step's transaction (called from outbox.enqueue_notification); reads only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from service.core.runtime import Runtime, local_date
from service.db.models import (
    AuditEvent,
    Batch,
    DecisionFile,
    InboxRow,
    InstanceRow,
    Nomination,
    ProcessVersion,
    RegisterEntry,
    ReportRound,
    RoleAssignment,
    Substitute,
    Unit,
    UnitReport,
    User,
)
from service.reads.desks import submission_number
from service.security.access import substitution_in_force
from workflows.actions import Notification
from workflows.diagrams import HumanTaskSpec

UNIT_NOTICES = ("awarded", "not_awarded", "unit_certificate")


def template_for(note: Notification) -> str | None:
    if note.action == "send_reminder":
        return "reminder"
    if note.action == "escalate":
        return "escalation"
    if note.action == "remind_report":
        return "report_reminder"
    if note.action == "notify_unit":
        template = note.params.get("template")
        return template if template in UNIT_NOTICES else "not_awarded"
    return None  # publish_award goes to the public page, not to a mailbox


@dataclass
class Facts:
    """What every recipient's mail about one notification shares (language-free)."""

    template: str
    nomination: Nomination | None
    batch: Batch | None
    unit: Unit | None
    task: InboxRow | None  # the reminded task, or the escalated copy the lead now holds
    task_name: str
    task_role: str | None
    due_at: datetime | None
    url: str
    extra: dict[str, Any]
    about: About | None = None


@dataclass(frozen=True)
class About:
    """What a mail about an instance's step names and links to: a nomination, a batch, or a unit's
    plan or results report of a round. `kind` chooses the templates' words ("hồ sơ", "đợt trình",
    "báo cáo"); `name` is never empty while there is something to name (a code when nothing else)."""

    kind: str  # nomination | batch | report | "" (nothing known)
    name: str
    url: str
    report: dict[str, Any] | None = None  # round_title, round_kind, unit_name: the report's facts


def about(session: Session, runtime: Runtime, nomination: Nomination | None, batch: Batch | None,
          instance_id: str | None) -> About:
    if nomination is not None:
        return About("nomination", nomination.nominee_name or nomination.id, link(runtime, nomination.id))
    if batch is not None:
        return About("batch", batch.title or batch.id, link(runtime, batch_id=batch.id))
    found = reports_about(session, runtime, [instance_id]).get(instance_id) if instance_id else None
    return found or About("", "", link(runtime))


def reports_about(session: Session, runtime: Runtime, instance_ids: list[str]) -> dict[str, About]:
    """instance id -> what a mail names for each of these instances that runs a unit's plan or report."""
    if not instance_ids:
        return {}
    rows = session.execute(select(UnitReport.instance_id, UnitReport.unit_id, ReportRound, Unit.name)
                           .join(ReportRound, ReportRound.id == UnitReport.round_id)
                           .join(Unit, Unit.id == UnitReport.unit_id)
                           .where(UnitReport.instance_id.in_(set(instance_ids))))
    return {str(instance_id): About("report", f"{round_.title} – {unit_name}",
                               f"{runtime.config.link_base}/rounds/{round_.id}/units/{unit_id}",
                               {"round_title": round_.title, "round_kind": round_.kind, "unit_name": unit_name})
            for instance_id, unit_id, round_, unit_name in rows}


def working_days_left(runtime: Runtime, now: datetime, due_at: datetime) -> int:
    """Working days from today to the due day (negative once past it), as the inbox counts them."""
    return runtime.calendar.working_days_between(local_date(runtime, now), local_date(runtime, due_at))


def link(runtime: Runtime, nomination_id: str | None = None, batch_id: str | None = None) -> str:
    base = runtime.config.link_base
    if nomination_id:
        return f"{base}/nominations/{nomination_id}"
    return f"{base}/batches/{batch_id}" if batch_id else f"{base}/"


def gather(session: Session, runtime: Runtime, note: Notification, nomination: Nomination | None,
           instance_id: str | None, tasks: list[InboxRow] | None = None) -> Facts | None:
    """`tasks`: the instance's open tasks after the step, if the caller has them already."""
    template = template_for(note)
    if template is None:
        return None
    if template == "report_reminder":
        return _report_facts(session, runtime, note, instance_id)
    if tasks is None:
        tasks = []
        if instance_id is not None:
            tasks = list(session.scalars(select(InboxRow).where(InboxRow.instance_id == instance_id)))
        elif nomination is not None:
            tasks = list(session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination.id)))
    batch = None
    if instance_id is not None and nomination is None:
        batch = session.scalars(select(Batch).where(Batch.instance_id == instance_id)).first()
    elif nomination is not None and nomination.batch_id:
        batch = session.get(Batch, nomination.batch_id)
    task_name, task_role, due_at, task = note.task or "", note.to_role, None, None
    extra: dict[str, Any] = {"kind": note.params.get("kind") or "before_due",
                             "reason": note.params.get("reason") or ""}
    if template == "reminder":
        task = next((t for t in tasks if t.task_id == note.task), None)
        if task is None and instance_id is not None:
            # The task closed in this very step: a late sweep fired its reminders and its escalation
            # together. Telling the former holder it is "due today" would be wrong; the lead's
            # escalation mail is the news.
            return None
        if task is not None:
            task_name, task_role, due_at = task.name, task.role, task.due_at
    elif template == "escalation":
        spec = _spec(session, runtime, instance_id, note.task)
        # The copy the lead now holds: the open task of the lead's role at the same stage (its diagram
        # says so; the ids of the two tasks need not be related).
        task = next((t for t in tasks if t.role == note.to_role and spec and spec.stage and t.stage == spec.stage),
                    None) or next((t for t in tasks if t.role == note.to_role), None)
        task_name = spec.name if spec else (task.name if task else task_name)
        task_role = spec.role if spec else None
        due_at = _original_due(session, instance_id, note.task)
        extra["escalated_name"] = task.name if task else task_name
    else:
        extra["decision_number"] = batch.decision_number if batch else None
        extra.update(decision_date=None, decision_url=None)
        extra.update(_signed_decision(session, runtime, batch))
        extra["decision_title"] = batch.title if batch else None
    if nomination is not None:
        extra["submission_number"] = submission_number_of(session, nomination.id)
    unit = session.get(Unit, note.unit_id) if note.unit_id else None
    subject = about(session, runtime, nomination, batch, instance_id)
    return Facts(template, nomination, batch, unit, task, task_name, task_role, due_at, subject.url, extra, subject)


def _report_facts(session: Session, runtime: Runtime, note: Notification, instance_id: str | None) -> Facts | None:
    """A unit's report of a round: what its reminder (before the due date) or overdue notice shows."""
    report = session.scalars(select(UnitReport).where(UnitReport.instance_id == instance_id)).first() \
        if instance_id else None
    round_ = session.get(ReportRound, report.round_id) if report else None
    if report is None or round_ is None:
        return None
    kind = note.params.get("kind") or "before_due"
    if kind == "before_due" and runtime.clock.now() >= round_.due_at:
        return None  # reopened after a return, past the due date: the overdue notice is the news
    unit = session.get(Unit, report.unit_id)
    url = f"{runtime.config.link_base}/rounds/{round_.id}/units/{report.unit_id}"
    return Facts("report_reminder", None, None, unit, None, round_.title, note.to_role, round_.due_at, url,
                 {"kind": kind, "reason": "", "round": round_, "report_status": report.status},
                 about(session, runtime, None, None, instance_id))


def submission_number_of(session: Session, nomination_id: str) -> str | None:
    """The unit head's tờ trình number, which every later desk cites (see reads/desks.py)."""
    return submission_number(session.scalars(select(AuditEvent).where(
        AuditEvent.nomination_id == nomination_id, AuditEvent.kind == "task_completed").order_by(AuditEvent.id)))


def recipients(session: Session, runtime: Runtime, note: Notification, task: InboxRow | None = None) -> list[User]:
    query: Select[User] | None
    if template_for(note) is None:
        return []
    if note.action == "notify_unit":
        # Everyone of the unit's own roles (config/roles.toml scope "unit") hears how it ended.
        unit_roles = [key for key, role in runtime.roles.roles.items() if role.scope == "unit"]
        query = select(User).join(RoleAssignment).where(RoleAssignment.role.in_(unit_roles),
                                                         RoleAssignment.unit_id == note.unit_id)
    elif note.action == "send_reminder" and task is not None and task.assignee_id is not None:
        # A claimed task reminds the person who holds it (and whoever stands in for them today), not
        # everyone of the role: the others cannot act on it anyway.
        today = local_date(runtime, runtime.clock.now())
        standing_in = select(Substitute.substitute_id).where(
            Substitute.absent_id == task.assignee_id, substitution_in_force(today))
        query = select(User).where((User.id == task.assignee_id) | User.id.in_(standing_in))
    else:
        query = holders_of(runtime, note.to_role, note.unit_id)
    return active_users(session, query)


def holders_of(runtime: Runtime, role_key: str | None, unit_id: str | None) -> Select[User] | None:
    """The users who hold the role (or a role that holds it, config/roles.toml), in the unit for a unit
    role; None for a role the catalogue does not know."""
    role = runtime.roles.roles.get(role_key or "")
    if role is None:
        return None
    query = select(User).join(RoleAssignment).where(RoleAssignment.role.in_(runtime.roles.holders(role.key)))
    return query.where(RoleAssignment.unit_id == unit_id) if role.scope == "unit" else query


def active_users(session: Session, query: Select[User] | None) -> list[User]:
    """The query's active users, each once, in id order; none without a query."""
    return [] if query is None else list(session.scalars(query.where(User.active).distinct().order_by(User.id)))


def former_holders(session: Session, runtime: Runtime, note: Notification, facts: Facts) -> list[User]:
    """Who held an escalated task: whoever had claimed it (the audit keeps the claim, the task row is
    gone), else everyone of its role (in its unit, for a unit role)."""
    if facts.task_role is None or note.task is None:
        return []
    instance_id = facts.task.instance_id if facts.task else None
    claim = session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == instance_id, AuditEvent.kind.in_(("task_claimed", "task_released")),
        AuditEvent.detail["task"].as_string() == note.task).order_by(AuditEvent.id.desc())).first() \
        if instance_id else None
    if claim is not None and claim.kind == "task_claimed" and claim.actor_id is not None:
        return active_users(session, select(User).where(User.id == claim.actor_id))
    return active_users(session, holders_of(runtime, facts.task_role, note.unit_id))


def context(runtime: Runtime, facts: Facts, user: User, note: Notification) -> dict[str, Any]:
    """The template variables of one recipient's mail, in that recipient's language."""
    lang = "en" if user.language == "en" else "vi"
    now = runtime.clock.now()
    days = working_days_left(runtime, now, facts.due_at) if facts.due_at else None
    nomination, batch = facts.nomination, facts.batch
    subject = facts.about or About("", "", facts.url)
    return {
        **facts.extra,
        "user": user,
        "recipient_title": _recipient_title(runtime, user, note, lang),
        "nomination": nomination, "batch": batch, "unit": facts.unit,
        "subject_name": subject.name, "about_kind": subject.kind, "report": subject.report,
        "task_name": facts.task_name,
        "task_role_title": _title(runtime, facts.task_role, lang),
        "from_role_title": _title(runtime, facts.task_role, lang),
        "to_role_title": _title(runtime, note.to_role, lang),
        "due_at": facts.due_at,
        "days_left": max(days, 0) if days is not None else None,
        "days_overdue": max(-days, 0) if days is not None else None,
        "url": facts.url,
    }


def _title(runtime: Runtime, role_key: str | None, lang: str) -> str:
    role = runtime.roles.roles.get(role_key or "")
    return role.title(lang) if role else ""


def _recipient_title(runtime: Runtime, user: User, note: Notification, lang: str) -> str:
    if note.action == "notify_unit":
        held = [a.role for a in user.roles if a.unit_id == note.unit_id]
        return _title(runtime, held[0], lang) if held else ""
    held_roles = {a.role for a in user.roles}
    return _title(runtime, note.to_role, lang) if note.to_role in held_roles else ""


def _spec(session: Session, runtime: Runtime, instance_id: str | None, task_id: str | None) -> HumanTaskSpec | None:
    """The diagram's task (name, role) of the instance's own diagram version."""
    row = session.get(InstanceRow, instance_id) if instance_id else None
    version = session.get(ProcessVersion, row.process_version_id) if row else None
    if version is None or not task_id:
        return None
    return runtime.definition(version).human_tasks.get(task_id)


def _original_due(session: Session, instance_id: str | None, task_id: str | None) -> datetime | None:
    """The escalated task's deadline: its row is gone, the audit of its opening still has it."""
    if instance_id is None or task_id is None:
        return None
    detail = session.scalars(select(AuditEvent.detail).where(
        AuditEvent.instance_id == instance_id, AuditEvent.kind == "task_opened",
        AuditEvent.detail["task"].as_string() == task_id).order_by(AuditEvent.id.desc())).first()
    due = (detail or {}).get("due_at")
    return datetime.fromisoformat(due) if due else None


def _signed_decision(session: Session, runtime: Runtime, batch: Batch | None) -> dict[str, Any]:
    """The signed decision's date and the link to its PDF, for the notice to cite number AND date."""
    entry = session.scalars(select(RegisterEntry).where(
        RegisterEntry.batch_id == batch.id, RegisterEntry.pdf_sha256.is_not(None))).first() if batch else None
    if entry is None:
        return {}
    file_id = session.scalar(select(DecisionFile.id).where(DecisionFile.register_entry_id == entry.id,
                                                           DecisionFile.stage == "signed"))
    return {"decision_number": f"{entry.number:02d}/{entry.symbol}",
            "decision_date": entry.signed_on.strftime("%d/%m/%Y"),
            "decision_url": f"{runtime.config.link_base}/decision-files/{file_id}?view=1" if file_id else None}
