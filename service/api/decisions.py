"""Decisions as records, through the API: the register, one decision, a batch's files by version,
the files themselves; Home Affairs' drafts and edited versions; the Chairman's exclusions and his
signature (on the server, or elsewhere and uploaded). The same use cases and the same access rules
as the pages (service/web/decisions.py): nobody sees more here than there."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from service.api.common import actor_required, file_sent
from service.api.fields import Int, Line, Text, binary_response, file_body
from service.reads import decisions as reads
from service.security.auth import runtime
from service.security.headers import send_attachment
from service.usecases import decisions, exclusions

PREFIX = "/decisions"
blp = Blueprint("decisions", __name__, description="Sổ đăng ký, dự thảo và ký số quyết định khen thưởng")


class RegisterQuery(Schema):
    year = Int(load_default=None, allow_none=True, minimum=2000, maximum=2100)
    authority = Line(load_default=None, allow_none=True, max_length=64)


class RegisterEntryOut(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"description": "số, ký hiệu: 01/QĐ-UBND"})
    signed_on = fields.Date()
    subject = fields.String(metadata={"description": "trích yếu"})
    signer = fields.String()
    awardees = fields.Integer()
    authority = fields.String()
    authority_id = fields.String()
    batch_id = fields.String(allow_none=True)
    kind = fields.String(metadata={"description": "decision | submission (Tờ trình)"})
    signed = fields.Boolean()
    sha256 = fields.String(allow_none=True, metadata={"description": "of the signed PDF"})
    file_id = fields.Integer(allow_none=True)


class FileOut(Schema):
    id = fields.Integer()
    document = fields.String(metadata={"description": "decision | submission"})
    version = fields.Integer()
    format = fields.String(metadata={"description": "docx | pdf"})
    stage = fields.String(metadata={"description": "draft | uploaded | final | signed"})
    filename = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    created_at = fields.DateTime()
    by = fields.String()


class ExclusionOut(Schema):
    nomination_id = fields.String()
    nominee_name = fields.String(allow_none=True)
    reason = fields.String()


class BatchDecisionOut(Schema):
    citation = fields.String(allow_none=True)
    submission = fields.String(allow_none=True, metadata={"description": "the Tờ trình it answers"})
    number = fields.String(allow_none=True)
    signed_on = fields.Date(allow_none=True)
    reserved = fields.String(allow_none=True, metadata={"description": "number given for signing elsewhere"})
    files = fields.List(fields.Nested(FileOut))
    excluded = fields.List(fields.Nested(ExclusionOut))


class VersionOut(Schema):
    version = fields.Integer()


class SignIn(Schema):
    passphrase = Line(load_default=None, allow_none=True, max_length=200,
                      metadata={"description": "the signing key's passphrase or PIN"})


class ExclusionIn(Schema):
    nomination_id = Line(required=True, min_length=1, max_length=64)
    reason = Text(required=True, max_length=exclusions.REASON_MAX)


class SignedOut(Schema):
    number = fields.String()
    signed_on = fields.Date()
    sha256 = fields.String(metadata={"description": "of the signed PDF (empty while numbered for signing elsewhere)"})
    citation = fields.String()


def _signed(given: decisions.Signed) -> dict[str, Any]:
    return {"number": f"{given.number:02d}/{given.symbol}", "signed_on": given.signed_on, "sha256": given.sha256,
            "citation": reads.citation_of(given)}


@blp.route("", methods=["GET"])
@blp.arguments(RegisterQuery, location="query")
@blp.response(200, RegisterEntryOut(many=True))
def register(args: dict[str, Any]) -> Any:
    """The register (sổ đăng ký văn bản đi): Home Affairs, the Chairman's office, admins."""
    return reads.register_rows(runtime(), actor_required(), args["year"], args["authority"])


@blp.route("/<int:entry_id>", methods=["GET"])
@blp.response(200, RegisterEntryOut)
def show(entry_id: int) -> Any:
    return reads.register_row(runtime(), actor_required(), entry_id)


@blp.route("/files/<int:file_id>", methods=["GET"])
@blp.doc(responses=binary_response("application/octet-stream", "the PDF or DOCX, with its media type"))
def download(file_id: int) -> Any:
    """A signed decision is public; drafts and versions are for the batches' readers."""
    filename, mimetype, content = reads.decision_file(runtime(), actor_required(), file_id)
    return send_attachment(content, mimetype, filename)


@blp.route("/batches/<batch_id>", methods=["GET"])
@blp.response(200, BatchDecisionOut)
def batch_record(batch_id: str) -> Any:
    return reads.batch_record(runtime(), actor_required(), batch_id)


@blp.route("/batches/<batch_id>/drafts", methods=["POST"])
@blp.response(201, VersionOut)
def draft(batch_id: str) -> Any:
    """Home Affairs drafts the Tờ trình (numbered by its register) and the Quyết định."""
    return {"version": decisions.generate_drafts(runtime(), actor_required(), batch_id)}


@blp.route("/batches/<batch_id>/versions", methods=["POST"])
@blp.doc(requestBody=file_body("the edited decision: DOCX (no macros) or PDF, number and date left blank"))
@blp.response(201, VersionOut)
def upload_version(batch_id: str) -> Any:
    actor = actor_required()
    name, content = file_sent()
    return {"version": decisions.upload_version(runtime(), actor, batch_id, name, content)}


@blp.route("/batches/<batch_id>/exclusions", methods=["POST"])
@blp.arguments(ExclusionIn)
@blp.response(201, VersionOut)
def exclude(args: dict[str, Any], batch_id: str) -> Any:
    """The Chairman leaves one nomination out; the decision is re-drafted without it."""
    return {"version": exclusions.exclude(runtime(), actor_required(), batch_id, args["nomination_id"],
                                          args["reason"])}


@blp.route("/batches/<batch_id>/signature", methods=["POST"])
@blp.arguments(SignIn)
@blp.response(200, SignedOut)
def sign(args: dict[str, Any], batch_id: str) -> Any:
    """The Chairman signs on the server: numbered by the register, PAdES with a timestamp."""
    return _signed(decisions.sign_on_server(runtime(), actor_required(), batch_id, args["passphrase"]))


@blp.route("/batches/<batch_id>/numbered", methods=["POST"])
@blp.response(200, SignedOut)
def numbered(batch_id: str) -> Any:
    """For signing elsewhere: the number now, and the final PDF to sign (a file of the batch)."""
    return _signed(decisions.prepare_external(runtime(), actor_required(), batch_id))


@blp.route("/batches/<batch_id>/signed", methods=["POST"])
@blp.doc(requestBody=file_body("the numbered PDF, signed elsewhere by the configured signer"))
@blp.response(200, SignedOut)
def signed_upload(batch_id: str) -> Any:
    actor = actor_required()
    name, content = file_sent()
    return _signed(decisions.accept_external(runtime(), actor, batch_id, name, content))
