"""Pages of the reporting rounds: the list (and opening a round), the follow-up board with its urging
button and downloads, and one unit's report (figures, signed file, send up)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from service.core.errors import InvalidInput
from service.core.media_types import DOCX, XLSX
from service.reads import reports as queries
from service.reads import summary
from service.security.access import follows_rounds
from service.security.headers import send_attachment
from service.usecases import reports
from service.usecases.report_status import DRAFTING
from service.web.common import actor_required, fields_for, lang, runtime
from service.web.formrender import parse_form
from workflows.forms import FieldError

bp = Blueprint("rounds", __name__)  # page module: nested under "pages" by register_pages

FORM_OF_KIND = {"plan": "unit_plan_fill.schema.json", "results": "unit_report_fill.schema.json"}


@bp.route("/rounds", methods=["GET", "POST"])
def round_list() -> Any:
    actor = actor_required()
    errors: list[FieldError] = []
    if request.method == "POST":
        try:
            round_id = reports.open_round(
                runtime(), actor, request.form.get("kind", ""), request.form.get("title", ""),
                _int(request.form.get("year"), "year"), _int(request.form.get("working_days"), "working_days"))
        except InvalidInput as exc:
            errors = exc.errors or [FieldError("", exc.detail)]
        else:
            flash(gettext("Đã mở đợt; mỗi đơn vị đã có nhiệm vụ lập báo cáo."))
            return redirect(url_for("pages.rounds.round_board", round_id=round_id))
    return render_template("rounds.html", rounds=queries.list_rounds(runtime(), actor),
                           can_open=follows_rounds(actor), errors=errors, form=request.form,
                           year=runtime().clock.now().year), 422 if errors else 200


def _int(value: str | None, field: str) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise InvalidInput("Cần một số nguyên", [FieldError(field, "Cần một số nguyên")]) from None


@bp.route("/rounds/<round_id>")
def round_board(round_id: str) -> Any:
    actor = actor_required()
    round_, rows = queries.board(runtime(), actor, round_id)
    counts = {status: sum(1 for r in rows if r.status == status) for status in queries.STATUS_TITLES}
    return render_template("round_board.html", round=round_, rows=rows, counts=counts,
                           titles=queries.STATUS_TITLES, kind_title=queries.KIND_TITLES.get(round_.kind, ""),
                           now=runtime().clock.now(),
                           unit_links=unit_report_links(round_.id, [r.unit_id for r in rows]),
                           status_labels={s: gettext(title) for s, title in queries.STATUS_TITLES.items()})


def unit_report_links(round_id: str, unit_ids: list[str]) -> dict[str, str]:
    """Each unit's report page: one url_for, then each id quoted as the route's own converter quotes a
    path segment (a url_for per unit cost more than the board's query at 2,000 units)."""
    rule = next(iter(current_app.url_map.iter_rules("pages.rounds.unit_report")))
    assert rule.rule.endswith("/<unit_id>"), rule.rule  # the last segment, with the default converter
    to_url = current_app.url_map.converters["default"](current_app.url_map).to_url
    prefix = url_for("pages.rounds.unit_report", round_id=round_id, unit_id="-").removesuffix("-")
    return {unit_id: prefix + to_url(unit_id) for unit_id in unit_ids}


@bp.route("/rounds/<round_id>/urge", methods=["POST"])
def round_urge(round_id: str) -> Any:
    try:
        urged = reports.urge_late(runtime(), actor_required(), round_id)
    except InvalidInput as exc:
        flash(exc.detail, "error")
    else:
        flash(gettext("Đã gửi công văn đôn đốc tới %(n)s đơn vị chậm.", n=urged))
    return redirect(url_for("pages.rounds.round_board", round_id=round_id))


@bp.route("/rounds/<round_id>/board.xlsx")
def round_board_xlsx(round_id: str) -> Any:
    name, content = summary.board_xlsx(runtime(), actor_required(), round_id)
    return send_attachment(content, XLSX, name)


@bp.route("/rounds/<round_id>/summary.docx")
def round_summary_docx(round_id: str) -> Any:
    content = summary.summary_docx(runtime(), actor_required(), round_id)
    return send_attachment(content, DOCX, f"bao-cao-tong-hop-{round_id[:8]}.docx")


@bp.route("/rounds/<round_id>/units/<unit_id>", methods=["GET", "POST"])
def unit_report(round_id: str, unit_id: str) -> Any:
    actor = actor_required()
    detail = queries.report_detail(runtime(), actor, round_id, unit_id)
    form = runtime().forms.get(FORM_OF_KIND[detail["round"]["kind"]])
    if request.method == "GET":
        return _render(detail, form, detail["data"])
    data = parse_form(form.schema, request.form)
    version = _int(request.form.get("version"), "version")
    action = request.form.get("action", "save")
    try:
        # The figures first: their save checks the version the writer read (409 when someone saved since).
        version = reports.save_report(runtime(), actor, round_id, unit_id, data, version, lang())
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            version = reports.attach_file(runtime(), actor, round_id, unit_id, upload.filename, upload.read())
        if action == "submit":
            reports.submit_report(runtime(), actor, round_id, unit_id, version, lang())
    except InvalidInput as exc:
        fresh = queries.report_detail(runtime(), actor, round_id, unit_id)
        return _render(fresh, form, data, exc.errors or [FieldError("", exc.detail)], 422)
    flash(gettext("Đã gửi báo cáo lên thủ trưởng đơn vị.") if action == "submit" else gettext("Đã lưu báo cáo."))
    return redirect(url_for("pages.rounds.unit_report", round_id=round_id, unit_id=unit_id))


def _render(detail: dict[str, Any], form: Any, data: dict[str, Any], errors: Any = (), status: int = 200) -> Any:
    fields, leftovers = fields_for(form.schema, form.ui_schema, data, errors)
    grants = actor_required().grants  # the drafting task's own role, in the report's unit, writes it
    editable = any(t["stage"] == DRAFTING and (t["role"], t["unit_id"]) in grants for t in detail["tasks"])
    return render_template("unit_report.html", r=detail, fields=fields, leftovers=leftovers, editable=editable,
                           titles=queries.STATUS_TITLES), status
