"""Batches (đợt trình) for the Department of Home Affairs and the Chairman: the nominations waiting
for a decision, each batch's awardees and draft decision, and its open step (prepare or sign)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext

from service.reads import pages as page_queries
from service.usecases import batches
from service.web.common import actor_required, bp, runtime, stage_role
from workflows.contract import AWARD_DECISION, BATCH_PREPARATION


@bp.route("/batches")
def batch_list() -> Any:
    actor = actor_required()
    view = page_queries.batches(runtime(), actor)
    opener = stage_role(AWARD_DECISION, BATCH_PREPARATION)  # who prepares a batch in the active diagram
    return render_template("batches.html", **view, can_create=actor.has_role(opener))


@bp.route("/batches", methods=["POST"])
def batch_create() -> Any:
    batch_id = batches.create_batch(runtime(), actor_required())
    flash(gettext("Đã lập đợt trình %(id)s. Chọn các hồ sơ và lập tờ trình, dự thảo quyết định.", id=batch_id))
    return redirect(url_for("pages.batch_page", batch_id=batch_id))


@bp.route("/batches/<batch_id>")
def batch_page(batch_id: str) -> Any:
    actor = actor_required()
    batch = page_queries.batch_page(runtime(), actor, batch_id)
    return render_template("batch.html", batch=batch)
