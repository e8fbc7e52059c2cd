"""Substitutes (người thay thế): named by the absent person, their unit head or an admin; listed and
ended by the same people."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from service.api.common import actor_required
from service.api.schemas import IdOut, SubstituteIn, SubstituteOut
from service.security.auth import runtime
from service.usecases import substitutes

PREFIX = "/substitutes"
blp = Blueprint("substitutes", __name__, description="Người thay thế")


@blp.route("", methods=["GET"])
@blp.response(200, SubstituteOut(many=True))
def list_substitutes() -> Any:
    """Admins: all; others: those they are in, or that concern a unit they head."""
    return substitutes.list_substitutes(runtime(), actor_required())


@blp.route("", methods=["POST"])
@blp.arguments(SubstituteIn)
@blp.response(201, IdOut)
def add_substitute(body: dict[str, Any]) -> Any:
    """At most 90 days. Acts at once if the stand-in holds the absent person's roles in the same units,
    or if a unit head or an admin names them; otherwise after a head's or an admin's approval."""
    return {"id": substitutes.add_substitute(runtime(), actor_required(), body["absent_id"],
                                             body["substitute_id"], body["starts_on"], body["ends_on"])}


@blp.route("/<int:row_id>/approve", methods=["POST"])
@blp.response(200, SubstituteOut)
def approve_substitute(row_id: int) -> Any:
    return substitutes.approve_substitute(runtime(), actor_required(), row_id)


@blp.route("/<int:row_id>/end", methods=["POST"])
@blp.response(200, SubstituteOut)
def end_substitute(row_id: int) -> Any:
    return substitutes.end_substitute(runtime(), actor_required(), row_id)
