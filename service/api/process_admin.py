"""Diagram administration: validate, drafts, deploy, diff, migrate running instances. Admins only.

Diagrams come as a multipart `file` field or as a raw `application/xml` body. A body larger than the
engine's limit is refused from its Content-Length before it is read, and reading is capped for bodies
that do not announce their length.

Optimistic concurrency: a version's ETag is `"<process>-v<n>"`, a draft's `"draft-<id>-r<revision>"`.
Creating a draft sends the version it started from (If-Match, or `base_version`); saving or deploying
a draft sends the draft's ETag (If-Match, or `revision`). Stale ones get 409.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify, request
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from service.api import PROBLEM
from service.api.common import actor_required
from service.api.fields import binary_response, file_body
from service.api.process_schemas import (
    DeployIn,
    DiffOut,
    DiffQuery,
    DraftInfo,
    IncidentInfo,
    MigrationIn,
    MigrationOut,
    ProcessOverview,
    RetryOut,
    ValidationOut,
    VersionInfo,
)
from service.core.errors import InvalidInput
from service.core.i18n import current_language, render
from service.security.access import require_admin
from service.security.auth import runtime
from service.usecases import incidents, migrations, processes
from service.usecases.processes import DiagramRejected
from workflows.contract import ContractProblem
from workflows.diagram_checks import DiagramProblem
from workflows.wording import Text

PREFIX = "/admin/processes"
blp = Blueprint("process_admin", __name__, description="Quản trị sơ đồ quy trình")
XML_TYPES = {"application/xml", "text/xml", "application/bpmn+xml", "application/octet-stream"}
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small text fields beside the file
NUMBER = re.compile(r"^\d{1,9}$")
TEXT_PART = {"type": "string", "maxLength": 2000}
NUMBER_PART = {"type": "string", "pattern": "^[0-9]{1,9}$"}


def _diagram_body(**parts: dict[str, Any]) -> dict[str, Any]:
    """A .bpmn file as a multipart `file` part or as the raw XML body (its other fields then in the query)."""
    body = file_body("the .bpmn diagram", {"filename": {"type": "string", "maxLength": 255}, **parts})
    body["content"]["application/xml"] = {"schema": {"type": "string", "format": "binary"}}
    return body


@blp.before_request
def _admins_only() -> None:
    """Before any body is read or parsed: non-admins get 403 on every endpoint here."""
    require_admin(actor_required())


def _message(problem: DiagramProblem) -> str:
    """A diagram's problem in the reader's language (its template is in the catalogue); a contract
    problem names its kind of process by the contract's own title in that language."""
    message = problem.text
    if isinstance(problem, ContractProblem) and current_language() == "en" and "kind_en" in message.params:
        message = Text(message.template, {**message.params, "kind": message.params["kind_en"]})
    return render(message)


@blp.errorhandler(DiagramRejected)
def _diagram_rejected(exc: DiagramRejected) -> Any:
    errors = [{"field": p.element_id, "element_id": p.element_id, "element_name": p.element_name,
               "line": p.line, "file": p.file, "message": _message(p)} for p in exc.problems]
    body = {"type": "about:blank", "title": exc.title, "status": exc.status, "detail": exc.detail, "errors": errors}
    response = jsonify(body)
    response.status_code, response.mimetype = exc.status, PROBLEM
    return response


@blp.route("", methods=["GET"])
@blp.response(200, ProcessOverview(many=True))
def overview() -> Any:
    return processes.overview(runtime(), actor_required())


@blp.route("/incidents", methods=["GET"])
@blp.response(200, IncidentInfo(many=True))
def list_incidents() -> Any:
    """Instances whose engine run failed (create, task completion, timer), newest first, with the error."""
    return incidents.open_incidents(runtime(), actor_required())


@blp.route("/incidents/<instance_id>/retry", methods=["POST"])
@blp.response(200, RetryOut)
def retry_incident(instance_id: str) -> Any:
    """Run the instance again (after the diagram is fixed and the instance migrated); 409 with the error
    when it fails again."""
    return incidents.retry(runtime(), actor_required(), instance_id)


@blp.route("/validate", methods=["POST"])
@blp.doc(requestBody=_diagram_body())
@blp.response(200, ValidationOut)
def validate() -> Any:
    """Checks a diagram (schema, lanes, forms, actions, expressions, gateways, loops); stores nothing."""
    data, filename, _ = _read_diagram()
    return {"valid": True, "processes": processes.validate(runtime(), actor_required(), data, filename or "")}


@blp.route("/<process_id>/versions/<int:version>", methods=["GET"])
@blp.response(200, VersionInfo)
def version_info(process_id: str, version: int) -> Any:
    info, _ = processes.version_detail(runtime(), actor_required(), process_id, version)
    return info, 200, {"ETag": _version_etag(process_id, version)}


@blp.route("/<process_id>/versions/<int:version>/bpmn", methods=["GET"])
@blp.doc(responses=binary_response("application/xml", "the BPMN 2.0 diagram"))
def version_bpmn(process_id: str, version: int) -> Any:
    _, bpmn = processes.version_detail(runtime(), actor_required(), process_id, version)
    return _xml(bpmn, f"{process_id}-v{version}.bpmn", _version_etag(process_id, version))


@blp.route("/<process_id>/drafts", methods=["POST"])
@blp.doc(requestBody=_diagram_body(note=TEXT_PART, base_version=NUMBER_PART))
@blp.response(201, DraftInfo)
def create_draft(process_id: str) -> Any:
    """Store a valid diagram as a draft. Send the version it started from: `If-Match: "<process>-v<n>"` or
    `base_version` (omit both only for a new process)."""
    data, filename, fields = _read_diagram()
    base = _tag_number(rf"{re.escape(process_id)}-v(\d{{1,9}})") or _number(fields.get("base_version"), "base_version")
    draft = processes.create_draft(runtime(), actor_required(), process_id, data, filename or "",
                                   (fields.get("note") or "")[:2000], base)
    return draft, 201, {"ETag": _draft_etag(draft)}


@blp.route("/<process_id>/drafts/<int:draft_id>", methods=["GET"])
@blp.response(200, DraftInfo)
def draft_info(process_id: str, draft_id: int) -> Any:
    info, _ = processes.draft_detail(runtime(), actor_required(), process_id, draft_id)
    return info, 200, {"ETag": _draft_etag(info)}


@blp.route("/<process_id>/drafts/<int:draft_id>", methods=["PUT"])
@blp.doc(requestBody=_diagram_body(note=TEXT_PART, revision=NUMBER_PART))
@blp.response(200, DraftInfo)
def update_draft(process_id: str, draft_id: int) -> Any:
    """Replace the draft's diagram. Requires the draft's ETag (If-Match) or `revision`."""
    data, filename, fields = _read_diagram()
    revision = _draft_revision(draft_id, fields)
    note = fields.get("note")
    draft = processes.update_draft(runtime(), actor_required(), process_id, draft_id, data, filename or "",
                                   note[:2000] if note is not None else None, revision)
    return draft, 200, {"ETag": _draft_etag(draft)}


@blp.route("/<process_id>/drafts/<int:draft_id>", methods=["DELETE"])
@blp.response(204)
def discard_draft(process_id: str, draft_id: int) -> Any:
    processes.discard_draft(runtime(), actor_required(), process_id, draft_id,
                            _draft_revision(draft_id, request.args))


@blp.route("/<process_id>/drafts/<int:draft_id>/bpmn", methods=["GET"])
@blp.doc(responses=binary_response("application/xml", "the draft's BPMN 2.0 diagram"))
def draft_bpmn(process_id: str, draft_id: int) -> Any:
    info, bpmn = processes.draft_detail(runtime(), actor_required(), process_id, draft_id)
    return _xml(bpmn, info["filename"], _draft_etag(info))


@blp.route("/<process_id>/drafts/<int:draft_id>/deploy", methods=["POST"])
@blp.arguments(DeployIn)
@blp.response(201, VersionInfo)
def deploy(body: dict[str, Any], process_id: str, draft_id: int) -> Any:
    """Make the draft the new active version; new nominations start on it, running ones keep theirs."""
    revision = _tag_number(rf"draft-{draft_id}-r(\d{{1,9}})") or body["revision"]
    version = processes.deploy_draft(runtime(), actor_required(), process_id, draft_id, body["note"], revision)
    return version, 201, {"ETag": _version_etag(process_id, version["version"])}


@blp.route("/<process_id>/diff", methods=["GET"])
@blp.arguments(DiffQuery, location="query")
@blp.response(200, DiffOut)
def diff(args: dict[str, Any], process_id: str) -> Any:
    """Elements added, removed and changed (name, lane, timer, condition, form, action...) between two
    versions; `from`/`to` are version numbers or `draft-<id>`."""
    return processes.diff_versions(runtime(), actor_required(), process_id, args["from_"], args["to"])


@blp.route("/<process_id>/migrations/preview", methods=["POST"])
@blp.arguments(MigrationIn)
@blp.response(200, MigrationOut(many=True))
def preview_migration(body: dict[str, Any], process_id: str) -> Any:
    """Dry run: per instance, what would change and whether it is safe. Nothing is written."""
    return migrations.preview(runtime(), actor_required(), process_id, body["to_version"], body["instance_ids"])


@blp.route("/<process_id>/migrations", methods=["POST"])
@blp.arguments(MigrationIn)
@blp.response(200, MigrationOut(many=True))
def migrate(body: dict[str, Any], process_id: str) -> Any:
    """Migrate the listed instances that are safe, each in its own transaction; unsafe ones say why."""
    return migrations.migrate(runtime(), actor_required(), process_id, body["to_version"],
                              body["instance_ids"] or [])


def _read_diagram() -> tuple[bytes, str | None, Mapping[str, str]]:
    """The uploaded diagram, its file name and the accompanying fields (form fields or query string)."""
    limit = runtime().engine_settings.max_bpmn_bytes
    allowed = limit + FORM_OVERHEAD
    too_large = RequestEntityTooLarge(f"Tệp sơ đồ quá lớn: tối đa {limit:,} byte; chưa lưu gì "
                                      f"(diagram larger than {limit:,} bytes; nothing was stored)")
    if request.content_length is not None and request.content_length > allowed:
        raise too_large  # refused from the header alone, before the body is read
    request.max_content_length = allowed  # caps reading when the length is not announced
    try:
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("file")
            if upload is None:
                raise InvalidInput("Thiếu tệp sơ đồ: trường 'file'")
            data, filename, fields = upload.read(limit + 1), upload.filename, request.form.to_dict()
        elif request.mimetype in XML_TYPES:
            data, filename = request.get_data(cache=False), request.args.get("filename")
            fields = request.args.to_dict()
        else:
            data = None
    except RequestEntityTooLarge as exc:
        raise too_large from exc  # werkzeug's own 413 (a body without Content-Length) does not say the limit
    if data is None:
        raise UnsupportedMediaType("Gửi tệp .bpmn dạng multipart (trường 'file') hoặc application/xml")
    if len(data) > limit:
        raise too_large
    return data, filename, fields


def _xml(bpmn: bytes, filename: str, etag: str) -> Response:
    return Response(bpmn, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "ETag": etag,
        "X-Content-Type-Options": "nosniff"})


def _version_etag(process_id: str, version: int) -> str:
    return f'"{process_id}-v{version}"'


def _draft_etag(draft: dict[str, Any]) -> str:
    return f'"draft-{draft["id"]}-r{draft["revision"]}"'


def _draft_revision(draft_id: int, fields: Any) -> int | None:
    return _tag_number(rf"draft-{draft_id}-r(\d{{1,9}})") or _number(fields.get("revision"), "revision")


def _tag_number(pattern: str) -> int | None:
    """The number in an If-Match ETag of the given shape; 409-worthy mismatches are the use case's call."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return None
    tag = header.removeprefix("W/").strip('"')
    match = re.fullmatch(pattern, tag) if len(tag) <= 200 else None
    if match is None:
        raise InvalidInput(f"If-Match không đúng dạng: {header[:80]!r} (unexpected ETag)")
    return int(match.group(1))


def _number(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    if not NUMBER.match(str(value)):
        raise InvalidInput(f"'{name}' phải là số nguyên")
    return int(str(value))
