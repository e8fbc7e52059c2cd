"""/admin/movements: the emulation movements, and next year's made by copying one (no code change)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from marshmallow import Schema, ValidationError, fields, validate

from service.core.errors import DomainError
from service.reads import movements as movement_reads
from service.usecases import movement_edits, movements
from service.web.common import admin_required, runtime, t
from service.web.formrender import read_date
from workflows.forms import FieldError

bp = Blueprint("admin_movements", __name__, url_prefix="/admin/movements")


REQUIRED: dict[str, Any] = {"required": "Trường này là bắt buộc"}


class Day(fields.Date):
    """A day typed as dd/mm/yyyy (as dates are written in Vietnam, whatever the browser's language), or
    ISO; anything else is refused in words an admin reads."""

    default_error_messages = {**REQUIRED, "invalid": "Ngày không hợp lệ: hãy nhập theo dạng ngày/tháng/năm, "
                                                     "ví dụ 05/05/2026"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(read_date(value) if isinstance(value, str) else value, attr, data, **kwargs)


def _text(minimum: int, maximum: int, **kwargs: Any) -> fields.String:
    words = f"Từ {minimum} đến {maximum} ký tự" if minimum else f"Tối đa {maximum} ký tự"
    return fields.String(validate=validate.Length(min=minimum, max=maximum, error=words),
                         error_messages=REQUIRED, **kwargs)


class MovementFactsForm(Schema):
    """What the movement's decisions cite of it: its name, its plan's number and date, who launched it."""

    name = _text(3, 500, required=True)
    plan_number = _text(0, 50, load_default="")
    plan_date = Day(load_default=None, allow_none=True)
    authority = _text(3, 300, required=True)


class MovementCopyForm(MovementFactsForm):
    source_id = fields.Integer(required=True, error_messages=REQUIRED)
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100, error="Năm từ 2000 đến 2100"),
                          error_messages={**REQUIRED, "invalid": "Năm phải là một số, ví dụ 2027"})
    opens_on = Day(required=True)
    closes_on = Day(required=True)


@bp.route("")
def index() -> Any:
    admin_required()
    return _render({}, [])


@bp.route("/<int:movement_id>")
def show(movement_id: int) -> Any:
    admin_required()
    return _render_show(movement_id, {}, [])


@bp.route("/copy", methods=["POST"])
def copy() -> Any:
    actor = admin_required()  # the CSRF token was checked before this view (auth._identify)
    posted = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    try:
        data = MovementCopyForm().load(posted)
        movement_id = movements.copy_movement(runtime(), actor, data.pop("source_id"), **data)
    except ValidationError as exc:
        return _render(request.form, _problems(exc), 422)
    except DomainError as exc:
        return _render(request.form, exc.errors or [FieldError("", exc.detail)], exc.status)
    flash(gettext("Đã tạo phong trào thi đua mới."))
    return redirect(url_for("admin_movements.show", movement_id=movement_id))


@bp.route("/<int:movement_id>", methods=["POST"])
def edit_facts(movement_id: int) -> Any:
    """The movement's name, plan number and date and launching authority: what its documents cite."""
    actor = admin_required()  # the CSRF token was checked before this view (auth._identify)
    posted = {k: v for k, v in request.form.items() if k not in ("csrf_token", "version") and v != ""}
    version = request.form.get("version", type=int) or 0
    try:
        data = MovementFactsForm().load(posted)
        movement_edits.edit_facts(runtime(), actor, movement_id, version, movement_edits.Facts(**data))
    except ValidationError as exc:
        return _render_show(movement_id, request.form, _problems(exc), 422)
    except DomainError as exc:
        if exc.status == 409:  # show the stored values: what the admin typed was made on an older copy
            return _render_show(movement_id, {}, [FieldError("", t(exc.detail))], 409)
        return _render_show(movement_id, request.form, exc.errors or [FieldError("", t(exc.detail))], exc.status)
    flash(gettext("Đã lưu thông tin phong trào thi đua."))
    return redirect(url_for("admin_movements.show", movement_id=movement_id))


def _problems(exc: ValidationError) -> list[FieldError]:
    return [FieldError(k, "; ".join(map(str, v)) if isinstance(v, list) else str(v))
            for k, v in exc.normalized_messages().items()]


def _render_show(movement_id: int, form: Any, errors: list[FieldError], status: int = 200) -> Any:
    movement = movement_reads.movement_detail(runtime(), movement_id)
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(error.path, []).append(error.message)
    if not form:
        form = {"name": movement["name"], "plan_number": movement["plan_number"], "authority": movement["authority"],
                "plan_date": movement["plan_date"].strftime("%d/%m/%Y") if movement["plan_date"] else "",
                "version": movement["version"]}
    return render_template("admin_movements.html", movement=movement, movements=[], form=form,
                           errors=by_field), status


@bp.route("/<int:movement_id>/lists", methods=["GET", "POST"])
def edit_lists(movement_id: int) -> Any:
    """The award kinds and, per nominee kind, the criteria; blank rows add, ticked rows go."""
    actor = admin_required()  # the CSRF token was checked before this view (auth._identify)
    if request.method == "GET":
        movement = movement_reads.movement_detail(runtime(), movement_id)
        return _render_lists(movement, movement["awards"], movement["nominee_kinds"], movement["version"], [])
    lists = lists_from_form(request.form)
    version = request.form.get("version", type=int) or 0
    try:
        movement_edits.edit_lists(runtime(), actor, movement_id, version, lists)
    except DomainError as exc:
        movement = movement_reads.movement_detail(runtime(), movement_id)
        problems = [FieldError("", t(exc.detail)), *exc.errors]
        if exc.status == 409:  # show the stored lists: what the admin typed was made on an older copy
            return _render_lists(movement, movement["awards"], movement["nominee_kinds"], movement["version"],
                                 problems, 409)
        return _render_lists(movement, lists.awards, lists.nominee_kinds, version, problems, exc.status)
    flash(gettext("Đã lưu hình thức khen thưởng và tiêu chuẩn của phong trào."))
    return redirect(url_for("admin_movements.show", movement_id=movement_id))


def lists_from_form(form: Any) -> movement_edits.Lists:
    """awards-<i>-code|title|decided_by|remove and kinds-<i>-code|title|individual|remove,
    kinds-<i>-criteria-<j>-code|title|remove, in index order; rows left blank or ticked to remove drop out."""
    rows: dict[tuple[int, ...], dict[str, str]] = {}
    for name, value in form.items():
        match = _FIELD.match(name)
        if match is not None:
            key = (_LISTS.index(match["list"]), int(match["i"])) + ((int(match["j"]),) if match["j"] else ())
            rows.setdefault(key, {})[match["field"]] = value

    def kept(row: dict[str, str]) -> bool:
        return not row.get("remove") and bool(row.get("code", "").strip() or row.get("title", "").strip())

    awards = [rows[k] for k in sorted(rows) if k[0] == 0 and len(k) == 2 and kept(rows[k])]
    kinds = []
    for key in sorted(k for k in rows if k[0] == 1 and len(k) == 2):
        if kept(rows[key]):
            criteria = [rows[c] for c in sorted(rows) if len(c) == 3 and c[:2] == key and kept(rows[c])]
            kinds.append({**rows[key], "individual": bool(rows[key].get("individual")), "criteria": criteria})
    return movement_edits.Lists(awards, kinds)


_LISTS = ("awards", "kinds")
_FIELD = re.compile(r"^(?P<list>awards|kinds)-(?P<i>\d{1,3})(?:-criteria-(?P<j>\d{1,3}))?"
                    r"-(?P<field>code|title|decided_by|individual|remove)$")


def _render_lists(movement: dict[str, Any], awards: Any, kinds: Any, version: int, errors: list[FieldError],
                  status: int = 200) -> Any:
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(error.path, []).append(error.message)
    roles = [(key, role.title_vi) for key, role in runtime().roles.roles.items() if role.worked_by is None]
    return render_template("admin_movement_lists.html", movement=movement, awards=awards, kinds=kinds,
                           version=version, errors=by_field, roles=roles), status


def _render(form: Any, errors: list[FieldError], status: int = 200) -> Any:
    rows = movement_reads.movement_list(runtime())
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(error.path, []).append(error.message)
    if not form and rows:  # propose next year's, from the newest
        newest = rows[0]
        form = {"source_id": newest["id"], "name": newest["name"], "year": newest["year"] + 1,
                "authority": newest["authority"],
                "opens_on": newest["opens_on"].replace(year=newest["opens_on"].year + 1).strftime("%d/%m/%Y"),
                "closes_on": newest["closes_on"].replace(year=newest["closes_on"].year + 1).strftime("%d/%m/%Y")}
    return render_template("admin_movements.html", movements=rows, movement=None, form=form,
                           errors=by_field), status
