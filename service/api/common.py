"""Helpers shared by the API blueprints."""

from __future__ import annotations

from flask import abort, request

from service.core.errors import InvalidInput, catalogued
from service.security.access import Actor
from service.security.auth import NOT_SIGNED_IN, current_actor
from workflows.forms import FieldError

FILE_MISSING = catalogued("Thiếu tệp")


def actor_required() -> Actor:
    actor = current_actor()
    if actor is None:
        abort(401, description=NOT_SIGNED_IN)
    return actor


def file_sent(missing: str = FILE_MISSING) -> tuple[str, bytes]:
    """The multipart field `file` as (name, content); without one, a 422 that names the field."""
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        raise InvalidInput(missing, [FieldError("file", "Bắt buộc")])
    return sent.filename, sent.read()
