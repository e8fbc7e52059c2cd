"""marshmallow schemas of the REST API (also the OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.db.models import UNIT_KINDS


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
    stage = fields.String(allow_none=True)  # what the task is to the service, as its diagram declares
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


class Problem(Schema):
    """RFC 9457 problem details, with one entry per offending field."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(fields.Dict(), metadata={"description": "[{field, message}]"})


class BatchNomination(Schema):
    id = fields.String()
    nominee_name = fields.String(allow_none=True)
    nominee_kind = fields.String(allow_none=True)
    award = fields.String(allow_none=True)
    unit_id = fields.String()
    unit_name = fields.String()
    status = fields.String()


class BatchOut(Schema):
    id = fields.String()
    instance_id = fields.String()
    title = fields.String(allow_none=True)
    status = fields.String()
    decision_number = fields.String(allow_none=True)
    created_by = fields.Integer()
    created_at = fields.DateTime()
    nomination_count = fields.Integer()


class BatchDetail(BatchOut):
    version = fields.Integer(allow_none=True)
    nominations = fields.List(fields.Nested(BatchNomination))
    tasks = fields.List(fields.Nested(TaskOut))
    history = fields.List(fields.Nested(AuditOut))


class BatchQuery(Schema):
    status = fields.String(load_default=None, allow_none=True)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class AuditQuery(Schema):
    nomination_id = fields.String(load_default=None, allow_none=True)
    instance_id = fields.String(load_default=None, allow_none=True)
    kind = fields.String(load_default=None, allow_none=True)
    security = fields.Boolean(load_default=False, metadata={"description": "security events only"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class AuditEntryOut(AuditOut):
    nomination_id = fields.String(allow_none=True)
    instance_id = fields.String(allow_none=True)


class Grant(Schema):
    role = fields.String()
    unit_id = fields.String(allow_none=True)


class MeOut(Schema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    email = fields.String()
    language = fields.String()
    roles = fields.List(fields.Nested(Grant), metadata={"description": "the user's own role assignments"})
    acting_roles = fields.List(fields.Nested(Grant),
                               metadata={"description": "own roles plus those of people this user stands in for"})
    units = fields.List(fields.String())
    acting_for = fields.List(fields.Integer())


class TokenCreate(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    expires_in_days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1),
                                     metadata={"description": "default and maximum set by the service "
                                                              "(NOMFLOW_TOKEN_DAYS, NOMFLOW_TOKEN_MAX_DAYS)"})


class TokenOut(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime()
    revoked = fields.Boolean()


class TokenCreated(TokenOut):
    token = fields.String(metadata={"description": "shown once; only its hash is stored"})


class UnitIn(Schema):
    id = fields.String(required=True, validate=[validate.Length(min=2, max=64),
                                                validate.Regexp(r"^[a-z0-9][a-z0-9-]*$")])
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))
    email = fields.Email(load_default=None, allow_none=True)


class UnitOut(Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    email = fields.String(allow_none=True)


class RoleGrant(Schema):
    role = fields.String(required=True, validate=validate.Length(min=1, max=40))
    unit_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))


class UserCreate(RoleGrant):
    username = fields.String(required=True, validate=[validate.Length(min=3, max=80),
                                                      validate.Regexp(r"^[A-Za-z0-9._-]+$")])
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True)
    language = fields.String(load_default="vi", validate=validate.OneOf(["vi", "en"]))


class UserOut(Schema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    email = fields.String()
    language = fields.String()
    active = fields.Boolean()
    locked_until = fields.DateTime(allow_none=True)
    roles = fields.List(fields.Nested(Grant))


class UserCreated(UserOut):
    password = fields.String(metadata={"description": "generated; shown once"})


class SubstituteIn(Schema):
    absent_id = fields.Integer(required=True)
    substitute_id = fields.Integer(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class SubstituteOut(Schema):
    id = fields.Integer()
    absent_id = fields.Integer()
    substitute_id = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date()
    status = fields.String(metadata={"description": "pending | scheduled | active | expired | ended"})
    created_by = fields.Integer(allow_none=True)
    approved_by = fields.Integer(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    ended_by = fields.Integer(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)


class LockIn(Schema):
    until = fields.AwareDateTime(load_default=None, allow_none=True,
                                 metadata={"description": "default: until an admin unlocks"})


class IdOut(Schema):
    id = fields.Integer()
