"""marshmallow schemas of the diagram administration API (/api/v1/admin/processes)."""

from __future__ import annotations

from marshmallow import Schema, fields

from service.api.fields import BoundedList, Int, Line, Localized, Text


class ProcessSummary(Schema):
    process_id = fields.String()
    name = fields.String()
    checksum = fields.String()
    human_tasks = fields.List(fields.Dict())
    stages = fields.Dict(keys=fields.String(), values=fields.String(),
                         metadata={"description": "element id → stage it declares (config/contracts.toml)"})


class ValidationOut(Schema):
    valid = fields.Boolean()
    processes = fields.List(fields.Nested(ProcessSummary))


class DiagramFileInfo(Schema):
    """What a stored version and a draft both are: one .bpmn file of a process."""
    id = fields.Integer()
    process_id = fields.String()
    name = fields.String()
    filename = fields.String()
    checksum = fields.String()
    note = fields.String()
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)


class VersionInfo(DiagramFileInfo):
    version = fields.Integer()
    active = fields.Boolean()
    running_instances = fields.Integer(allow_none=True)


class DraftInfo(DiagramFileInfo):
    base_version = fields.Integer(allow_none=True)
    status = fields.String()
    revision = fields.Integer(metadata={"description": "send back as If-Match: \"draft-<id>-r<revision>\""})
    updated_at = fields.DateTime()
    updated_by = fields.String(allow_none=True)


class IncidentInfo(Schema):
    instance_id = fields.String()
    process_id = fields.String()
    version = fields.Integer()
    error = fields.String()
    at = fields.DateTime()
    nomination_id = fields.String(allow_none=True)
    batch_id = fields.String(allow_none=True)


class RetryOut(Schema):
    instance_id = fields.String()
    status = fields.String()
    opened = fields.List(fields.String())


class ProcessOverview(Schema):
    process_id = fields.String()
    name = fields.String()
    active_version = fields.Integer(allow_none=True)
    versions = fields.List(fields.Nested(VersionInfo))
    drafts = fields.List(fields.Nested(DraftInfo))


class DeployIn(Schema):
    note = Text(load_default=None, allow_none=True, max_length=2000)
    revision = Int(load_default=None, allow_none=True,
                   metadata={"description": "draft revision the admin reviewed (409 when stale)"})


class DiffQuery(Schema):
    from_ = Line(required=True, data_key="from", min_length=1, max_length=40,
                 metadata={"description": "version number, or draft-<id>"})
    to = Line(required=True, min_length=1, max_length=40)


class ElementOut(Schema):
    id = fields.String()
    name = fields.String()
    type = fields.String()
    attributes = fields.List(fields.String())
    before = fields.Dict()
    after = fields.Dict()


class DiffOut(Schema):
    process_id = fields.String()
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    added = fields.List(fields.Nested(ElementOut))
    removed = fields.List(fields.Nested(ElementOut))
    changed = fields.List(fields.Nested(ElementOut))


class MigrationIn(Schema):
    to_version = Int(required=True, minimum=1)
    instance_ids = BoundedList(Line(min_length=1, max_length=36), load_default=None, allow_none=True,
                               metadata={"description": "default for a dry run: every running instance on an "
                                                        "older version"})


class TaskChangeOut(Schema):
    element_id = fields.String()
    name = fields.String()
    state = fields.String(metadata={"description": "completed | started | error | ready | waiting | cancelled "
                                                   "| planned"})
    change = fields.String(metadata={"description": "changed | removed"})
    attributes = fields.List(fields.String())
    blocking = fields.Boolean()
    reason = Localized()


class DueOut(Schema):
    task_uuid = fields.String()
    task_id = fields.String()
    name = fields.String()
    due_before = fields.DateTime(allow_none=True)
    due_after = fields.DateTime(allow_none=True)
    overdue_after = fields.Boolean()


class MigrationOut(Schema):
    instance_id = fields.String()
    nomination_id = fields.String(allow_none=True)
    batch_id = fields.String(allow_none=True)
    from_version = fields.Integer(allow_none=True)
    to_version = fields.Integer()
    safe = fields.Boolean()
    migrated = fields.Boolean()
    reasons = fields.List(Localized())
    changes = fields.List(fields.Nested(TaskChangeOut))
    open_tasks = fields.List(fields.Nested(DueOut))
    next_wake_before = fields.DateTime(allow_none=True)
    next_wake_after = fields.DateTime(allow_none=True)
