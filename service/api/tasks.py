"""Tasks: my inbox and my roles' queue; claim, release, reassign, complete with form data."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from service.api.common import actor_required
from service.api.schemas import Complete, Reassign, StepResult, TaskOut, TaskQuery
from service.reads import api as queries
from service.reads.movement_filter import known_movement
from service.security.auth import current_language, runtime
from service.usecases import tasks

PREFIX = "/tasks"
blp = Blueprint("tasks", __name__, description="Nhiệm vụ")


@blp.route("", methods=["GET"])
@blp.arguments(TaskQuery, location="query")
@blp.response(200, TaskOut(many=True))
def inbox(args: dict[str, Any]) -> Any:
    known_movement(runtime(), args.get("movement_id"))
    return queries.inbox(runtime(), actor_required(), **args)


@blp.route("/<task_id>/complete", methods=["POST"])
@blp.arguments(Complete)
@blp.response(200, StepResult)
def complete(body: dict[str, Any], task_id: str) -> Any:
    return tasks.complete_task(runtime(), actor_required(), task_id, body["data"], body["version"],
                               current_language())


@blp.route("/<task_id>/claim", methods=["POST"])
@blp.response(204)
def claim(task_id: str) -> None:
    tasks.claim(runtime(), actor_required(), task_id)


@blp.route("/<task_id>/release", methods=["POST"])
@blp.response(204)
def release(task_id: str) -> None:
    tasks.release(runtime(), actor_required(), task_id)


@blp.route("/<task_id>/reassign", methods=["POST"])
@blp.arguments(Reassign)
@blp.response(204)
def reassign(body: dict[str, Any], task_id: str) -> None:
    tasks.reassign(runtime(), actor_required(), task_id, body["user_id"])
