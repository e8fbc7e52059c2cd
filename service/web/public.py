"""Công khai: the public list of nominations proposed for the Chairman's award and of those awarded.
No log-in; only the fields the law asks to publish."""

from __future__ import annotations

from typing import Any

from flask import render_template

from service.reads import pages as page_queries
from service.web.common import bp, runtime


@bp.route("/cong-khai")
def disclosure() -> Any:
    rows = page_queries.public_disclosure(runtime())
    proposed = [r for r in rows if r["status"] == "awaiting_decision"]
    awarded = [r for r in rows if r["status"] == "awarded"]
    return render_template("public.html", proposed=proposed, awarded=awarded)
