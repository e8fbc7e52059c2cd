"""Process versions: list them, download a version's BPMN."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import func, select

from ..auth import runtime
from ..db.models import ProcessInstance, ProcessVersion
from ..errors import NotFound
from .common import actor_required
from .process_schemas import VersionInfo

PREFIX = "/processes"
blp = Blueprint("processes", __name__, description="Phiên bản quy trình (process versions)")


@blp.route("", methods=["GET"])
@blp.response(200, VersionInfo(many=True))
def list_versions() -> Any:
    actor_required()
    with runtime().uow() as uow:
        counts = dict(uow.session.execute(
            select(ProcessInstance.process_version_id, func.count()).where(ProcessInstance.status == "running")
            .group_by(ProcessInstance.process_version_id)).all())
        versions = uow.session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_id,
                                                                       ProcessVersion.version))
        return [{**{c.name: getattr(v, c.name) for c in ProcessVersion.__table__.columns if c.name != "bpmn"},
                 "running_instances": counts.get(v.id, 0)} for v in versions]


@blp.route("/<process_id>/versions/<int:version>/bpmn", methods=["GET"])
def download(process_id: str, version: int) -> Any:
    actor_required()
    with runtime().uow() as uow:
        row = uow.session.scalars(select(ProcessVersion).where(
            ProcessVersion.process_id == process_id, ProcessVersion.version == version)).first()
        if row is None:
            raise NotFound(f"Không tìm thấy {process_id} phiên bản {version}")
        return Response(row.bpmn, mimetype="application/xml", headers={
            "Content-Disposition": f'attachment; filename="{process_id}-v{version}.bpmn"'})
