"""/account: the signed-in person's own API tokens (with when each was last used and when it expires)
and the substitutions that concern them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from service.reads import api as queries
from service.reads import pages as page_queries
from service.usecases.preferences import set_mail_immediately
from service.usecases.substitutes import list_substitutes
from service.web.common import actor_required, runtime

bp = Blueprint("account", __name__)  # page module: nested under "pages" by register_pages

MAIL_CHOICES = {"immediate": True, "digest": False}


@bp.route("/account")
def account() -> Any:
    actor = actor_required()
    users = {u.id: u.username for u in queries.usernames(runtime())}
    return render_template("account.html", tokens=queries.my_tokens(runtime(), actor),
                           substitutes=list_substitutes(runtime(), actor), users=users,
                           now=runtime().clock.now(), me=page_queries.whoami(runtime(), actor))


@bp.route("/account/mail", methods=["POST"])
def account_mail() -> Any:
    choice = request.form.get("mail")
    if choice not in MAIL_CHOICES:
        abort(400)
    set_mail_immediately(runtime(), actor_required(), MAIL_CHOICES[choice])
    flash(gettext("Đã lưu cách nhận thư báo việc."))
    return redirect(url_for("pages.account.account") + "#mail")
