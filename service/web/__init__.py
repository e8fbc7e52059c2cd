"""Server-rendered pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, redirect, url_for


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
    app.register_blueprint(common.bp)
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
        return redirect(url_for("pages.inbox"))
