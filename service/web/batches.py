"""Batches (đợt trình) for the Department of Home Affairs and the Chairman: the nominations waiting
for a decision, each batch's awardees and draft decision, and its open step (prepare or sign)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext

from service.core.errors import InvalidInput
from service.reads import pages as page_queries
from service.usecases import batches, withdrawals
from service.web.common import actor_required, runtime, stage_role
from workflows.contract import AWARD_DECISION, BATCH_PREPARATION

bp = Blueprint("batches", __name__)  # page module: nested under "pages" by register_pages


def _render_list(actor: Any, title: str = "", error: str | None = None, status: int = 200) -> Any:
    view = page_queries.batches(runtime(), actor)
    opener = stage_role(AWARD_DECISION, BATCH_PREPARATION)  # who prepares a batch in the active diagram
    return render_template("batches.html", **view, can_create=actor.has_role(opener),
                           title=title, title_error=error), status


@bp.route("/batches")
def batch_list() -> Any:
    return _render_list(actor_required())


@bp.route("/batches", methods=["POST"])
def batch_create() -> Any:
    actor = actor_required()
    title = request.form.get("title", "")
    if not title.strip():
        return _render_list(actor, title, gettext("Hãy nhập trích yếu của đợt trình."), 422)
    try:
        batch_id = batches.create_batch(runtime(), actor, title)
    except InvalidInput:
        return _render_list(actor, title, gettext("Trích yếu phải dài từ 5 đến 300 ký tự."), 422)
    flash(gettext("Đã lập đợt trình. Chọn các hồ sơ và lập tờ trình, dự thảo quyết định."))
    return redirect(url_for("pages.batches.batch_page", batch_id=batch_id))


@bp.route("/batches/<batch_id>")
def batch_page(batch_id: str) -> Any:
    actor = actor_required()
    batch = page_queries.batch_page(runtime(), actor, batch_id)
    opener = stage_role(AWARD_DECISION, BATCH_PREPARATION)
    can_cancel = actor.has_role(opener) and batch["status"] == "open" and all(
        t["role"] == opener for t in batch["tasks"])
    return render_template("batch.html", batch=batch, can_cancel=can_cancel)


@bp.route("/batches/<batch_id>/cancel", methods=["POST"])
def batch_cancel(batch_id: str) -> Any:
    released = withdrawals.cancel_batch(runtime(), actor_required(), batch_id, request.form.get("reason"))
    flash(ngettext("Đã hủy đợt trình; %(num)d hồ sơ trở lại danh sách chờ lập đợt trình.",
                   "Đã hủy đợt trình; %(num)d hồ sơ trở lại danh sách chờ lập đợt trình.", released)
          if released else gettext("Đã hủy đợt trình."))
    return redirect(url_for("pages.batches.batch_list"))
