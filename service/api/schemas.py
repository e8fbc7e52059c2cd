"""marshmallow schemas of the REST API (also the OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class NominationCreate(Schema):
    unit_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    data = fields.Dict(load_default=dict, metadata={"description": "fields of the draft form, any subset"})


class DraftUpdate(Schema):
    data = fields.Dict(required=True)


class Submit(Schema):
    data = fields.Dict(load_default=dict)


class TaskOut(Schema):
    id = fields.String()
    instance_id = fields.String()
    process_id = fields.String()
    task_id = fields.String()
    name = fields.String()
    role = fields.String()
    unit_id = fields.String(allow_none=True)
    form = fields.String(allow_none=True)
    ui_form = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    opened_at = fields.DateTime()
    assignee_id = fields.Integer(allow_none=True)
    nomination_id = fields.String(allow_none=True)
    batch_id = fields.String(allow_none=True)
    nominee_name = fields.String(allow_none=True)
    nominee_kind = fields.String(allow_none=True)
    working_days_left = fields.Integer(allow_none=True)
    overdue = fields.Boolean()


class TaskQuery(Schema):
    scope = fields.String(load_default="mine", validate=validate.OneOf(["mine", "queue", "all"]))
    overdue = fields.Boolean(load_default=None, allow_none=True)
    due_before = fields.DateTime(load_default=None, allow_none=True)
    kind = fields.String(load_default=None, allow_none=True)
    unit_id = fields.String(load_default=None, allow_none=True)
    q = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class Complete(Schema):
    data = fields.Dict(required=True)
    version = fields.Integer(load_default=None, allow_none=True,
                             metadata={"description": "instance version read by the client (409 when stale)"})


class Reassign(Schema):
    user_id = fields.Integer(required=True)


class NominationOut(Schema):
    id = fields.String()
    unit_id = fields.String()
    instance_id = fields.String(allow_none=True)
    nominee_kind = fields.String(allow_none=True)
    nominee_name = fields.String(allow_none=True)
    award = fields.String(allow_none=True)
    status = fields.String()
    data = fields.Dict()
    batch_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer(allow_none=True)


class AuditOut(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    kind = fields.String()
    detail = fields.Dict()


class AttachmentOut(Schema):
    id = fields.Integer()
    sha256 = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    uploaded_at = fields.DateTime()


class NominationDetail(NominationOut):
    tasks = fields.List(fields.Nested(TaskOut))
    attachments = fields.List(fields.Nested(AttachmentOut))
    history = fields.List(fields.Nested(AuditOut))


class Created(Schema):
    id = fields.String()


class StepResult(Schema):
    instance_id = fields.String()
    version = fields.Integer()
    status = fields.String()
    opened = fields.List(fields.String())
