"""Bounds every request meets before a view parses it: body size, JSON depth, characters, integers.

Each bound is checked once here, for API and pages alike, so that no endpoint can forget it:
- a body that is not a multipart upload may hold at most `max_json_bytes` (JSON) or
  `max_form_bytes` (a page's form); only multipart uploads get the attachment limit. Refused from
  Content-Length before anything is read, and reading is capped when the length is not announced;
- a JSON body is parsed once here, guarded: nested deeper than MAX_JSON_DEPTH, or holding a
  control character (NUL included: PostgreSQL cannot store it) in any string or key, is a 400;
- query strings are one-line text: control characters and line breaks in them are a 400 (a CR/LF
  in `?next=` would otherwise reach a Location header);
- page forms (urlencoded) may hold line breaks in their text areas, but no other control character;
- integer path parts (`<int:...>`) are bounded to what the database's integer columns hold, so a
  huge id answers 404 instead of overflowing a query.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

from workflows.text import bad_line, bad_text

MAX_INT = 2**31 - 1  # PostgreSQL's `integer`; every id, version, offset and limit fits in it
MAX_JSON_DEPTH = 32  # the deepest form is 4 levels; 32 leaves room without letting recursion run away
XML_TYPES = {"application/xml", "text/xml", "application/bpmn+xml", "application/octet-stream"}


class BoundedIntConverter(IntegerConverter):
    """`<int:x>` that matches 0..MAX_INT only: a larger number is a path that does not exist (404)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, MAX_INT if max is None else max, signed)


def bounded_int_param(converter: BoundedIntConverter) -> dict[str, Any]:
    """The OpenAPI schema of such a path parameter."""
    return {"type": "integer", "minimum": converter.min or 0, "maximum": converter.max}


class BadText(BadRequest):
    description = ("Dữ liệu chứa ký tự điều khiển không được phép (ký tự NUL, xuống dòng trong trường một dòng...)")


class TooDeep(BadRequest):
    description = f"JSON lồng nhau quá sâu: tối đa {MAX_JSON_DEPTH} cấp (JSON nested too deep)"


def install_converter(app: Flask) -> None:
    """Before any route is added: every `<int:...>` is bounded."""
    app.url_map.converters["int"] = BoundedIntConverter


def limit_size(max_json_bytes: int, max_form_bytes: int) -> None:
    """First of all, before anything reads the body (the CSRF check reads page forms)."""
    _check_query()
    if request.mimetype == "multipart/form-data" or request.mimetype in XML_TYPES:
        return  # uploads: MAX_CONTENT_LENGTH and the upload's own checks (diagrams: their own limit)
    limit = max_json_bytes if request.is_json else max_form_bytes
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    request.max_content_length = limit  # caps reading a body that does not announce its length


def _too_large(limit: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(f"Dữ liệu gửi lên quá lớn: tối đa {limit:,} byte")


def check_body() -> None:
    """After the caller is known (an anonymous API call is refused before its body is parsed)."""
    if request.is_json:
        raw = request.get_data(cache=True)
        limit = request.max_content_length
        if request.content_length is None and limit is not None and len(raw) >= limit:
            raise _too_large(limit)  # a chunked body read up to the cap: the rest was never read
        _check_json(raw)
    elif request.mimetype == "application/x-www-form-urlencoded":
        for values in request.form.listvalues():
            if any(bad_text(v) for v in values):
                raise BadText()


def _check_query() -> None:
    for key, values in request.args.lists():
        if bad_line(key) or any(bad_line(v) for v in values):
            raise BadText()


def _check_json(raw: bytes) -> None:
    if not raw:
        return
    # Control characters can only be in a JSON string as \u escapes (raw ones are invalid JSON), or raw as
    # DEL and the C1 range: found in the bytes, without walking every value of the document.
    if _RAW_CONTROL.search(raw) or any(_escaped(raw, m.start()) for m in _ESCAPED_CONTROL.finditer(raw)):
        raise BadText()
    try:
        document = json.loads(raw)
    except RecursionError:
        raise TooDeep() from None
    except ValueError:
        return  # not JSON at all: the parser of the view reports it as usual
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH:  # else it cannot be too deep
        _check_depth(document)


# A \u escape of a control character other than TAB, LF and CR; then DEL and the C1 controls as raw UTF-8.
_ESCAPED_CONTROL = re.compile(rb"\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])")
_RAW_CONTROL = re.compile(b"\x7f|\xc2[\x80-\x9f]")


def _escaped(raw: bytes, start: int) -> bool:
    """Whether the backslash at `start` begins an escape: an even run of backslashes before it (after an
    odd run it is the second half of an escaped backslash, and the text only says "u0000")."""
    before = start - 1
    while before >= 0 and raw[before] == 0x5C:
        before -= 1
    return (start - 1 - before) % 2 == 0


def _check_depth(document: Any) -> None:
    """Raises TooDeep past MAX_JSON_DEPTH. Iterative, and it visits containers only."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise TooDeep()
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
