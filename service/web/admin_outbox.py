"""/admin/outbox: the mails the service sends, for admins. Without an SMTP server (the `make run`
default) this is where they are read; with one, failed mails are found and sent again here."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from service.core.errors import InvalidInput
from service.reads import api as queries
from service.usecases import outbox
from service.web.common import admin_required, runtime

bp = Blueprint("admin_outbox", __name__, url_prefix="/admin/outbox")



@bp.route("")
def index() -> Any:
    actor = admin_required()
    status = request.args.get("status") or None
    page = outbox.outbox_page(runtime(), actor, status if status in outbox.STATUSES else None)
    return render_template("admin_outbox.html", page=page, status=status, statuses=outbox.STATUSES,
                           max_attempts=outbox.MAX_ATTEMPTS, smtp=runtime().config.smtp_host)


@bp.route("/<int:mail_id>")
def show(mail_id: int) -> Any:
    admin_required()
    mail = queries.outbox_mail(runtime(), mail_id)
    return render_template("admin_outbox.html", mail=mail, max_attempts=outbox.MAX_ATTEMPTS,
                           smtp=runtime().config.smtp_host)


@bp.route("/<int:mail_id>/html")
def html_part(mail_id: int) -> Any:
    """The mail's HTML part for the preview frame. Mails style themselves inline (mail clients drop
    style sheets), which the pages' policy forbids: this response has its own, allowing those styles
    and nothing else (no script, no request anywhere), framed only by our own page."""
    admin_required()
    mail = queries.outbox_mail(runtime(), mail_id)
    return Response(mail.body_html, mimetype="text/html", headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; "
                                   "frame-ancestors 'self'",
        "X-Frame-Options": "SAMEORIGIN", "Cache-Control": "private, no-store"})


@bp.route("/<int:mail_id>/resend", methods=["POST"])
def resend(mail_id: int) -> Any:
    actor = admin_required()  # the CSRF token was checked before this view (auth._identify)
    try:
        resent = outbox.resend(runtime(), [mail_id], actor)
    except InvalidInput:
        abort(404)
    if resent:
        flash(gettext("Đã đưa thư vào hàng đợi gửi lại."))
    else:
        flash(gettext("Thư này không ở trạng thái gửi lỗi; không gửi lại."), "error")
    return redirect(url_for("admin_outbox.index", status=request.form.get("status") or None))
