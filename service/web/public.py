"""Công khai: the public list of nominations proposed for the Chairman's award and of those awarded.
No log-in; only the fields the law asks to publish, and each award's signed decision."""

from __future__ import annotations

from typing import Any

from flask import render_template

from service.reads import decisions as decision_reads
from service.reads import pages as page_queries
from service.web.common import bp, runtime


@bp.route("/cong-khai")
def disclosure() -> Any:
    rows = page_queries.public_disclosure(runtime())
    decisions = decision_reads.public_decisions(runtime(), {r["batch_id"] for r in rows if r.get("batch_id")})
    for row in rows:
        row["decision"] = decisions.get(row.get("batch_id") or "") if row["status"] == "awarded" else None
    proposed = [r for r in rows if r["status"] == "awaiting_decision"]
    awarded = [r for r in rows if r["status"] == "awarded"]
    return render_template("public.html", proposed=proposed, awarded=awarded)
