"""Read models the staff pages need beyond `queries.py`: units and names to show, one open task,
the nomination page (timeline, diagram state), batches, and the public disclosure list. No writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.errors import Forbidden, NotFound
from service.core.runtime import Runtime
from service.db.lookups import batch_of, movement_choices, task_gone
from service.db.models import AuditEvent, Batch, InboxRow, InstanceRow, Movement, Nomination, ProcessVersion, Unit, User
from service.reads import api as queries
from service.reads import decisions as decision_reads
from service.reads import desks, public_comments, steps
from service.security.access import (
    Actor,
    can_act,
    nomination_scope,
    require_batch_viewer,
    require_view,
    task_scope,
)
from workflows.contract import AWARD_DECISION, BATCH_PREPARATION, DRAFT, NOMINATION
from workflows.diagrams import ProcessDefinition
from workflows.form_choices import MovementChoices
from workflows.forms import Form

PUBLIC_STATUSES = ("awaiting_decision", "awarded")
# Timeline entries people read; the engine's own bookkeeping (task_opened, logins) stays in the log.
TIMELINE_KINDS = ("nomination_created", "draft_saved", "attachment_added", "task_completed", "task_claimed",
                  "task_released", "task_reassigned", "comment", "send_reminder", "escalate", "notify_unit",
                  "publish_award", "instance_ended", "decision_received", "nomination_withdrawn",
                  "unit_decision_signed")


def units(runtime: Runtime, actor: Actor | None = None) -> list[dict[str, str]]:
    """All units, or only the actor's own when all their roles are unit-scoped."""
    query = select(Unit).order_by(Unit.name)
    if actor is not None and not actor.is_admin and all(
            runtime.roles.roles[r].scope == "unit" for r, _ in actor.grants if r in runtime.roles.roles):
        query = query.where(Unit.id.in_(actor.units()))
    with runtime.read() as uow:
        return [{"id": u.id, "name": u.name, "kind": u.kind} for u in uow.session.scalars(query)]


def unit_name(runtime: Runtime, unit_id: str) -> str | None:
    """One unit's name (None: no such unit): what a filter box names a value it does not offer."""
    with runtime.read() as uow:
        return uow.session.scalar(select(Unit.name).where(Unit.id == unit_id))


def names(session: Session, user_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_(ids)))}


def whoami(runtime: Runtime, actor: Actor) -> dict[str, Any]:
    with runtime.read() as uow:
        user = uow.session.get(User, actor.user_id)
        return {"full_name": user.full_name if user else actor.username, "language": user.language if user else "vi",
                "mail_immediately": user.mail_immediately if user else True}


def inbox_context(runtime: Runtime, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """Names of the assignees and of the nominating units of inbox rows (tasks of province roles
    carry no unit of their own)."""
    with runtime.read() as uow:
        session = uow.session
        ids = {t["nomination_id"] for t in tasks if t["nomination_id"]}
        unit_of = dict(session.execute(select(Nomination.id, Nomination.unit_id).where(Nomination.id.in_(ids))).all())
        unit_names = dict(session.execute(select(Unit.id, Unit.name)).all())
        return {"assignees": names(session, {t["assignee_id"] for t in tasks}),
                "units": {nid: unit_names.get(uid, uid) for nid, uid in unit_of.items()},
                "batches": _batch_summaries(session, {t["batch_id"] for t in tasks if t["batch_id"]})}


def _batch_summaries(session: Session, batch_ids: set[str]) -> dict[str, dict[str, Any]]:
    """What a batch's inbox row says: its trích yếu, how many nominations, who submitted it (the last
    person who completed a step of it, else its creator)."""
    if not batch_ids:
        return {}
    rows = list(session.scalars(select(Batch).where(Batch.id.in_(batch_ids))))
    counts = dict(session.execute(select(Nomination.batch_id, func.count()).where(
        Nomination.batch_id.in_(batch_ids)).group_by(Nomination.batch_id)).all())
    by_instance = {b.instance_id: b for b in rows}
    last_actor: dict[str, int | None] = {}
    for instance_id, actor_id in session.execute(select(AuditEvent.instance_id, AuditEvent.actor_id).where(
            AuditEvent.instance_id.in_(list(by_instance)), AuditEvent.kind == "task_completed")
            .order_by(AuditEvent.id)):
        last_actor[by_instance[str(instance_id)].id] = actor_id
    people = names(session, set(last_actor.values()) | {b.created_by for b in rows})
    return {b.id: {"title": b.title, "count": counts.get(b.id, 0),
                   "submitter": people.get(last_actor.get(b.id) or b.created_by)} for b in rows}


def waiting_work(runtime: Runtime, actor: Actor) -> list[dict[str, Any]]:
    """Work waiting for one of the actor's roles that is not an open task yet: appraised nominations
    waiting to be put into a batch, for whoever prepares batches; unread comments from the public."""
    work = []
    with runtime.read() as uow:
        session = uow.session
        if actor.has_role(runtime.stage_task(session, AWARD_DECISION, BATCH_PREPARATION).role):
            count = session.scalar(select(func.count()).select_from(Nomination).where(
                Nomination.status == "awaiting_decision", Nomination.batch_id.is_(None))) or 0
            if count:
                work.append({"kind": "to_batch", "count": count})
    if unread := public_comments.unread_count(runtime, actor):
        work.append({"kind": "public_comments", "count": unread})
    return work


form_for_task = desks.form_of


def draft_form(runtime: Runtime, choices: MovementChoices | None = None) -> Form:
    """The form of the draft stage in the version new nominations run on; with `choices`, filled
    with a movement's kinds, criteria and awards."""
    with runtime.lookup() as uow:
        draft = runtime.stage_task(uow.session, NOMINATION, DRAFT)
    if not draft.form:
        raise LookupError(f"the draft task {draft.task_id!r} has no form")
    return runtime.forms.get(draft.form, draft.ui_form, choices)


def nomination_draft_form(runtime: Runtime, nomination_id: str) -> Form | None:
    """The draft form of the process this nomination runs (a Giấy khen's is not a Bằng khen's), with its
    movement's lists and its unit's own criteria; None when its diagram version names none."""
    with runtime.read() as uow:
        session = uow.session
        nomination = session.get(Nomination, nomination_id)
        definition = runtime.definition_for(session, nomination.instance_id) if nomination else None
        drafts = definition.tasks_of_stage(DRAFT) if definition is not None else []
        if nomination is None or not drafts or not drafts[0].form:
            return None
        choices = movement_choices(session, nomination.movement_id, nomination.unit_id)
    return runtime.forms.get(drafts[0].form, drafts[0].ui_form, choices)


def open_task(runtime: Runtime, actor: Actor, task_uuid: str) -> dict[str, Any]:
    now = runtime.clock.now()
    with runtime.read() as uow:
        session = uow.session
        task = session.scalars(select(InboxRow).where(InboxRow.id == task_uuid)).first()
        if task is None:
            raise task_gone(session, task_uuid)  # says who has it now if the deadline moved it to the lead
        visible = session.scalars(select(InboxRow.id).where(InboxRow.id == task_uuid, task_scope(actor))).first()
        if visible is None and not actor.is_admin:
            raise Forbidden("Bạn không được giao xử lý nhiệm vụ này")
        view = queries.task_view(runtime, task, now)
        view["can_act"] = can_act(actor, task)
        view["assignee_name"] = names(session, {task.assignee_id}).get(task.assignee_id or -1)
        view["peers"] = desks.peers_at_step(runtime, session, actor, task) if task.nomination_id else []
        return view


def nomination_page(runtime: Runtime, actor: Actor, nomination_id: str) -> dict[str, Any]:
    detail = queries.nomination_detail(runtime, actor, nomination_id)
    with runtime.read() as uow:
        session = uow.session
        unit = session.get(Unit, detail["unit_id"])
        history = detail["history"]
        people = names(session, {e.actor_id for e in history} | {a.uploaded_by for a in detail["attachments"]})
        batch = session.get(Batch, detail["batch_id"]) if detail["batch_id"] else None
        nomination = session.get(Nomination, nomination_id)
        lists = movement_choices(session, nomination.movement_id) if nomination else None
        definition = runtime.definition_for(session, nomination.instance_id if nomination else None)
        _mark_actionable(session, actor, detail["tasks"])
    detail["unit_name"] = unit.name if unit else detail["unit_id"]
    detail["people"] = people
    detail["decision_number"] = batch.decision_number if batch else None
    detail["decision"] = decision_reads.public_decisions(runtime, {batch.id}).get(batch.id) if batch else None
    detail["timeline"] = [_timeline_entry(runtime, definition, e, people) for e in history
                          if e.kind in TIMELINE_KINDS]
    detail["return_reason"] = last_return_reason(definition, history)
    detail["submission_number"] = desks.submission_number(history)
    detail["steps"] = steps.steps(runtime, definition, history, detail["status"])
    detail["desk_results"] = desks.desk_results(runtime, definition, history, people, lists)
    detail["replaced"] = desks.replaced_files(detail["attachments"], history, detail["data"].get("dossier") or {})
    done = [e.detail.get("task") for e in history if e.kind == "task_completed"]
    current = [t["task_id"] for t in detail["tasks"]]
    if detail["status"] == "awaiting_decision" and definition is not None:
        current.extend(i for ids in definition.message_catchers.values() for i in ids)
    ended = [e.detail.get("end_event") for e in history if e.kind == "instance_ended"]
    detail["diagram"] = {"done": sorted({d for d in done + ended if d}), "current": current}
    return detail


def _mark_actionable(session: Session, actor: Actor, tasks: list[dict[str, Any]]) -> None:
    """"Mở việc" is offered only on the open tasks the actor may complete."""
    rows = {t.id: t for t in session.scalars(select(InboxRow).where(InboxRow.id.in_([t["id"] for t in tasks])))}
    for task in tasks:
        row = rows.get(task["id"])
        task["can_act"] = row is not None and can_act(actor, row)


def last_return_reason(definition: ProcessDefinition | None, history: list[AuditEvent]) -> dict[str, Any] | None:
    """The latest "return" decision, while the nomination is back with its unit."""
    for event in reversed(history):
        if (event.kind == "task_completed" and definition is not None
                and definition.stage_of(event.detail.get("task")) == DRAFT):
            return None  # already resubmitted since
        data = event.detail.get("data") or {}
        if event.kind == "task_completed" and data.get("decision") in ("return", "send_back"):
            return {"task": event.detail.get("name"), "reason": data.get("reason", ""), "at": event.at}
    return None


def _timeline_entry(runtime: Runtime, definition: ProcessDefinition | None, event: AuditEvent,
                    people: dict[int, str]) -> dict[str, Any]:
    detail = dict(event.detail or {})
    entry: dict[str, Any] = {"at": event.at, "kind": event.kind, "who": people.get(event.actor_id or -1),
                             "detail": detail}
    if event.kind == "decision_received" and detail.get("signed_on"):
        day = str(detail["signed_on"]).split("-")
        detail["signed_on_vn"] = "/".join(reversed(day)) if len(day) == 3 else detail["signed_on"]
    if event.kind == "task_completed":
        data = detail.get("data") or {}
        form = form_for_task(runtime, definition, str(detail.get("task", "")))
        titles = dict(_decision_choices(form)) if form else {}
        entry["decision"] = titles.get(str(data.get("decision")), data.get("decision"))
        entry["reason"] = data.get("reason") or data.get("appraisal_opinion") or data.get("note")
        own_data = desks.is_own_data(definition, str(detail.get("task", "")))  # shown as the nomination's details
        entry["submitted"] = own_data  # the unit's officer sent the draft up: "Gửi thủ trưởng đơn vị"
        # What else the desk entered (a tờ trình number, ticked criteria), short: codes, not titles.
        entry["facts"] = [] if own_data else [
            {"label": f["label"], "text": f.get("text") or ", ".join(f.get("codes") or f["entries"])}
            for f in desks.result_facts(form, data, skip=desks.VERDICT_FIELDS + (
                "appraisal_opinion", "note", "nomination_ids", "decision_draft"))]
    return entry


def _decision_choices(form: Form) -> list[tuple[str, str]]:
    from service.web.formrender import choices_of

    node = form.schema.get("properties", {}).get("decision")
    return choices_of(node) if isinstance(node, dict) else []


def diagram_xml(runtime: Runtime, actor: Actor, nomination_id: str) -> bytes:
    with runtime.read() as uow:
        session = uow.session
        nomination = session.get(Nomination, nomination_id)
        if nomination is None or nomination.instance_id is None:
            raise NotFound(f"Không tìm thấy hồ sơ {nomination_id}")
        require_view(actor, nomination, runtime.roles)
        instance = session.get(InstanceRow, nomination.instance_id)
        version = session.get(ProcessVersion, instance.process_version_id) if instance else None
        if version is None:
            raise NotFound("Không tìm thấy sơ đồ quy trình")
        return version.bpmn


def draft_candidates(runtime: Runtime, actor: Actor) -> dict[str, Any]:
    """What a unit officer needs to start a draft: the units they draft for (with the draft task's role)."""
    with runtime.read() as uow:
        role = runtime.stage_task(uow.session, NOMINATION, DRAFT).role
        staff_units = sorted(u for r, u in actor.grants if r == role and u)
        rows = uow.session.scalars(select(Unit).where(Unit.id.in_(staff_units)).order_by(Unit.name))
        return {"units": [{"id": u.id, "name": u.name} for u in rows]}


# --- batches (Home Affairs and the Chairman) ------------------------------------------------------------

def batches(runtime: Runtime, actor: Actor, movement_id: int | None = None) -> dict[str, Any]:
    """Every batch, or one movement's; the nominations waiting for one (of that movement)."""
    require_batch_viewer(actor)
    with runtime.read() as uow:
        session = uow.session
        query = select(Batch).order_by(Batch.created_at.desc())
        waiting_query = select(Nomination).where(Nomination.status == "awaiting_decision",
                                                 Nomination.batch_id.is_(None))
        if movement_id is not None:
            query = query.where(Batch.movement_id == movement_id)
            waiting_query = waiting_query.where(Nomination.movement_id == movement_id)
        rows = list(session.scalars(query))
        members = _members(session, [b.id for b in rows])
        tasks = {t.batch_id: t for t in session.scalars(select(InboxRow).where(InboxRow.batch_id.is_not(None)))}
        waiting = session.scalars(waiting_query).all()
        return {"batches": [{**_batch_view(b), "count": len(members.get(b.id, [])),
                             "task": tasks.get(b.id)} for b in rows],
                "waiting": [_public_view(session, n) for n in waiting]}


def batch_page(runtime: Runtime, actor: Actor, batch_id: str) -> dict[str, Any]:
    require_batch_viewer(actor)
    now = runtime.clock.now()
    with runtime.read() as uow:
        session = uow.session
        batch = batch_of(session, batch_id)
        view = _batch_view(batch)
        view["nominations"] = [_public_view(session, n) for n in _members(session, [batch_id]).get(batch_id, [])]
        answers = desks.chairman_answers(session, [n["id"] for n in view["nominations"]])
        for member in view["nominations"]:
            answer = answers.get(member["id"]) or {}
            member["excluded"] = answer.get("outcome") == "not_awarded"
            member["excluded_reason"] = answer.get("reason") if member["excluded"] else None
        view["candidates"] = [_public_view(session, n) for n in session.scalars(select(Nomination).where(
            Nomination.status == "awaiting_decision", Nomination.batch_id.is_(None)).order_by(Nomination.id))]
        view["tasks"] = [queries.task_view(runtime, t, now) for t in session.scalars(
            select(InboxRow).where(InboxRow.batch_id == batch_id))]
        _mark_actionable(session, actor, view["tasks"])
        view["history"] = list(session.scalars(select(AuditEvent).where(
            AuditEvent.instance_id == batch.instance_id, AuditEvent.kind == "task_completed")
            .order_by(AuditEvent.id)))
        definition = runtime.definition_for(session, batch.instance_id)
        view["draft"] = _latest_batch_draft(definition, view["history"])
        people = names(session, {e.actor_id for e in view["history"]})
        view["timeline"] = [_timeline_entry(runtime, definition, e, people) for e in view["history"]]
        return view


def _members(session: Session, batch_ids: list[str]) -> dict[str, list[Nomination]]:
    found: dict[str, list[Nomination]] = {}
    if batch_ids:
        for n in session.scalars(select(Nomination).where(Nomination.batch_id.in_(batch_ids)).order_by(Nomination.id)):
            found.setdefault(str(n.batch_id), []).append(n)
    return found


def _latest_batch_draft(definition: ProcessDefinition | None, history: list[AuditEvent]) -> dict[str, Any]:
    """The newest tờ trình / draft decision, and the Chairman's reason if he sent it back since."""
    drafts = [e.detail.get("data") or {} for e in history
              if definition is not None and definition.stage_of(e.detail.get("task")) == BATCH_PREPARATION]
    data = drafts[-1] if drafts else {}
    last = (history[-1].detail.get("data") or {}) if history else {}
    return {"title": data.get("decision_title"), "text": data.get("decision_draft"),
            "sent_back": last.get("reason") if last.get("decision") == "send_back" else None}


def _batch_view(batch: Batch) -> dict[str, Any]:
    return {"id": batch.id, "title": batch.title, "status": batch.status,
            "decision_number": batch.decision_number, "created_at": batch.created_at}


# --- public disclosure (công khai) ----------------------------------------------------------------------

def public_disclosure(runtime: Runtime) -> list[dict[str, Any]]:
    """Nominations proposed for the Chairman's award and those awarded, with only what the law asks to
    publish: the nominee, the nominating unit, the award and the achievements. Never the dossier,
    the people who handled it, or anything personal beyond the nominee's name."""
    with runtime.read() as uow:
        session = uow.session
        rows = session.scalars(select(Nomination).where(Nomination.status.in_(PUBLIC_STATUSES))
                               .order_by(Nomination.status.desc(), Nomination.updated_at.desc()))
        return [_public_view(session, n) for n in rows]


def _public_view(session: Session, nomination: Nomination) -> dict[str, Any]:
    unit = session.get(Unit, nomination.unit_id)
    batch = session.get(Batch, nomination.batch_id) if nomination.batch_id else None
    movement = session.get(Movement, nomination.movement_id)
    # An individual is published with the position the law's list names him by; a collective has none.
    individual = any(isinstance(k, dict) and k.get("code") == nomination.nominee_kind and k.get("individual")
                     for k in (movement.nominee_kinds if movement else []))
    return {"id": nomination.id, "nominee_name": nomination.nominee_name, "nominee_kind": nomination.nominee_kind,
            "position": (nomination.data or {}).get("position") if individual else None,
            "year": movement.year if movement else nomination.created_at.year, "unit_id": nomination.unit_id,
            "unit_name": unit.name if unit else nomination.unit_id, "award": nomination.award,
            "achievement_summary": (nomination.data or {}).get("achievement_summary", ""),
            "status": nomination.status, "batch_id": nomination.batch_id,
            "decision_number": batch.decision_number if batch and nomination.status == "awarded" else None,
            "updated_at": nomination.updated_at}


def visible_nominations(runtime: Runtime, actor: Actor, status: str | None, q: str | None,
                        movement_id: int | None = None) -> list[dict[str, Any]]:
    """The nominations list page: `queries.list_nominations` plus a search by nominee or unit."""
    if not q:
        rows = queries.list_nominations(runtime, actor, status=status, limit=200, movement_id=movement_id)
        ids = {r["unit_id"] for r in rows}
    else:
        pattern = f"%{q.strip()}%"
        with runtime.read() as uow:
            unit_ids = select(Unit.id).where(Unit.name.ilike(pattern))
            query = select(Nomination).where(nomination_scope(actor, runtime.roles)).where(
                Nomination.nominee_name.ilike(pattern) | Nomination.unit_id.in_(unit_ids)
                | Nomination.id.ilike(pattern))
            if status:
                query = query.where(Nomination.status == status)
            if movement_id is not None:
                query = query.where(Nomination.movement_id == movement_id)
            found = uow.session.scalars(query.order_by(Nomination.updated_at.desc()).limit(200))
            rows = [{c.name: getattr(n, c.name) for c in Nomination.__table__.columns} for n in found]
        ids = {r["unit_id"] for r in rows}
    with runtime.read() as uow:
        unit_names = dict(uow.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())
    for row in rows:
        row["unit_name"] = unit_names.get(row["unit_id"], row["unit_id"])
    return rows


def today_local(runtime: Runtime) -> datetime:
    from zoneinfo import ZoneInfo

    return runtime.clock.now().astimezone(ZoneInfo(runtime.calendar.timezone))
