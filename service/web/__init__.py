"""Server-rendered pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, redirect, render_template, url_for


def register_pages(app: Flask) -> None:
    @app.route("/")
    def index() -> Any:
        if g.get("actor") is None:
            return redirect(url_for("auth.login"))
        return render_template("home.html")
