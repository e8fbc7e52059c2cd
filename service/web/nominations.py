"""Nomination pages: the list, a new draft, the draft form with its dossier files, the nomination
page (details, files, timeline, comments, diagram), file downloads and the diagram's XML."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from service.core.errors import InsufficientStorage, InvalidInput
from service.reads import api as queries
from service.reads import movements as movement_reads
from service.reads import pages as page_queries
from service.reads.movement_filter import movement_arg, parse_movement
from service.security.headers import send_attachment
from service.usecases import comments, drafts, files, nominations, withdrawals
from service.usecases.drafts import Upload
from service.web.common import (
    STATUS_LABELS,
    actor_required,
    draft_form,
    fields_for,
    lang,
    may_draft,
    nomination_form,
    runtime,
    t,
)
from service.web.filter_boxes import box
from service.web.formrender import effective_schema, parse_form
from workflows.contract import DRAFT
from workflows.forms import FieldError

bp = Blueprint("nominations", __name__)  # page module: nested under "pages" by register_pages

START_FIELDS = ("nominee_kind", "award", "nominee_name")  # what a new draft asks first
STATUSES = ("draft", "returned", "unit_review", "dost_review", "dost_selection", "home_affairs_review",
            "home_affairs_appraisal", "awaiting_decision", "awarded", "unit_certificate", "not_awarded")


@bp.route("/nominations")
def nomination_list() -> Any:
    actor = actor_required()
    status = box(request.args.get("status"), [(code, str(STATUS_LABELS.get(code, code))) for code in STATUSES], None,
                 lambda v: gettext("Không có trạng thái hồ sơ nào mang mã “%(value)s”: hãy chọn trong danh sách",
                                   value=v))
    q = (request.args.get("q") or "").strip() or None
    movement_id = movement_arg(runtime(), request.args)
    # A status that names nothing matches nothing: say why, never list everything under it.
    rows = [] if status.problem else page_queries.visible_nominations(runtime(), actor, status.value or None, q,
                                                                      movement_id)
    return render_template("nominations.html", rows=rows, status=status, q=q or "",
                           can_create=may_draft(actor), movement_id=movement_id,
                           movements=movement_reads.movement_list(runtime())), 400 if status.problem else 200


def _start_schema() -> dict[str, Any]:
    schema = draft_form().schema
    return {"type": "object", "properties": {k: schema["properties"][k] for k in START_FIELDS},
            "required": ["nominee_kind", "award"]}


@bp.route("/nominations/new", methods=["GET", "POST"])
def nomination_new() -> Any:
    actor = actor_required()
    units = page_queries.draft_candidates(runtime(), actor)["units"]
    schema, ui = _start_schema(), draft_form().ui_schema
    data: dict[str, Any] = {}
    errors: list[FieldError] = []
    if request.method == "POST":
        data = parse_form(schema, request.form)
        # The kind decides which criteria the form shows next, so it is asked for before the draft exists.
        errors = [FieldError(k, gettext("Trường này là bắt buộc")) for k in schema["required"] if k not in data]
        if not errors:
            unit_id = request.form.get("unit_id") or (units[0]["id"] if units else "")
            movement_id = parse_movement(runtime(), request.form.get("movement_id"))
            try:
                nomination_id = nominations.create_draft(runtime(), actor, unit_id, data, movement_id)
            except InvalidInput as exc:
                errors = exc.errors or [FieldError("", t(exc.detail))]
            else:
                flash(gettext("Đã tạo hồ sơ %(id)s. Hãy điền các thông tin còn lại và tải hồ sơ lên.",
                              id=nomination_id))
                return redirect(url_for("pages.nominations.nomination_edit", nomination_id=nomination_id))
    fields, leftovers = fields_for(schema, ui, data, errors, widgets={"nominee_kind": "radio"})
    return render_template("nomination_new.html", fields=fields, leftovers=leftovers, units=units,
                           movements=movement_reads.open_movements(runtime())), \
        (422 if errors else 200)


def _dossier_widgets(form: Any = None) -> dict[str, str]:
    slots = (form or draft_form()).schema["properties"]["dossier"]["properties"]
    return {f"dossier.{slot}": "file" for slot in slots}


def _kind_specific_hidden(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, str]:
    """Fields that only some kinds of nominee need (an individual's position and workplace) stay out
    of the way for the other kinds; they show when the chosen kind needs them or hold a value."""
    if not data.get("nominee_kind"):
        return {}
    sometimes = {f for part in schema.get("allOf", []) if isinstance(part, dict)
                 for f in (part.get("then") or {}).get("required", [])} - set(schema.get("required", []))
    needed = set(effective_schema(schema, data).get("required", []))
    return {f: "hidden" for f in sometimes - needed if not data.get(f)}


def _render_draft(page: dict[str, Any], data: dict[str, Any], errors: Any = (), status: int = 200) -> Any:
    form = nomination_form(page)
    widgets = {**_dossier_widgets(form), **_kind_specific_hidden(form.schema, data)}
    fields, leftovers = fields_for(form.schema, form.ui_schema, data, errors, widgets=widgets)
    files = {a.sha256: a for a in page["attachments"]}
    return render_template("nomination_edit.html", n=page, fields=fields, leftovers=leftovers, files=files), status


@bp.route("/nominations/<nomination_id>/edit", methods=["GET", "POST"])
def nomination_edit(nomination_id: str) -> Any:
    actor = actor_required()
    page = page_queries.nomination_page(runtime(), actor, nomination_id)
    if not _can_edit(actor, page):
        flash(gettext("Hồ sơ này không ở bước lập hồ sơ của đơn vị."), "error")
        return redirect(url_for("pages.nominations.nomination_page", nomination_id=nomination_id))
    if request.method == "GET":
        return _render_draft(page, page["data"])
    data = parse_form(nomination_form(page).schema, request.form)
    uploads = [Upload(key.removeprefix("upload."), f.filename or "tep", f.read())
               for key, f in request.files.items() if key.startswith("upload.") and f.filename]
    submitting = request.form.get("action") == "submit"
    try:
        if submitting:
            drafts.save_and_submit(runtime(), actor, nomination_id, data, uploads, language=lang())
            errors: list[FieldError] = []
        else:
            errors = drafts.save_draft_form(runtime(), actor, nomination_id, data, uploads, language=lang())
    except InvalidInput as exc:
        errors = exc.errors or [FieldError("", t(exc.detail))]
    except InsufficientStorage as exc:
        # Nothing was saved: the page comes back with what was typed and says why, beside each file.
        fresh = page_queries.nomination_page(runtime(), actor, nomination_id)
        errors = [FieldError(f"dossier.{u.slot}", t(exc.detail)) for u in uploads] or [FieldError("", t(exc.detail))]
        flash(t(exc.detail), "error")
        return _render_draft(fresh, data, errors, exc.status)
    if errors:
        # Show what was typed, with the files that did get saved, and each message beside its field.
        fresh = page_queries.nomination_page(runtime(), actor, nomination_id)
        shown = {**data, "dossier": {**(fresh["data"].get("dossier") or {}), **(data.get("dossier") or {})}}
        if not submitting:
            flash(gettext("Đã lưu các phần hợp lệ. Các trường báo lỗi chưa được lưu."), "error")
        return _render_draft(fresh, shown, errors, 422)
    if submitting:
        flash(gettext("Đã gửi hồ sơ lên Hội đồng Thi đua – Khen thưởng của đơn vị.") if page["within_unit"]
              else gettext("Đã gửi hồ sơ lên thủ trưởng đơn vị."))
        return redirect(url_for("pages.nominations.nomination_page", nomination_id=nomination_id))
    flash(gettext("Đã lưu nháp."))
    return redirect(url_for("pages.nominations.nomination_edit", nomination_id=nomination_id))


@bp.route("/nominations/<nomination_id>")
def nomination_page(nomination_id: str) -> Any:
    actor = actor_required()
    page = page_queries.nomination_page(runtime(), actor, nomination_id)
    form = nomination_form(page)
    details, _ = fields_for(form.schema, form.ui_schema, page["data"], widgets=_dossier_widgets(form))
    return render_template("nomination.html", n=page, details=details,
                           files={a.sha256: a for a in page["attachments"]},
                           can_edit=_can_edit(actor, page))


def _can_edit(actor: Any, page: dict[str, Any]) -> bool:
    """The dossier is editable while its draft stage is open, by that task's role (its diagram's lane)."""
    return any(t["stage"] == DRAFT and actor.has_role(t["role"]) for t in page["tasks"])


@bp.route("/nominations/<nomination_id>/withdraw", methods=["POST"])
def nomination_withdraw(nomination_id: str) -> Any:
    withdrawals.withdraw_draft(runtime(), actor_required(), nomination_id, request.form.get("reason"))
    flash(gettext("Đã rút hồ sơ. Hồ sơ được giữ lại để tra cứu và không đi tiếp."))
    return redirect(url_for("pages.nominations.nomination_page", nomination_id=nomination_id))


@bp.route("/nominations/<nomination_id>/comments", methods=["POST"])
def nomination_comment(nomination_id: str) -> Any:
    actor = actor_required()
    try:
        comments.add_comment(runtime(), actor, nomination_id, request.form.get("text", ""))
    except InvalidInput as exc:
        flash(t(exc.errors[0].message if exc.errors else exc.detail), "error")
    else:
        flash(gettext("Đã gửi ý kiến."))
    return redirect(url_for("pages.nominations.nomination_page", nomination_id=nomination_id) + "#comments")


@bp.route("/nominations/<nomination_id>/files/<sha256>")
def nomination_file(nomination_id: str, sha256: str) -> Any:
    found = queries.attachment_for(runtime(), actor_required(), nomination_id, sha256)
    return send_attachment(files.attachment_path(runtime(), found.sha256), found.content_type, found.filename)


@bp.route("/nominations/<nomination_id>/diagram.bpmn")
def nomination_diagram(nomination_id: str) -> Any:
    xml = page_queries.diagram_xml(runtime(), actor_required(), nomination_id)
    return Response(xml, mimetype="application/xml", headers={"Cache-Control": "private, max-age=300"})
