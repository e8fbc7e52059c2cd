"""/admin/movements: the emulation movements, and next year's made by copying one (no code change)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from marshmallow import Schema, ValidationError, fields, validate

from service.core.errors import DomainError
from service.reads import movements as movement_reads
from service.usecases import movements
from service.web.common import admin_required, runtime
from workflows.forms import FieldError

bp = Blueprint("admin_movements", __name__, url_prefix="/admin/movements")


class MovementCopyForm(Schema):
    source_id = fields.Integer(required=True)
    name = fields.String(required=True, validate=validate.Length(min=3, max=500))
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    plan_number = fields.String(load_default="", validate=validate.Length(max=50))
    plan_date = fields.Date(load_default=None, allow_none=True)
    authority = fields.String(required=True, validate=validate.Length(min=3, max=300))
    opens_on = fields.Date(required=True)
    closes_on = fields.Date(required=True)


@bp.route("")
def index() -> Any:
    admin_required()
    return _render({}, [])


@bp.route("/<int:movement_id>")
def show(movement_id: int) -> Any:
    admin_required()
    movement = movement_reads.movement_detail(runtime(), movement_id)
    return render_template("admin_movements.html", movement=movement, movements=[], form={}, errors={})


@bp.route("/copy", methods=["POST"])
def copy() -> Any:
    actor = admin_required()  # the CSRF token was checked before this view (auth._identify)
    posted = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    try:
        data = MovementCopyForm().load(posted)
        movement_id = movements.copy_movement(runtime(), actor, data.pop("source_id"), **data)
    except ValidationError as exc:
        problems = [FieldError(k, "; ".join(map(str, v)) if isinstance(v, list) else str(v))
                    for k, v in exc.normalized_messages().items()]
        return _render(request.form, problems, 422)
    except DomainError as exc:
        return _render(request.form, exc.errors or [FieldError("", exc.detail)], exc.status)
    flash(gettext("Đã tạo phong trào thi đua mới."))
    return redirect(url_for("admin_movements.show", movement_id=movement_id))


def _render(form: Any, errors: list[FieldError], status: int = 200) -> Any:
    rows = movement_reads.movement_list(runtime())
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(error.path, []).append(error.message)
    if not form and rows:  # propose next year's, from the newest
        newest = rows[0]
        form = {"source_id": newest["id"], "name": newest["name"], "year": newest["year"] + 1,
                "authority": newest["authority"],
                "opens_on": newest["opens_on"].replace(year=newest["opens_on"].year + 1).isoformat(),
                "closes_on": newest["closes_on"].replace(year=newest["closes_on"].year + 1).isoformat()}
    return render_template("admin_movements.html", movements=rows, movement=None, form=form,
                           errors=by_field), status
