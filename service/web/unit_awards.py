"""The Giấy khen inside a unit: the head signs the decision on the server, or elsewhere and uploads it;
the unit's page shows its register and lets its head (or an admin) set its own criteria and an admin its
register symbol."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from service.core.errors import InvalidInput
from service.reads import unit_awards as reads
from service.usecases import unit_award_external, unit_awards
from service.web.common import actor_required, runtime, t

bp = Blueprint("unit_awards", __name__)  # page module: nested under "pages" by register_pages


def giay_khen_units(actor: Any) -> list[str]:
    """The units whose Giấy khen page the menu links to (the actor's own)."""
    return sorted(actor.units_where("read_unit_register")) if actor is not None else []


def init_templates(app: Flask) -> None:
    app.add_template_global(giay_khen_units, "giay_khen_units")
    app.add_template_global(lambda nomination_id: reads.to_sign_elsewhere(runtime(), nomination_id),
                            "unit_decision_to_sign")


@bp.route("/nominations/<nomination_id>/ky-giay-khen", methods=["POST"])
def unit_decision_sign(nomination_id: str) -> Any:
    actor = actor_required()
    try:
        signed = unit_awards.sign_on_server(runtime(), actor, nomination_id, request.form.get("passphrase") or None)
    except InvalidInput as exc:
        flash(t(exc.detail), "error")
        return redirect(url_for("pages.nominations.nomination_page", nomination_id=nomination_id))
    flash(gettext("Đã ký số quyết định số %(number)s ngày %(date)s tặng Giấy khen.", number=signed.citation,
                  date=signed.signed_on.strftime("%d/%m/%Y")))
    return redirect(url_for("pages.nominations.nomination_page", nomination_id=nomination_id))


@bp.route("/nominations/<nomination_id>/giay-khen-ky-ngoai", methods=["POST"])
def unit_decision_prepare_external(nomination_id: str) -> Any:
    """The number and the PDF to sign in the head's own signing tool; back to the signing step."""
    actor = actor_required()
    try:
        given = unit_award_external.prepare_external(runtime(), actor, nomination_id)
    except InvalidInput as exc:
        flash(t(exc.detail), "error")
    else:
        flash(gettext("Đã lấy số %(number)s và tạo bản PDF để ký bằng công cụ ký số của đơn vị.",
                      number=given.citation))
    return redirect(request.form.get("next") or url_for("pages.nominations.nomination_page",
                                                        nomination_id=nomination_id))


@bp.route("/nominations/<nomination_id>/giay-khen-da-ky", methods=["POST"])
def unit_decision_signed_upload(nomination_id: str) -> Any:
    actor = actor_required()
    sent = request.files.get("file")
    try:
        if sent is None or not sent.filename:
            raise InvalidInput("Hãy chọn tệp PDF đã ký số")
        signed = unit_award_external.accept_external(runtime(), actor, nomination_id, sent.filename, sent.read())
    except InvalidInput as exc:
        flash(t(exc.detail), "error")
        return redirect(request.form.get("next") or url_for("pages.nominations.nomination_page",
                                                            nomination_id=nomination_id))
    flash(gettext("Đã nhận quyết định số %(number)s ngày %(date)s tặng Giấy khen đã ký số.", number=signed.citation,
                  date=signed.signed_on.strftime("%d/%m/%Y")))
    return redirect(url_for("pages.nominations.nomination_page", nomination_id=nomination_id))


@bp.route("/don-vi/<unit_id>/giay-khen", methods=["GET", "POST"])
def unit_award_page(unit_id: str) -> Any:
    actor = actor_required()
    movement_id = request.values.get("movement", type=int)
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "symbol":
                unit_awards.set_register_symbol(runtime(), actor, unit_id, request.form.get("symbol", ""))
                flash(gettext("Đã lưu ký hiệu sổ đăng ký của đơn vị."))
            elif movement_id is not None:
                lines = (request.form.get("criteria") or "").splitlines()
                unit_awards.set_unit_criteria(runtime(), actor, unit_id, movement_id, lines)
                flash(gettext("Đã lưu tiêu chuẩn Giấy khen của đơn vị."))
        except InvalidInput as exc:
            flash(t(exc.errors[0].message if exc.errors else exc.detail), "error")
            status = 422
        else:
            return redirect(url_for("pages.unit_awards.unit_award_page", unit_id=unit_id, movement=movement_id or ""))
    page = reads.unit_page(runtime(), actor, unit_id, movement_id)
    return render_template("unit_award.html", **page), status
