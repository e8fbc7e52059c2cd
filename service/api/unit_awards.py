"""The Giấy khen path inside a unit: the council's minutes, the head's digitally signed decision, the
unit's own criteria and (admins) its register symbol."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from service.api.common import actor_required, file_sent
from service.api.fields import BoundedList, Int, Line, file_body
from service.api.schemas import AttachmentOut
from service.reads import api as queries
from service.security.auth import runtime
from service.usecases import unit_award_external, unit_awards

PREFIX = ""
blp = Blueprint("unit_awards", __name__, description="Giấy khen của thủ trưởng đơn vị")


class SignIn(Schema):
    passphrase = Line(load_default=None, allow_none=True, max_length=200,
                      metadata={"description": "the key's passphrase (PIN), unless configured on the server"})


class SignedOut(Schema):
    number = fields.Integer()
    symbol = fields.String()
    citation = fields.String()
    signed_on = fields.Date()
    sha256 = fields.String()


class CriteriaQuery(Schema):
    movement_id = Int(required=True)


class CriteriaIn(Schema):
    movement_id = Int(required=True)
    criteria = BoundedList(Line(max_length=1000), required=True, max_items=unit_awards.MAX_CRITERIA)


class Criterion(Schema):
    code = fields.String()
    title = fields.String()


class SymbolIn(Schema):
    symbol = Line(required=True, min_length=2, max_length=25)


class SymbolOut(Schema):
    unit_id = fields.String()
    symbol = fields.String()


@blp.route("/nominations/<nomination_id>/minutes", methods=["POST"])
@blp.doc(requestBody=file_body("the council meeting's minutes: PDF, DOCX or an image"))
@blp.response(201, AttachmentOut)
def upload_minutes(nomination_id: str) -> Any:
    actor = actor_required()
    stored = unit_awards.add_minutes(runtime(), actor, nomination_id, *file_sent())
    return queries.attachment_for(runtime(), actor, nomination_id, stored.sha256)


@blp.route("/nominations/<nomination_id>/unit-decision", methods=["POST"])
@blp.arguments(SignIn)
@blp.response(201, SignedOut)
def sign(body: dict[str, Any], nomination_id: str) -> Any:
    """The unit head signs the Giấy khen decision on the server: numbered by the unit's register."""
    signed = unit_awards.sign_on_server(runtime(), actor_required(), nomination_id, body["passphrase"])
    return {"number": signed.number, "symbol": signed.symbol, "citation": signed.citation,
            "signed_on": signed.signed_on, "sha256": signed.sha256}


@blp.route("/nominations/<nomination_id>/unit-decision/external", methods=["POST"])
@blp.response(201, SignedOut)
def prepare_external(nomination_id: str) -> Any:
    """To sign elsewhere: the number from the unit's register and the PDF to sign, kept as the
    nomination's file (sha256 here: download it from the attachments)."""
    given = unit_award_external.prepare_external(runtime(), actor_required(), nomination_id)
    return {"number": given.number, "symbol": given.symbol, "citation": given.citation,
            "signed_on": given.signed_on, "sha256": given.sha256}


@blp.route("/nominations/<nomination_id>/unit-decision/signed", methods=["POST"])
@blp.doc(requestBody=file_body("the PDF nomflow made for this decision, signed in another signing tool"))
@blp.response(201, SignedOut)
def upload_signed(nomination_id: str) -> Any:
    """The PDF signed elsewhere: accepted only if valid, on exactly that PDF, by the head's certificate."""
    name, content = file_sent()
    signed = unit_award_external.accept_external(runtime(), actor_required(), nomination_id, name, content)
    return {"number": signed.number, "symbol": signed.symbol, "citation": signed.citation,
            "signed_on": signed.signed_on, "sha256": signed.sha256}


@blp.route("/units/<unit_id>/award-criteria", methods=["GET"])
@blp.arguments(CriteriaQuery, location="query")
@blp.response(200, Criterion(many=True))
def criteria(query: dict[str, Any], unit_id: str) -> Any:
    return unit_awards.unit_criteria(runtime(), actor_required(), unit_id, query["movement_id"])


@blp.route("/units/<unit_id>/award-criteria", methods=["PUT"])
@blp.arguments(CriteriaIn)
@blp.response(200, Criterion(many=True))
def set_criteria(body: dict[str, Any], unit_id: str) -> Any:
    return unit_awards.set_unit_criteria(runtime(), actor_required(), unit_id, body["movement_id"], body["criteria"])


@blp.route("/units/<unit_id>/register-symbol", methods=["PUT"])
@blp.arguments(SymbolIn)
@blp.response(200, SymbolOut)
def set_symbol(body: dict[str, Any], unit_id: str) -> Any:
    return {"unit_id": unit_id,
            "symbol": unit_awards.set_register_symbol(runtime(), actor_required(), unit_id, body["symbol"])}
