"""Who is calling: a cookie session (pages, with CSRF) or a Bearer API token (REST).

The cookie (signed by Flask) holds only a random session secret; the session itself is a row on the
server (`UserSession`), checked on every request, so that log-out, a lock or a deactivation ends it
everywhere, and it expires when idle or old. Log-in starts from an empty cookie: a new session secret
and a new CSRF secret."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_wtf.csrf import CSRFProtect

from service.core.errors import DomainError
from service.core.runtime import Runtime
from service.security.access import Actor
from service.security.redirects import safe_redirect_target
from service.usecases.accounts import BadCredentials, actor_for_session, actor_for_token, end_session, sign_in

csrf = CSRFProtect()
SESSION_KEY = "sid"
bp = Blueprint("auth", __name__)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
API_PREFIX = "/api/v1/"
PROBE_PATHS = ("/healthz", "/readyz")  # service/web/health.py: answered without a database look-up
NOT_SIGNED_IN = "Cần đăng nhập hoặc gửi API token (Authorization: Bearer …) (not signed in)"


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
    secret = session.get(SESSION_KEY)
    if isinstance(secret, str):
        found = actor_for_session(runtime(), secret)
        if found is None:
            session.clear()  # ended, expired, or its user locked or deactivated: sign in again
        else:
            g.actor, g.language = found
    if request.method not in SAFE_METHODS and g.get("actor") is not None:
        csrf.protect()  # cookies ride along on cross-site requests; tokens do not
    if g.get("actor") is None and request.path.startswith(API_PREFIX):
        # Before the body is parsed: an anonymous caller learns nothing, not even what a body should hold.
        abort(401, description=NOT_SIGNED_IN)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.before_request(_identify)
    app.register_blueprint(bp)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error, status = None, 200
    if request.method == "POST":
        csrf.protect()
        try:
            _, secret = sign_in(runtime(), request.form.get("username", "").strip(),
                                request.form.get("password", ""), request.remote_addr or "unknown")
        except BadCredentials:
            error, status = gettext("Tên đăng nhập hoặc mật khẩu không đúng."), 401
        except DomainError as exc:  # waiting after failures, or locked by an admin
            error, status = exc.detail, exc.status
        else:
            session.clear()  # nothing of the anonymous cookie survives, the CSRF secret included
            g.pop("csrf_token", None)
            session[SESSION_KEY] = secret
            return redirect(safe_redirect_target(request.args.get("next"), url_for("index")))
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    secret = session.get(SESSION_KEY)
    if isinstance(secret, str):
        end_session(runtime(), secret)
    session.clear()
    flash(gettext("Đã đăng xuất."))
    return redirect(url_for("auth.login"))
