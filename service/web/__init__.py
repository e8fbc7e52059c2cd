"""Server-rendered pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g, redirect, url_for


def register_pages(app: Flask) -> None:
    from service.core.i18n import init_i18n
    from service.web import (  # noqa: F401
        account,
        admin_movements,
        admin_outbox,
        admin_security,
        batches,
        common,
        decisions,
        follow_up,
        health,
        inbox,
        nominations,
        process_editor,
        public,
        rounds,
        statistics,
        tasks,
        unit_awards,
        vendor,
    )

    init_i18n(app, app.extensions["nomflow"].config.instance_dir)
    common.init_templates(app)
    decisions.init_templates(app)
    unit_awards.init_templates(app)
    pages = Blueprint("pages", __name__)  # made per app: each page module's blueprint nests in it
    pages.register_blueprint(account.bp)
    pages.register_blueprint(batches.bp)
    pages.register_blueprint(decisions.bp)
    pages.register_blueprint(follow_up.bp)
    pages.register_blueprint(inbox.bp)
    pages.register_blueprint(nominations.bp)
    pages.register_blueprint(public.bp)
    pages.register_blueprint(rounds.bp)
    pages.register_blueprint(statistics.bp)
    pages.register_blueprint(tasks.bp)
    pages.register_blueprint(unit_awards.bp)
    app.register_blueprint(pages)
    app.register_blueprint(health.bp)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(admin_outbox.bp)
    app.register_blueprint(admin_movements.bp)
    app.register_blueprint(admin_security.bp)
    app.register_blueprint(process_editor.bp)

    @app.route("/")
    def index() -> Any:
        if g.get("actor") is None:
            return redirect(url_for("auth.login"))
        return redirect(url_for("pages.inbox.inbox"))
