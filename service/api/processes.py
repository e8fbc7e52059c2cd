"""Process versions: list them, download a version's BPMN."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint

from service.api.common import actor_required
from service.api.fields import binary_response
from service.api.process_schemas import VersionInfo
from service.reads import api as queries
from service.security.auth import runtime

PREFIX = "/processes"
blp = Blueprint("processes", __name__, description="Phiên bản quy trình")


@blp.route("", methods=["GET"])
@blp.response(200, VersionInfo(many=True))
def list_versions() -> Any:
    actor_required()
    return queries.process_versions(runtime())


@blp.route("/<process_id>/versions/<int:version>/bpmn", methods=["GET"])
@blp.doc(responses=binary_response("application/xml", "the BPMN 2.0 diagram"))
def download(process_id: str, version: int) -> Any:
    actor_required()
    return Response(queries.process_bpmn(runtime(), process_id, version), mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{process_id}-v{version}.bpmn"'})
