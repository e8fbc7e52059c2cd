"""The task page: the task's form drawn from its JSON Schema + UI schema, beside the nomination (or
batch) it concerns; completing it calls the one use case that moves the process."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from service.core.errors import InvalidInput
from service.reads import movements as movement_reads
from service.reads import pages as page_queries
from service.reads.reports import report_of_task
from service.usecases import tasks as task_cases
from service.usecases.report_status import DRAFTING, REPORT_PROCESSES
from service.web.common import actor_required, draft_form, extra_rows, fields_for, lang, runtime, t
from service.web.formrender import choices_of, effective_schema, parse_form
from workflows.contract import BATCH_PREPARATION, DRAFT
from workflows.forms import FieldError

bp = Blueprint("tasks", __name__)  # page module: nested under "pages" by register_pages


def _context(actor: Any, task: dict[str, Any]) -> dict[str, Any]:
    """The nomination or batch beside the form, and the choices the form offers from it."""
    context: dict[str, Any] = {"n": None, "batch": None, "choices": {}, "prefill": {}, "report": None}
    if task["process_id"] in REPORT_PROCESSES:
        context["report"] = report_of_task(runtime(), task["instance_id"])
    if task["nomination_id"]:
        page = page_queries.nomination_page(runtime(), actor, task["nomination_id"])
        context["n"] = page
        form = draft_form(page["movement_id"])
        context["details"] = fields_for(form.schema, form.ui_schema, page["data"])[0]
        context["files"] = {a.sha256: a for a in page["attachments"]}
        # Reviewers tick the criteria of the nominee's own kind (plan, section III.2.1 a–d).
        draft = effective_schema(form.schema, page["data"])
        criteria = choices_of(draft["properties"]["criteria"].get("items", {}))
        context["choices"]["criteria_met"] = criteria
    if task["batch_id"]:
        batch = page_queries.batch_page(runtime(), actor, task["batch_id"])
        context["batch"] = batch
        pool = batch["nominations"] + batch["candidates"]
        context["choices"]["nomination_ids"] = [(n["id"], _awardee(n)) for n in pool]
        context["choices"]["excluded.nomination_id"] = [
            (n["id"], f'{n["id"]} — {n["nominee_name"]}') for n in batch["nominations"]]
        if task["stage"] == BATCH_PREPARATION and batch["draft"]["title"]:
            context["prefill"] = {"decision_title": batch["draft"]["title"],
                                  "decision_draft": batch["draft"]["text"],
                                  "nomination_ids": [n["id"] for n in batch["nominations"]]}
        elif task["task_id"] == "prepare_batch" and batch["title"]:
            context["prefill"] = {"decision_title": batch["title"]}  # the content asked for at creation
    return context


def _task_form(task: dict[str, Any]) -> Any:
    """The task's form, with the lists of its nomination's movement where the form asks for them."""
    movement_id = movement_reads.movement_id_of(runtime(), task["nomination_id"]) if task["nomination_id"] else None
    choices = movement_reads.choices(runtime(), movement_id) if movement_id is not None else None
    return runtime().forms.get(task["form"], task["ui_form"], choices)


def _awardee(n: dict[str, Any]) -> str:
    unit = f' — {n["unit_name"]}' if n["unit_name"] != n["nominee_name"] else ""
    return f'{n["nominee_name"]}{unit} ({n["id"]})'


def _render(actor: Any, task: dict[str, Any], data: dict[str, Any] | None, errors: Any = (),
            rows: dict[str, int] | None = None, status: int = 200) -> Any:
    form = _task_form(task)
    context = _context(actor, task)
    widgets = {"nomination_ids": "checkboxes"} if task["batch_id"] else {}
    fields, leftovers = fields_for(form.schema, form.ui_schema, context["prefill"] if data is None else data,
                                   errors, choices=context["choices"], widgets=widgets, extra_rows=rows or {})
    return render_template("task.html", task=task, form=form, fields=fields, leftovers=leftovers, **context), status


@bp.route("/tasks/<task_uuid>", methods=["GET", "POST"])
def task_page(task_uuid: str) -> Any:
    actor = actor_required()
    task = page_queries.open_task(runtime(), actor, task_uuid)
    if task["stage"] == DRAFT and task["nomination_id"]:
        return redirect(url_for("pages.nominations.nomination_edit", nomination_id=task["nomination_id"]))
    report = report_of_task(runtime(), task["instance_id"]) if task["process_id"] in REPORT_PROCESSES else None
    if report is not None and task["stage"] == DRAFTING:  # a unit's report is written on its own page
        return redirect(url_for("pages.rounds.unit_report", round_id=report[0], unit_id=report[1]))
    if request.method == "GET":
        return _render(actor, task, None)
    data = parse_form(_task_form(task).schema, request.form)
    if request.form.get("_add_row"):
        return _render(actor, task, data, rows=extra_rows(request.form))
    try:
        task_cases.complete_task(runtime(), actor, task_uuid, data, language=lang())
    except InvalidInput as exc:
        return _render(actor, task, data, exc.errors or [FieldError("", t(exc.detail))], status=422)
    flash(gettext("Đã hoàn thành: %(name)s.", name=t(task["name"])))
    if task["batch_id"]:
        return redirect(url_for("pages.batches.batch_page", batch_id=task["batch_id"]))
    return redirect(url_for("pages.inbox.inbox"))
