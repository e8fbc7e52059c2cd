"""REST API under /api/v1: marshmallow schemas, OpenAPI at /api/openapi.json and /api/docs,
errors as RFC 9457 problem details."""

from __future__ import annotations

import http
import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from service.api.schemas import Problem
from service.core.errors import Conflict, DomainError, Unavailable, catalogued
from service.core.request_guard import BoundedIntConverter, bounded_int_param
from service.db.session import CONCURRENT_UPDATE, describe, is_conflict, is_unavailable

log = logging.getLogger(__name__)
DATABASE_DOWN = catalogued("Cơ sở dữ liệu tạm thời không truy cập được; vui lòng thử lại sau ít phút")

PROBLEM = "application/problem+json"
MAX_ERRORS = 20  # a response lists at most this many field errors, then says how many more there were


# Titles of the HTTP errors raised outside the use cases (log-in, parsing, routing).
HTTP_TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Không có quyền",
    404: "Không tìm thấy",
    405: "Phương thức không được hỗ trợ",
    413: "Dữ liệu gửi lên quá lớn",
    415: "Kiểu dữ liệu không được hỗ trợ",
    422: "Dữ liệu không hợp lệ",
    429: "Quá nhiều lần thử",
}


def problem(status: int, title: str, detail: str = "", errors: list[dict[str, str]] | None = None) -> Response:
    """Every problem carries the same members, so clients need no presence checks."""
    errors = errors or []
    if len(errors) > MAX_ERRORS:
        more = len(errors) - MAX_ERRORS
        errors = [*errors[:MAX_ERRORS], {"field": "", "message": f"… và {more} lỗi khác ({more} more errors)"}]
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status,
                            "detail": detail or title, "errors": errors}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="nomflow"'
    return response


DESCRIPTION = """nomflow: đề nghị khen thưởng (award nominations).

Xác thực (authentication): `Authorization: Bearer <token>` (POST /api/v1/tokens), or the browser session,
whose writes need the `X-CSRFToken` header. Lỗi (errors): RFC 9457 problem details with
`type, title, status, detail, errors[{field, message}]`. A nomination you may not see answers 404, as if
it did not exist; acting on a task that is not yours answers 403; a stale `version` or a task already
completed answers 409 (so does a write that met a concurrent one: nothing of it was stored); invalid input answers
422 listing every field; while the database is unavailable, 503 with `Retry-After`. Probes: `GET /healthz`,
`GET /readyz` (no sign-in)."""


class ProblemApi(Api):
    """Documents every error response with the problem-details schema and the media type actually sent."""

    ERROR_SCHEMA = Problem

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            if status == 405:
                response["headers"] = {"Allow": {"description": "the methods this path accepts",
                                                 "schema": {"type": "string"}}}
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def register_api(app: Flask) -> None:
    # Every /api/v1 operation needs the token (or the browser session): said once, for all of them.
    api = ProblemApi(app, spec_kwargs={"info": {"description": DESCRIPTION}, "security": [{"bearer": []}]})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.register_converter(BoundedIntConverter, bounded_int_param)
    from service.api import (
        accounts,
        admin,
        batches,
        decisions,
        nominations,
        process_admin,
        processes,
        reports,
        substitutes,
        tasks,
        unit_awards,
    )

    for module in (nominations, tasks, batches, processes, accounts, admin, substitutes, process_admin, reports,
                   decisions, unit_awards):
        api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.PREFIX}")

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Any:
        errors = [{"field": e.path, "message": e.message} for e in exc.errors]
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            response: Any = problem(exc.status, exc.title, exc.detail, errors)
        else:
            from flask import render_template

            response = app.make_response((render_template("error.html", error=exc), exc.status))
        if isinstance(exc, Unavailable):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(SQLAlchemyError)
    def _database_error(exc: SQLAlchemyError) -> Any:
        """A database that is down answers 503 and a write that lost a race 409, each logged in one
        line: during an outage every request fails the same way, and a traceback each says nothing."""
        if is_conflict(exc):
            log.warning("%s %s: 409 %s", request.method, request.path, describe(exc))
            return _domain_error(Conflict(CONCURRENT_UPDATE))
        if is_unavailable(exc):
            log.error("%s %s: 503 database unavailable: %s", request.method, request.path, describe(exc))
            return _domain_error(Unavailable(DATABASE_DOWN))
        raise exc  # a bug: Flask logs it with its traceback and answers 500

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if not request.path.startswith("/api/"):
            return exc
        errors = []
        messages = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
        for location in (messages or {}).values():
            errors.extend(_flatten(location))
        status = exc.code or 500
        title = HTTP_TITLES.get(status, exc.name)
        # werkzeug's stock English sentence says no more than the title; our own descriptions are kept.
        stock = exc.description == type(exc).description
        if status == 413 and stock and (limit := request.max_content_length):
            # The stock sentence does not say how much is allowed; the client needs the number.
            return problem(status, title, f"Dữ liệu gửi lên quá lớn: tối đa {limit:,} byte "
                                          f"(content larger than {limit:,} bytes)", errors)
        response = problem(status, title, title if stock and status in HTTP_TITLES else exc.description or "",
                           errors)
        for name, value in exc.get_headers():
            if name != "Content-Type":  # e.g. Allow on a 405, as RFC 9110 requires
                response.headers[name] = value
        return response


def _flatten(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            out.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"field": prefix, "message": m} for m in messages]
    return [{"field": prefix, "message": str(messages)}]
