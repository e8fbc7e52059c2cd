"""The API's bounded fields: every integer, one-line text and list a client sends goes through these, so
no schema can forget a bound (tests/service/test_hostile_input.py checks that every input schema does)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from service.core.i18n import render
from service.core.request_guard import MAX_INT
from workflows.text import bad_line, bad_text

CONTROL_IN_LINE = "Không được chứa ký tự điều khiển hoặc xuống dòng"
CONTROL_IN_TEXT = "Không được chứa ký tự điều khiển"
MAX_LINE = 1000
MAX_TEXT = 20_000
MAX_LIST = 1000


class Localized(fields.String):
    """An engine's message (workflows.wording.Text), out in the reader's language."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else render(value)


class Int(fields.Integer):
    """An integer in 0..MAX_INT (unless told otherwise): ids, versions, offsets, limits. A number past
    what the database stores is a 422 here, never an overflow in a query."""

    def __init__(self, *, minimum: int = 0, maximum: int = MAX_INT, **kwargs: Any) -> None:
        kwargs["validate"] = [validate.Range(min=minimum, max=min(maximum, MAX_INT)),
                              *_as_list(kwargs.get("validate"))]
        super().__init__(**kwargs)

    def _validated(self, value: Any) -> Any:
        try:
            return super()._validated(value)
        except OverflowError:  # 1e999 in JSON is float("inf")
            raise self.make_error("invalid") from None


class Line(fields.String):
    """One line of text: at most `max_length` characters (MAX_LINE by default), no control character."""

    def __init__(self, *, min_length: int | None = None, max_length: int = MAX_LINE, **kwargs: Any) -> None:
        kwargs["validate"] = [validate.Length(min=min_length, max=max_length), _no_control_line,
                              *_as_list(kwargs.get("validate"))]
        super().__init__(**kwargs)


class Text(fields.String):
    """Multi-line text (line breaks and tabs allowed, other controls not)."""

    def __init__(self, *, max_length: int = MAX_TEXT, **kwargs: Any) -> None:
        kwargs["validate"] = [validate.Length(max=max_length), _no_control_text, *_as_list(kwargs.get("validate"))]
        super().__init__(**kwargs)


class BoundedList(fields.List):
    """A list of at most `max_items`, counted before any item is read."""

    def __init__(self, inner: fields.Field, *, max_items: int = MAX_LIST, **kwargs: Any) -> None:
        self.max_items = max_items
        kwargs["validate"] = [validate.Length(max=max_items), *_as_list(kwargs.get("validate"))]
        super().__init__(inner, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, list | tuple) and len(value) > self.max_items:
            raise ValidationError(f"Tối đa {self.max_items} mục (at most {self.max_items} items)")
        return super()._deserialize(value, attr, data, **kwargs)


def _no_control_line(value: str) -> None:
    if bad_line(value):
        raise ValidationError(CONTROL_IN_LINE)


def _no_control_text(value: str) -> None:
    if bad_text(value):
        raise ValidationError(CONTROL_IN_TEXT)


def _as_list(given: Any) -> list[Any]:
    if given is None:
        return []
    return list(given) if isinstance(given, list | tuple) else [given]


# OpenAPI documents of bodies that are not JSON (marshmallow cannot describe them).
def file_body(description: str, with_fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """A multipart body with a `file` part (and optional text parts)."""
    properties = {"file": {"type": "string", "format": "binary", "description": description}, **(with_fields or {})}
    return {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": properties}}}}


def binary_response(media_type: str, description: str) -> dict[str, Any]:
    return {"200": {"description": description,
                    "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}}
