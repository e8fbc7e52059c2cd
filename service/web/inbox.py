"""The inbox: "Việc của tôi" (claimed by me) and "Việc chờ nhận" (my roles' unclaimed tasks),
overdue first, with filters, search, claim / release, and bulk claim for the leads; above them, work
waiting for my roles that is not a task yet (nominations waiting for a batch)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext

from service.core.errors import DomainError
from service.reads import api as queries
from service.reads import movements as movement_reads
from service.reads import pages as page_queries
from service.reads.movement_filter import movement_arg
from service.security.redirects import safe_redirect_target
from service.usecases import tasks as task_cases
from service.usecases.drafts import claim_many
from service.web.common import actor_required, draft_form, kind_letter, runtime, t
from service.web.filter_boxes import Box, box, problems
from service.web.formrender import choices_of, read_date

bp = Blueprint("inbox", __name__)  # page module: nested under "pages" by register_pages

SCOPES = ("mine", "queue")


def _filters() -> dict[str, Any]:
    args = request.args
    due_before = None
    if args.get("due_before"):
        try:
            day = date.fromisoformat(read_date(args["due_before"]))
        except ValueError:
            flash(gettext("Ngày lọc không hợp lệ; nhập theo dạng ngày/tháng/năm, ví dụ 20/04/2026."), "error")
        else:
            # "due before 20/04" includes the whole of 19/04 local time
            due_before = datetime.combine(day, time(0), tzinfo=ZoneInfo(runtime().calendar.timezone))
    boxes = _boxes(args, actor_required(), movement_arg(runtime(), args))
    return {"overdue": {"1": True, "0": False}.get(boxes["overdue"].value), "due_before": due_before,
            "kind": boxes["kind"].value or None, "unit_id": boxes["unit"].value or None,
            "q": (args.get("q") or "").strip() or None, "movement_id": int(boxes["movement"].value or 0) or None,
            "boxes": boxes}


def _boxes(args: Any, actor: Any, movement_id: int | None) -> dict[str, Box]:
    """Each filter box with the value applied among its choices (web/filter_boxes.py)."""
    kinds = [(code, f"{kind_letter(code)}) {_short(t(title), 48)}") for code, title in
             choices_of(draft_form().schema["properties"]["nominee_kind"])]
    movements = [(str(m["id"]), f"{m['year']} — {_short(m['name'], 60)}")
                 for m in movement_reads.movement_list(runtime())]
    return {
        "overdue": box(args.get("overdue"), [("1", gettext("Quá hạn")), ("0", gettext("Còn hạn"))], None,
                       lambda v: gettext("Giá trị lọc thời hạn “%(value)s” không hợp lệ: hãy chọn trong danh sách",
                                         value=v)),
        "kind": box(args.get("kind"), kinds, None,
                    lambda v: gettext("Không có đối tượng khen thưởng nào mang mã “%(value)s”: hãy chọn trong "
                                      "danh sách", value=v)),
        "movement": box("" if movement_id is None else str(movement_id), movements),
        "unit": box(args.get("unit"), [(u["id"], u["name"]) for u in page_queries.units(runtime(), actor)],
                    lambda v: page_queries.unit_name(runtime(), v),
                    lambda v: gettext("Không có đơn vị nào mang mã “%(value)s”: hãy chọn một đơn vị trong danh sách",
                                      value=v)),
    }


def _short(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"


@bp.route("/inbox")
def inbox() -> Any:
    actor = actor_required()
    filters = _filters()
    boxes = filters.pop("boxes")
    refused = problems(boxes)
    # A filter that names nothing matches nothing: say why, never list everything under it.
    lists = {scope: [] if refused else queries.inbox(runtime(), actor, scope=scope, limit=200, **filters)
             for scope in SCOPES}
    scope = request.args.get("scope")
    if scope not in SCOPES:
        scope = "mine" if lists["mine"] else "queue"
    tasks = lists[scope]
    # Filters by nominee kind and unit make no sense to a desk whose work is all batches (the Chairman).
    about_nominations = not all(t["batch_id"] for v in lists.values() for t in v) or not any(lists.values())
    return render_template(
        "inbox.html", tasks=tasks, scope=scope, counts={s: len(v) for s, v in lists.items()},
        context=page_queries.inbox_context(runtime(), tasks), args=request.args,
        boxes=boxes, bulk=actor.may("bulk_claim"), filtered=any(v is not None for v in filters.values()),
        waiting=page_queries.waiting_work(runtime(), actor), nomination_filters=about_nominations), \
        400 if refused else 200


def _back() -> Any:
    return redirect(safe_redirect_target(request.form.get("next"), url_for("pages.inbox.inbox")))


@bp.route("/inbox/claim", methods=["POST"])
def claim() -> Any:
    actor = actor_required()
    task_cases.claim(runtime(), actor, request.form.get("task", ""))
    flash(gettext("Đã nhận việc. Việc này nằm trong \"Việc của tôi\"."))
    return _back()


@bp.route("/inbox/release", methods=["POST"])
def release() -> Any:
    actor = actor_required()
    task_cases.release(runtime(), actor, request.form.get("task", ""))
    flash(gettext("Đã trả việc về danh sách việc chờ nhận."))
    return _back()


@bp.route("/inbox/claim-selected", methods=["POST"])
def claim_selected() -> Any:
    actor = actor_required()
    selected = request.form.getlist("selected")
    if not selected:
        flash(gettext("Chưa chọn việc nào."), "error")
        return _back()
    claimed, problems = claim_many(runtime(), actor, selected)
    flash(ngettext("Đã nhận %(num)d việc.", "Đã nhận %(num)d việc.", claimed))
    for problem in problems:
        flash(problem, "error")
    return _back()


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Any:
    # A claim or release that failed (someone else was quicker): say so on the page it came from.
    if request.method == "POST" and request.endpoint in ("pages.inbox.claim", "pages.inbox.release"):
        flash(t(exc.detail), "error")
        return _back()
    return render_template("error.html", error=exc), exc.status
