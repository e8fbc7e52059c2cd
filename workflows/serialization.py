"""Instance state without its spec.

SpiffWorkflow's serializer embeds the whole process spec in every instance. The spec is stored once
per process version instead, so the workflow converter is replaced by one that leaves the spec out
on the way in and takes the already-parsed spec object on the way out.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .diagrams import ProcessDefinition

# Bump when the shape of the stored state changes; restore() refuses states it does not know.
FORMAT_VERSION = 1


class StateError(ValueError):
    pass


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        definition: ProcessDefinition = dct.pop("definition")
        workflow = self.target_class(definition.spec, definition.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str) -> UUID:
    return UUID(value)


class StateSerializer:
    def __init__(self) -> None:
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = _SpeclessWorkflowConverter
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))

    @property
    def spiff_version(self) -> str:
        return str(self.serializer.VERSION)

    def dump(self, workflow: BpmnWorkflow, definition: ProcessDefinition) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "serializer_version": self.spiff_version,
            "process_id": definition.process_id,
            "checksum": definition.checksum,
            "workflow": self.serializer.to_dict(workflow),
        }

    def load(self, state: dict[str, Any], definition: ProcessDefinition) -> BpmnWorkflow:
        if state.get("format") != FORMAT_VERSION:
            raise StateError(f"unknown state format {state.get('format')!r}")
        if state.get("serializer_version") != self.spiff_version:
            raise StateError(
                f"state written by serializer {state.get('serializer_version')!r}, "
                f"this engine reads {self.spiff_version!r}: migrate it first"
            )
        if state.get("checksum") != definition.checksum:
            raise StateError("state belongs to another version of the diagram")
        workflow_dict = dict(state["workflow"])
        workflow_dict["definition"] = definition
        workflow: BpmnWorkflow = self.serializer.from_dict(workflow_dict)
        return workflow
