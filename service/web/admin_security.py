"""/admin/users and /admin/security: admins lock, unlock and deactivate accounts, and read the security
events (log-ins and their failures, throttling, locks, tokens, substitutes, deactivations)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext

from service.reads import api as queries
from service.usecases import account_status
from service.web.common import admin_required, runtime

bp = Blueprint("admin_security", __name__, url_prefix="/admin")

ACTIONS = {
    "lock": (account_status.lock_user,
             lazy_gettext("Đã khóa tài khoản; các phiên đăng nhập và API token của tài khoản đã chấm dứt.")),
    "unlock": (account_status.unlock_user, lazy_gettext("Đã mở khóa tài khoản.")),
    "deactivate": (account_status.deactivate_user,
                   lazy_gettext("Đã vô hiệu hóa tài khoản; phiên, token và việc thay thế đã chấm dứt, "
                                "lịch sử được giữ lại.")),
}


@bp.route("/users")
def users() -> Any:
    actor = admin_required()
    return render_template("admin_users.html", users=queries.list_users(runtime(), actor),
                           now=runtime().clock.now())


@bp.route("/users/<int:user_id>/<any(lock, unlock, deactivate):action>", methods=["POST"])
def act(user_id: int, action: str) -> Any:
    actor = admin_required()  # the CSRF token was checked before this view (auth._identify)
    use_case, done = ACTIONS[action]
    use_case(runtime(), actor, user_id)
    flash(str(done))
    return redirect(url_for("admin_security.users"))


@bp.route("/security")
def events() -> Any:
    actor = admin_required()
    return render_template("admin_security.html",
                           events=queries.audit_trail(runtime(), actor, security=True, limit=300),
                           names={u["id"]: u["username"] for u in queries.list_users(runtime(), actor)})
