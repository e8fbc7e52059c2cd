"""What each desk entered that later desks rely on, read back from the audit log: every completed
review step's verdict and the fields its form filled (the unit head's tờ trình number, the criteria
the DOST officer ticked, notes, the appraisal), the Chairman's answer per nomination, the dossier
files a newer upload replaced, and the nominations waiting at the same step (for comparing).

Labels come from each step's own form, so a renamed or added field shows without code changes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.runtime import Runtime
from service.db.lookups import movement_choices
from service.db.models import Attachment, AuditEvent, InboxRow, Nomination, Unit
from service.security.access import Actor, task_scope
from workflows.contract import DRAFT
from workflows.diagrams import ProcessDefinition
from workflows.form_choices import MovementChoices
from workflows.forms import Form, FormError

# A value a later desk cites by name wherever the nomination is shown (facts, mails).
SUBMISSION_NUMBER = "submission_number"
# Shown apart in the timeline already (the verdict, and the reason under it).
VERDICT_FIELDS = ("decision", "reason")


def form_of(runtime: Runtime, definition: ProcessDefinition | None, task_id: str,
            choices: MovementChoices | None = None) -> Form | None:
    """The form a task of this diagram version names (its id means nothing by itself), with the lists
    of the nomination's movement when given (criteria titles live there)."""
    spec = definition.human_tasks.get(task_id) if definition is not None else None
    if spec is None or not spec.form:
        return None
    try:
        return runtime.forms.get(spec.form, spec.ui_form, choices)
    except FormError:
        return None


def is_own_data(definition: ProcessDefinition | None, task_id: str) -> bool:
    """The draft stage's data is the nomination itself (shown as its details), not a desk's result."""
    return definition is not None and definition.stage_of(task_id) == DRAFT


def completions(definition: ProcessDefinition | None, history: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The latest completion of each review stage, oldest first (a stage done again after a return, or
    by the lead after an escalation, replaces its earlier result)."""
    latest: dict[str, AuditEvent] = {}
    for event in history:
        task = str((event.detail or {}).get("task", ""))
        if event.kind != "task_completed" or not task or is_own_data(definition, task):
            continue
        stage = (definition.stage_of(task) if definition is not None else None) or task
        latest.pop(stage, None)
        latest[stage] = event
    return list(latest.values())


def submission_number(history: Iterable[AuditEvent]) -> str | None:
    """The unit head's tờ trình number of the latest submission."""
    found = None
    for event in history:
        if event.kind == "task_completed":
            value = ((event.detail or {}).get("data") or {}).get(SUBMISSION_NUMBER)
            if isinstance(value, str) and value.strip():
                found = value.strip()
    return found


def choice_titles(node: dict[str, Any]) -> dict[str, str]:
    items = node.get("items") if node.get("type") == "array" else node
    options = (items or {}).get("oneOf") or (items or {}).get("anyOf") or []
    return {str(o["const"]): str(o.get("title", o["const"])) for o in options if isinstance(o, dict) and "const" in o}


def result_facts(form: Form | None, data: dict[str, Any], skip: tuple[str, ...] = VERDICT_FIELDS,
                 files: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """[{name, label, text | entries}] of the filled fields of one step's data, in the form's order.
    A field holding the SHA-256 of a file uploaded to the nomination (`files`: hash → name, e.g. the
    council's minutes) shows the file's name: a later desk reads names, not hashes."""
    if form is None:
        return []
    facts = []
    for name, node in (form.schema.get("properties") or {}).items():
        value = data.get(name)
        if name in skip or value in (None, "", [], {}) or not isinstance(node, dict):
            continue
        titles = choice_titles(node)
        label = str(node.get("title", name))
        if isinstance(value, list):
            items = [titles.get(str(v), str(v)) if not isinstance(v, dict) else
                     " — ".join(str(x) for x in v.values()) for v in value]
            facts.append({"name": name, "label": label, "entries": items,
                          "codes": [str(v) for v in value if not isinstance(v, dict)]})
        else:
            shown = _day_month_year(value) if node.get("format") == "date" else \
                (files or {}).get(str(value)) or titles.get(str(value), str(value))
            facts.append({"name": name, "label": label, "text": shown})
    return facts


def _day_month_year(value: Any) -> str:
    """A stored ISO date as it was typed and is read in Vietnam (dd/mm/yyyy); anything else as it is."""
    try:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def verdict(form: Form | None, data: dict[str, Any]) -> str | None:
    code = data.get("decision")
    if code is None:
        return None
    node = (form.schema.get("properties") or {}).get("decision") if form else None
    return choice_titles(node).get(str(code), str(code)) if isinstance(node, dict) else str(code)


def desk_results(runtime: Runtime, definition: ProcessDefinition | None, history: list[AuditEvent],
                 people: dict[int, str], choices: MovementChoices | None = None) -> list[dict[str, Any]]:
    """Each earlier desk's latest result: step, who, when, verdict, reason and filled fields."""
    results = []
    files = {str(e.detail["sha256"]): str(e.detail.get("filename") or e.detail["sha256"])
             for e in history if e.kind == "attachment_added" and (e.detail or {}).get("sha256")}
    for event in completions(definition, history):
        detail = event.detail or {}
        data = detail.get("data") or {}
        form = form_of(runtime, definition, str(detail.get("task", "")), choices)
        results.append({"task": detail.get("name") or detail.get("task"), "at": event.at,
                        "who": people.get(event.actor_id or -1), "verdict": verdict(form, data),
                        "decision": data.get("decision"), "reason": data.get("reason"),
                        "facts": result_facts(form, data, files=files)})
    return results


def replaced_files(attachments: list[Attachment], history: list[AuditEvent], dossier: dict[str, Any]) -> set[str]:
    """sha256 of the files a later upload replaced in their dossier part (kept, never deleted: the
    reviewers of the earlier submission saw them)."""
    current = {str(v) for v in (dossier or {}).values() if v}
    slot_of = {(e.detail or {}).get("sha256"): (e.detail or {}).get("slot")
               for e in history if e.kind == "attachment_added"}
    filled = {slot for slot, value in (dossier or {}).items() if value}
    return {a.sha256 for a in attachments if a.sha256 not in current and slot_of.get(a.sha256) in filled}


def chairman_answers(session: Session, nomination_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The decision each nomination received from its batch (outcome, reason), by nomination."""
    if not nomination_ids:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for event in session.scalars(select(AuditEvent).where(
            AuditEvent.kind == "decision_received", AuditEvent.nomination_id.in_(nomination_ids))
            .order_by(AuditEvent.id)):
        found[str(event.nomination_id)] = dict(event.detail or {})
    return found


def peers_at_step(runtime: Runtime, session: Session, actor: Actor, task: InboxRow | dict[str, Any],
                  limit: int = 200) -> list[dict[str, Any]]:
    """All nominations the actor sees waiting at the same step, with what the previous desk found:
    kind, unit, the criteria it ticked, its verdict. For choosing among them side by side."""
    task_id = task["task_id"] if isinstance(task, dict) else task.task_id
    rows = list(session.scalars(select(InboxRow).where(
        InboxRow.task_id == task_id, InboxRow.nomination_id.is_not(None), task_scope(actor))
        .order_by(InboxRow.opened_at).limit(limit)))
    ids = [str(t.nomination_id) for t in rows]
    if not ids:
        return []
    nominations = {n.id: n for n in session.scalars(select(Nomination).where(Nomination.id.in_(ids)))}
    definitions = {t.instance_id: runtime.definition_for(session, t.instance_id) for t in rows}
    unit_names = dict(session.execute(select(Unit.id, Unit.name)).all())
    previous: dict[str, AuditEvent] = {}
    for event in session.scalars(select(AuditEvent).where(
            AuditEvent.kind == "task_completed", AuditEvent.nomination_id.in_(ids)).order_by(AuditEvent.id)):
        previous[str(event.nomination_id)] = event
    out = []
    for row in rows:
        nomination = nominations.get(str(row.nomination_id))
        if nomination is None:
            continue
        definition = definitions.get(row.instance_id)
        found = previous.get(nomination.id)
        detail = (found.detail or {}) if found else {}
        if is_own_data(definition, str(detail.get("task", ""))):
            found, detail = None, {}  # straight from the unit: no desk has judged it yet
        data = detail.get("data") or {}
        form = form_of(runtime, definition, str(detail.get("task", "")),
                       movement_choices(session, nomination.movement_id)) if found else None
        ticked = next((f for f in result_facts(form, data) if f.get("codes")), None)
        out.append({"nomination_id": nomination.id, "task_uuid": row.id, "nominee_name": nomination.nominee_name,
                    "nominee_kind": nomination.nominee_kind, "award": nomination.award,
                    "unit_name": unit_names.get(nomination.unit_id, nomination.unit_id),
                    "previous_step": detail.get("name"), "verdict": verdict(form, data),
                    "criteria": ticked["codes"] if ticked else [],
                    "criteria_claimed": len(nomination.data.get("criteria") or []),
                    "note": data.get("note") or data.get("reason")})
    return out
