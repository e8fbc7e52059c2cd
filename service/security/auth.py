"""Who is calling: a cookie session (pages, with CSRF) or a Bearer API token (REST)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from service.core.errors import TooManyAttempts
from service.core.runtime import Runtime
from service.security.access import Actor
from service.usecases.accounts import BadCredentials, actor_for_token, actor_for_user, authenticate

csrf = CSRFProtect()
login_manager = LoginManager()
bp = Blueprint("auth", __name__)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
API_PREFIX = "/api/v1/"
PROBE_PATHS = ("/healthz", "/readyz")  # service/web/health.py: answered without a database look-up
NOT_SIGNED_IN = "Cần đăng nhập hoặc gửi API token (Authorization: Bearer …) (not signed in)"


class SessionUser(UserMixin):
    def __init__(self, user_id: int):
        self.id = user_id


@login_manager.user_loader
def _load(user_id: str) -> SessionUser:
    return SessionUser(int(user_id))


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["nomflow"]
    return rt


def current_actor() -> Actor | None:
    return g.get("actor")


def current_language() -> str:
    return str(g.get("language") or "vi")


def _identify() -> None:
    if request.path in PROBE_PATHS:
        return  # a probe must not depend on anything it does not check (the database, for /healthz)
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        found = actor_for_token(runtime(), header.removeprefix("Bearer ").strip())
        if found is None:
            abort(401, description="API token không hợp lệ hoặc đã bị thu hồi (invalid or revoked token)")
        g.actor, g.language = found
        g.via_token = True
        return
    g.via_token = False
    if current_user.is_authenticated:
        found = actor_for_user(runtime(), current_user.id)
        if found is None:
            logout_user()
        else:
            g.actor, g.language = found
    if request.method not in SAFE_METHODS and g.get("actor") is not None:
        csrf.protect()  # cookies ride along on cross-site requests; tokens do not
    if g.get("actor") is None and request.path.startswith(API_PREFIX):
        # Before the body is parsed: an anonymous caller learns nothing, not even what a body should hold.
        abort(401, description=NOT_SIGNED_IN)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Vui lòng đăng nhập.")
    app.before_request(_identify)
    app.register_blueprint(bp)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error, status = None, 200
    if request.method == "POST":
        csrf.protect()
        try:
            user_id = authenticate(runtime(), request.form.get("username", "").strip(),
                                   request.form.get("password", ""))
        except BadCredentials:
            error, status = gettext("Tên đăng nhập hoặc mật khẩu không đúng."), 401
        except TooManyAttempts as exc:
            error, status = exc.detail, exc.status
        else:
            login_user(SessionUser(user_id))
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("index"))
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    logout_user()
    flash(gettext("Đã đăng xuất."))
    return redirect(url_for("auth.login"))
