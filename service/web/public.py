"""Công khai: the public list of nominations proposed for the Chairman's award and of those awarded.
No log-in; only the fields the law asks to publish, and each award's signed decision. Anyone may send
a comment (góp ý): it goes to the Department of Home Affairs (/gop-y), never onto the page."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from service.core.errors import InvalidInput
from service.reads import decisions as decision_reads
from service.reads import movements as movement_reads
from service.reads import pages as page_queries
from service.reads import public_comments as comment_queries
from service.usecases import public_comments
from service.usecases.public_comments import TooManyComments
from service.web.common import actor_required, runtime, t
from service.web.filter_boxes import Box, box, problems

bp = Blueprint("public", __name__)  # page module: nested under "pages" by register_pages

COMMENT_FIELDS = ("name", "contact", "text", "nomination_id")
FILTERS = ("year", "unit_id", "award")  # the public list by year (of the movement), nominating unit, award
YEAR = re.compile(r"[12][0-9]{3}")


def _render(form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
            problem: str | None = None, status: int = 200) -> Any:
    every = page_queries.public_disclosure(runtime())
    boxes = _boxes(every)
    chosen = {key: b.value for key, b in boxes.items()}
    rows = [r for r in every if all(not wanted or str(r[key]) == wanted for key, wanted in chosen.items())]
    decisions = decision_reads.public_decisions(runtime(), {r["batch_id"] for r in rows if r.get("batch_id")})
    for row in rows:
        row["decision"] = decisions.get(row.get("batch_id") or "") if row["status"] == "awarded" else None
    proposed = [r for r in rows if r["status"] == "awaiting_decision"]
    awarded = [r for r in rows if r["status"] == "awarded"]
    return render_template("public.html", proposed=proposed, awarded=awarded, form=form or {},
                           errors=errors or {}, problem=problem, public_key=public_comments.public_key,
                           boxes=boxes, filtered=any(chosen.values()), commentable=every), \
        400 if problems(boxes) and status == 200 else status


def _boxes(every: list[dict[str, Any]]) -> dict[str, Box]:
    """The boxes offer what is published, and always the value applied (web/filter_boxes.py):
    ?year=2025 with nothing published that year shows 2025 above two empty lists; year=abc or a unit
    no one has is shown as typed, with the reason, and matches nothing."""
    awards = {a.code: t(a.title) for a in movement_reads.choices(runtime()).awards}
    years = {str(r["year"]) for r in every}
    return {
        "year": box(request.args.get("year"), [(y, y) for y in sorted(years, reverse=True)],
                    lambda v: v if YEAR.fullmatch(v) else None,
                    lambda v: gettext("Năm “%(value)s” không hợp lệ: hãy chọn một năm trong danh sách, ví dụ 2026",
                                      value=v)),
        "unit_id": box(request.args.get("unit_id"),
                       sorted({(r["unit_id"], r["unit_name"]) for r in every}, key=lambda u: u[1]),
                       lambda v: page_queries.unit_name(runtime(), v),
                       lambda v: gettext("Không có đơn vị nào mang mã “%(value)s”: hãy chọn một đơn vị trong "
                                         "danh sách", value=v)),
        "award": box(request.args.get("award"),
                     sorted({(r["award"], awards.get(r["award"], r["award"])) for r in every if r["award"]},
                            key=lambda a: a[1]), awards.get,
                     lambda v: gettext("Không có hình thức khen thưởng nào mang mã “%(value)s”: hãy chọn một "
                                       "hình thức trong danh sách", value=v)),
    }


@bp.route("/cong-khai")
def disclosure() -> Any:
    return _render()


@bp.route("/cong-khai/gop-y", methods=["POST"])
def public_comment() -> Any:
    form = {key: request.form.get(key, "") for key in COMMENT_FIELDS}
    try:
        public_comments.send_comment(runtime(), request.remote_addr or "unknown", form["name"], form["contact"],
                                     form["text"], form["nomination_id"] or None)
    except TooManyComments as exc:
        return _render(form, problem=t(exc.detail), status=429)
    except InvalidInput as exc:
        return _render(form, {e.path: t(e.message) for e in exc.errors}, t(exc.detail), 422)
    flash(gettext("Cảm ơn bạn đã góp ý. Sở Nội vụ sẽ xem xét; góp ý không được đăng công khai."))
    return redirect(url_for("pages.public.disclosure") + "#gop-y")


@bp.route("/gop-y")
def comment_inbox() -> Any:
    return render_template("public_comments.html", comments=comment_queries.comments(runtime(), actor_required()))


@bp.route("/gop-y/<int:comment_id>/read", methods=["POST"])
def comment_read(comment_id: int) -> Any:
    public_comments.mark_read(runtime(), actor_required(), comment_id)
    return redirect(url_for("pages.public.comment_inbox"))
