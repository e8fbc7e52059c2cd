"""Batches (đợt trình): the award_decision process that carries ready nominations to the Chairman.

Preparing a batch and signing its decision are its tasks, completed through /tasks/<id>/complete."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from service.api.common import actor_required
from service.api.schemas import BatchDetail, BatchOut, BatchQuery, Created
from service.reads import api as queries
from service.security.auth import runtime
from service.usecases import batches

PREFIX = "/batches"
blp = Blueprint("batches", __name__, description="Đợt trình và quyết định khen thưởng")


@blp.route("", methods=["GET"])
@blp.arguments(BatchQuery, location="query")
@blp.response(200, BatchOut(many=True))
def list_batches(args: dict[str, Any]) -> Any:
    return queries.list_batches(runtime(), actor_required(), **args)


@blp.route("", methods=["POST"])
@blp.response(201, Created)
def create() -> Any:
    """Lãnh đạo Sở Nội vụ lập đợt trình (home_affairs_lead): starts the award_decision process."""
    return {"id": batches.create_batch(runtime(), actor_required())}


@blp.route("/<batch_id>", methods=["GET"])
@blp.response(200, BatchDetail)
def show(batch_id: str) -> Any:
    return queries.batch_detail(runtime(), actor_required(), batch_id)
