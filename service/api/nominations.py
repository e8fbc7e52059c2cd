"""Nominations: create a draft, save it, submit it, view it with its history and files."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from service.api.common import actor_required, file_sent
from service.api.fields import binary_response, file_body
from service.api.schemas import (
    AttachmentOut,
    AuditOut,
    Created,
    DraftUpdate,
    NominationCreate,
    NominationDetail,
    NominationOut,
    StepResult,
    Submit,
)
from service.reads import api as queries
from service.reads.movement_filter import movement_arg
from service.security.auth import current_language, runtime
from service.security.headers import send_attachment
from service.usecases import files, nominations

PREFIX = "/nominations"
blp = Blueprint("nominations", __name__, description="Hồ sơ đề nghị khen thưởng")


@blp.route("", methods=["GET"])
@blp.response(200, NominationOut(many=True))
def list_nominations() -> Any:
    status = request.args.get("status")
    movement_id = movement_arg(runtime(), request.args, "movement_id")
    return queries.list_nominations(runtime(), actor_required(), status=status, movement_id=movement_id)


@blp.route("", methods=["POST"])
@blp.arguments(NominationCreate)
@blp.response(201, Created)
def create(body: dict[str, Any]) -> Any:
    return {"id": nominations.create_draft(runtime(), actor_required(), body["unit_id"], body["data"],
                                           movement_id=body["movement_id"])}


@blp.route("/<nomination_id>", methods=["GET"])
@blp.response(200, NominationDetail)
def show(nomination_id: str) -> Any:
    return queries.nomination_detail(runtime(), actor_required(), nomination_id)


@blp.route("/<nomination_id>/draft", methods=["PATCH"])
@blp.arguments(DraftUpdate)
@blp.response(204)
def save_draft(body: dict[str, Any], nomination_id: str) -> None:
    nominations.save_draft(runtime(), actor_required(), nomination_id, body["data"])


@blp.route("/<nomination_id>/submit", methods=["POST"])
@blp.arguments(Submit)
@blp.response(200, StepResult)
def submit(body: dict[str, Any], nomination_id: str) -> Any:
    return nominations.submit(runtime(), actor_required(), nomination_id, body["data"], current_language())


@blp.route("/<nomination_id>/history", methods=["GET"])
@blp.response(200, AuditOut(many=True))
def history(nomination_id: str) -> Any:
    return queries.nomination_audit(runtime(), actor_required(), nomination_id)


@blp.route("/<nomination_id>/audit", methods=["GET"])
@blp.response(200, AuditOut(many=True))
def audit(nomination_id: str) -> Any:
    """The audit trail of one nomination (same as /history)."""
    return queries.nomination_audit(runtime(), actor_required(), nomination_id)


@blp.route("/<nomination_id>/attachments", methods=["GET"])
@blp.response(200, AttachmentOut(many=True))
def attachments(nomination_id: str) -> Any:
    return queries.nomination_detail(runtime(), actor_required(), nomination_id)["attachments"]


@blp.route("/<nomination_id>/attachments", methods=["POST"])
@blp.doc(requestBody=file_body("PDF, DOCX, XLSX, PNG or JPEG"))
@blp.response(201, AttachmentOut)
def upload(nomination_id: str) -> Any:
    actor = actor_required()
    nominations.check_may_upload(runtime(), actor, nomination_id)  # before the body is parsed
    stored = nominations.add_attachment(runtime(), actor, nomination_id, *file_sent())
    return queries.attachment_for(runtime(), actor, nomination_id, stored.sha256)


@blp.route("/<nomination_id>/attachments/<sha256>", methods=["GET"])
@blp.doc(responses=binary_response("application/octet-stream", "the file, with its stored media type"))
def download(nomination_id: str, sha256: str) -> Any:
    found = queries.attachment_for(runtime(), actor_required(), nomination_id, sha256)
    return send_attachment(files.attachment_path(runtime(), found.sha256), found.content_type, found.filename)
