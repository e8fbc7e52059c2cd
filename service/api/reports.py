"""Reporting rounds: unit plans (plan IV.1.1) and results reports (IV.1.4), the follow-up board,
the urging mail and the province's summary (IV.5.3).

A unit's report is filled here (figures saved with the `version` read: a stale one answers 409),
its signed file uploaded here, and sent up with /submit; the unit head's approval and the
province's acceptance are tasks, completed through /tasks/<id>/complete like every other task."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api.common import actor_required, file_sent
from service.api.fields import BoundedList, Int, Line
from service.api.schemas import Created, StepResult
from service.core.errors import catalogued
from service.core.media_types import DOCX, XLSX
from service.reads import reports as queries
from service.reads import summary
from service.reads.movement_filter import known_movement
from service.security.auth import current_language, runtime
from service.security.headers import send_attachment
from service.usecases import reports
from service.usecases.files import attachment_path

PREFIX = "/rounds"
blp = Blueprint("rounds", __name__, description="Đợt báo cáo, kế hoạch của đơn vị")


class RoundCreate(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["plan", "results"]))
    title = Line(required=True, min_length=5, max_length=300)
    year = Int(required=True, minimum=2000, maximum=2100)
    working_days = Int(required=True, minimum=1, maximum=reports.MAX_ROUND_DAYS)
    unit_ids = BoundedList(Line(max_length=64), max_items=5000)
    movement_id = Int()


class RoundQuery(Schema):
    movement_id = Int()
    year = Int(minimum=2000, maximum=2100)


class ReportRoundOut(Schema):
    id = fields.String()
    kind = fields.String()
    title = fields.String()
    year = fields.Integer()
    due_at = fields.DateTime()


class RoundOut(ReportRoundOut):
    kind_title = fields.String()
    movement_id = fields.Integer()
    opened_at = fields.DateTime()
    units = fields.Integer()
    sent = fields.Integer()


class BoardRowOut(Schema):
    unit_id = fields.String()
    unit_name = fields.String()
    unit_kind = fields.String()
    status = fields.String(metadata={"description": "not_started | drafting | submitted | late | accepted | "
                                                   "returned | stopped"})
    status_title = fields.String()
    detail = fields.String()
    days_late = fields.Integer()
    late_submission = fields.Boolean()
    submitted_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    last_reminder_at = fields.DateTime(allow_none=True)


class ReportTaskOut(Schema):
    id = fields.String()
    name = fields.String()
    role = fields.String()
    form = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)


class ReportDetail(Schema):
    round = fields.Nested(ReportRoundOut)
    unit = fields.Dict()
    status = fields.String()
    detail = fields.String()
    late_submission = fields.Boolean()
    data = fields.Dict()
    version = fields.Integer()
    file = fields.Dict(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    tasks = fields.List(fields.Nested(ReportTaskOut))


class ReportSave(Schema):
    data = fields.Dict(required=True)
    version = Int(required=True)


class ReportSubmit(Schema):
    version = Int(required=True)


class Saved(Schema):
    version = fields.Integer()


class Urged(Schema):
    urged = fields.Integer()


@blp.route("", methods=["GET"])
@blp.arguments(RoundQuery, location="query")
@blp.response(200, RoundOut(many=True))
def list_rounds(args: dict[str, Any]) -> Any:
    known_movement(runtime(), args.get("movement_id"))
    return queries.list_rounds(runtime(), actor_required(), **args)


@blp.route("", methods=["POST"])
@blp.arguments(RoundCreate)
@blp.response(201, Created)
def create(body: dict[str, Any]) -> Any:
    """Sở KH&CN hoặc Sở Nội vụ mở đợt: one report, with its process, per participating unit."""
    return {"id": reports.open_round(runtime(), actor_required(), body["kind"], body["title"], body["year"],
                                     body["working_days"], body.get("unit_ids"), body.get("movement_id"))}


@blp.route("/<round_id>/board", methods=["GET"])
@blp.response(200, BoardRowOut(many=True))
def board(round_id: str) -> Any:
    return queries.board_dicts(queries.board(runtime(), actor_required(), round_id)[1])


@blp.route("/<round_id>/board.xlsx", methods=["GET"])
@blp.response(200, content_type=XLSX)
def board_xlsx(round_id: str) -> Any:
    name, content = summary.board_xlsx(runtime(), actor_required(), round_id)
    return send_attachment(content, XLSX, name)


@blp.route("/<round_id>/urge", methods=["POST"])
@blp.response(200, Urged)
def urge(round_id: str) -> Any:
    """Công văn đôn đốc: one mail to the staff and head of each late unit."""
    return {"urged": reports.urge_late(runtime(), actor_required(), round_id)}


@blp.route("/<round_id>/summary.docx", methods=["GET"])
@blp.response(200, content_type=DOCX)
def summary_docx(round_id: str) -> Any:
    content = summary.summary_docx(runtime(), actor_required(), round_id)
    return send_attachment(content, DOCX, f"bao-cao-tong-hop-{round_id[:8]}.docx")


@blp.route("/<round_id>/units/<unit_id>", methods=["GET"])
@blp.response(200, ReportDetail)
def show_report(round_id: str, unit_id: str) -> Any:
    return queries.report_detail(runtime(), actor_required(), round_id, unit_id)


@blp.route("/<round_id>/units/<unit_id>", methods=["PUT"])
@blp.arguments(ReportSave)
@blp.response(200, Saved)
def save_report(body: dict[str, Any], round_id: str, unit_id: str) -> Any:
    version = reports.save_report(runtime(), actor_required(), round_id, unit_id, body["data"], body["version"],
                                  current_language())
    return {"version": version}


@blp.route("/<round_id>/units/<unit_id>/file", methods=["POST"])
@blp.response(200, Saved)
def upload(round_id: str, unit_id: str) -> Any:
    name, content = file_sent(catalogued("Thiếu tệp báo cáo"))
    return {"version": reports.attach_file(runtime(), actor_required(), round_id, unit_id, name, content)}


@blp.route("/<round_id>/units/<unit_id>/file", methods=["GET"])
def download(round_id: str, unit_id: str) -> Any:
    sha256, content_type, name = queries.report_file(runtime(), actor_required(), round_id, unit_id)
    return send_attachment(attachment_path(runtime(), sha256), content_type, name)


@blp.route("/<round_id>/units/<unit_id>/submit", methods=["POST"])
@blp.arguments(ReportSubmit)
@blp.response(200, StepResult)
def submit(body: dict[str, Any], round_id: str, unit_id: str) -> Any:
    """Send the saved report to the unit head (the drafting task, completed with the saved figures)."""
    return reports.submit_report(runtime(), actor_required(), round_id, unit_id, body["version"],
                                 current_language())
