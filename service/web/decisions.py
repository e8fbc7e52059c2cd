"""Decision pages: drafting and uploading versions (Home Affairs), signing (the Chairman), the
register with its Excel export, certificates, the files, and the public check /xac-thuc."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext

from service.core.errors import DomainError
from service.core.media_types import PDF, XLSX
from service.documents import certificate
from service.documents.pdf import PdfError
from service.documents.register import authorities
from service.exports.xlsx import Column, Table, to_xlsx
from service.reads import decisions as reads
from service.reads.movement_filter import MalformedFilter, movement_arg
from service.reads.movements import movement_list
from service.security.auth import current_actor
from service.usecases import decisions, exclusions
from service.web.common import actor_required, runtime
from service.web.filter_boxes import box
from workflows.contract import DECISION_SIGNING

bp = Blueprint("decisions", __name__)  # page module: nested under "pages" by register_pages


def init_templates(app: Flask) -> None:
    """What the batch and nomination templates ask of decisions (called by register_pages)."""
    app.jinja_env.globals.update(
        can_read_register=reads.can_read_register, signing_stage=DECISION_SIGNING,
        batch_decision=lambda batch_id: reads.batch_decision(runtime(), batch_id))


def _back(batch_id: str) -> Any:
    return redirect(request.form.get("next") or url_for("pages.batches.batch_page", batch_id=batch_id))


def _run(batch_id: str, action: Any, done: str, *, ends_task: bool = False) -> Any:
    """One use case; its refusal is shown on the page it came from, in the user's words. A signing
    ends the task the page may have been, so its success goes to the batch."""
    try:
        result = action()
    except DomainError as exc:
        flash(exc.detail, "error")
        return _back(batch_id)
    flash(done.format(result=result))
    return redirect(url_for("pages.batches.batch_page", batch_id=batch_id)) if ends_task else _back(batch_id)


def _number(given: decisions.Signed) -> str:
    return f"{given.number:02d}/{given.symbol}"


def _upload() -> tuple[str, bytes]:
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return "", b""
    return sent.filename, sent.read()


@bp.route("/batches/<batch_id>/decision/draft", methods=["POST"])
def decision_draft(batch_id: str) -> Any:
    actor = actor_required()
    return _run(batch_id, lambda: decisions.generate_drafts(runtime(), actor, batch_id),
                gettext("Đã tạo dự thảo tờ trình và quyết định, phiên bản {result}."))


@bp.route("/batches/<batch_id>/decision/upload", methods=["POST"])
def decision_upload(batch_id: str) -> Any:
    actor = actor_required()
    name, content = _upload()
    return _run(batch_id, lambda: decisions.upload_version(runtime(), actor, batch_id, name, content),
                gettext("Đã tải lên dự thảo đã sửa, phiên bản {result}: đây là bản sẽ được ký."))


@bp.route("/batches/<batch_id>/decision/sign", methods=["POST"])
def decision_sign(batch_id: str) -> Any:
    actor = actor_required()
    passphrase = request.form.get("passphrase") or None
    return _run(batch_id, lambda: reads.citation_of(decisions.sign_on_server(runtime(), actor, batch_id, passphrase)),
                gettext("Đã ký số: {result}."), ends_task=True)


@bp.route("/batches/<batch_id>/decision/exclude", methods=["POST"])
def decision_exclude(batch_id: str) -> Any:
    actor = actor_required()
    nomination_id, reason = request.form.get("nomination_id", ""), request.form.get("reason", "")
    return _run(batch_id, lambda: exclusions.exclude(runtime(), actor, batch_id, nomination_id, reason),
                gettext("Đã loại hồ sơ khỏi quyết định; dự thảo quyết định được tạo lại, phiên bản {result}."))


@bp.route("/batches/<batch_id>/decision/prepare-external", methods=["POST"])
def decision_prepare_external(batch_id: str) -> Any:
    actor = actor_required()
    return _run(batch_id, lambda: _number(decisions.prepare_external(runtime(), actor, batch_id)),
                gettext("Đã lấy số {result} và tạo bản PDF để ký bằng công cụ ký số của Văn phòng."))


@bp.route("/batches/<batch_id>/decision/signed-upload", methods=["POST"])
def decision_signed_upload(batch_id: str) -> Any:
    actor = actor_required()
    name, content = _upload()
    return _run(batch_id, lambda: reads.citation_of(decisions.accept_external(runtime(), actor, batch_id, name,
                                                                              content)),
                gettext("Đã nhận quyết định đã ký số: {result}."), ends_task=True)


@bp.route("/decision-files/<int:file_id>")
def decision_file(file_id: int) -> Any:
    filename, mimetype, content = reads.decision_file(runtime(), current_actor(), file_id)
    return send_file(io.BytesIO(content), mimetype=mimetype, download_name=filename,
                     as_attachment=request.args.get("view") != "1")


@bp.route("/batches/<batch_id>/bang-khen.pdf")
@bp.route("/batches/<batch_id>/bang-khen/<nomination_id>.pdf")
def batch_certificates(batch_id: str, nomination_id: str | None = None) -> Any:
    document, ids = reads.certificate_document(runtime(), actor_required(), batch_id)
    if nomination_id is not None and nomination_id not in ids:
        return Response(gettext("Hồ sơ này không có trong quyết định."), status=404)
    try:
        combined, singles = certificate.render_pdfs(document)
    except (PdfError, ValueError) as exc:
        return Response(str(exc), status=409)
    if nomination_id is None:
        return send_file(io.BytesIO(combined), mimetype=PDF, download_name=f"bang-khen-{batch_id}.pdf")
    return send_file(io.BytesIO(singles[ids.index(nomination_id)]), mimetype=PDF,
                     download_name=f"bang-khen-{nomination_id}.pdf")


def _register_args() -> tuple[int | None, str | None, int | None]:
    year = request.args.get("year", "").strip()
    if year and not (year.isascii() and year.isdigit() and len(year) == 4):
        raise MalformedFilter(gettext("Năm “%(value)s” không hợp lệ: hãy chọn một năm trong danh sách, ví dụ 2026",
                                      value=year[:40]))
    return ((int(year) if year else None), (request.args.get("authority") or "").strip() or None,
            movement_arg(runtime(), request.args))


@bp.route("/so-dang-ky")
def register_page() -> Any:
    actor = actor_required()
    year, authority, movement_id = _register_args()
    rows = reads.register_rows(runtime(), actor, year, authority, movement_id)
    names = {k: a.issuer.name.replace("\n", " ") for k, a in authorities().items()}
    # The boxes always show the filter applied (web/filter_boxes.py): a year with nothing registered yet,
    # a unit's own register (its authority is not in authorities.toml) are shown, not "Tất cả".
    years = box(str(year or ""), [(str(y), str(y)) for y in reads.register_years(runtime())], lambda v: v)
    issuers = box(authority, list(names.items()), lambda v: v)
    return render_template("register.html", rows=rows, year=year, authority=authority, years=years,
                           issuers=issuers, movement_id=movement_id, movements=movement_list(runtime()))


@bp.route("/so-dang-ky.xlsx")
def register_export() -> Any:
    actor = actor_required()
    year, authority, movement_id = _register_args()
    rows = reads.register_rows(runtime(), actor, year, authority, movement_id)
    columns = [Column(gettext("Số, ký hiệu"), width=16), Column(gettext("Ngày ký"), "date", 12),
               Column(gettext("Trích yếu"), width=60), Column(gettext("Người ký"), width=24),
               Column(gettext("Số tập thể, cá nhân"), "int", 12), Column(gettext("Cơ quan ban hành"), width=30),
               Column(gettext("Đợt trình"), width=16), Column(gettext("Tình trạng"), width=16)]
    data = [(r["number"], r["signed_on"], r["subject"], r["signer"], r["awardees"], r["authority"], r["batch_id"],
             gettext("Tờ trình") if r["submission"] else gettext("Đã ký số") if r["signed"]
             else gettext("Đã cấp số, chờ ký")) for r in rows]
    content = to_xlsx([Table(gettext("Sổ đăng ký văn bản đi"), columns, data)])
    return send_file(io.BytesIO(content), download_name="so-dang-ky-quyet-dinh.xlsx", as_attachment=True,
                     mimetype=XLSX)


@bp.route("/xac-thuc", methods=["GET", "POST"])
def verification() -> Any:
    """Public: no log-in. A number typed, or a PDF uploaded, checked against the register."""
    by_number = by_file = None
    error = None
    status = 200
    if request.method == "POST":
        try:
            name, content = _upload()
            if content:
                if not content.startswith(b"%PDF-") or len(content) > runtime().config.max_attachment_bytes:
                    raise DomainError(gettext("Hãy tải lên tệp PDF của quyết định (tối đa 20 MB)."))
                by_file = reads.check_pdf(runtime(), content)
            elif request.form.get("number", "").strip():
                by_number = reads.check_number(runtime(), request.form["number"],
                                               request.form.get("authority") or None)
            else:
                raise DomainError(gettext("Hãy nhập số quyết định hoặc chọn tệp PDF để kiểm tra."))
        except DomainError as exc:
            error, status = exc.detail, 422
    return render_template("verify.html", by_number=by_number, by_file=by_file, error=error,
                           typed=request.form.get("number", ""), chosen=request.form.get("authority", ""),
                           authorities=reads.verifiable_authorities(runtime())), status
