"""REST API under /api/v1: marshmallow schemas, OpenAPI at /api/openapi.json and /api/docs,
errors as RFC 9457 problem details."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from ..errors import DomainError

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str = "", errors: list[dict[str, str]] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    return response


def register_api(app: Flask) -> None:
    api = Api(app, spec_kwargs={"info": {"description": "nomflow: đề nghị khen thưởng (award nominations)"}})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    from . import nominations, processes, tasks

    for module in (nominations, tasks, processes):
        api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.PREFIX}")

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Any:
        errors = [{"field": e.path, "message": e.message} for e in exc.errors]
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return problem(exc.status, exc.title, exc.detail, errors)
        from flask import render_template

        return render_template("error.html", error=exc), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if not request.path.startswith("/api/"):
            return exc
        errors = []
        messages = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
        for location in (messages or {}).values():
            errors.extend(_flatten(location))
        return problem(exc.code or 500, exc.name, exc.description or "", errors)


def _flatten(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            out.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"field": prefix, "message": m} for m in messages]
    return [{"field": prefix, "message": str(messages)}]
