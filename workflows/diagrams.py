"""Loading diagrams: safe XML, the BPMN schema, our checks, then SpiffWorkflow's parser."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .contract import ContractCatalog, message_catchers, stages_of
from .diagram_checks import NS, DiagramError, DiagramProblem, ProcessChecker
from .diagram_limits import as_utf8, cap_problems, id_problems
from .forms import FormLibrary
from .safe_xml import UnsafeXmlError, parse_untrusted_xml
from .settings import EngineSettings, RoleCatalog
from .wording import N_, Text

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"


@dataclass(frozen=True)
class HumanTaskSpec:
    task_id: str
    name: str
    role: str
    form: str | None
    ui_form: str | None
    stage: str | None = None  # what the task means to the service (see workflows/contract.py)


@dataclass(frozen=True)
class ProcessDefinition:
    """One executable process of a diagram file, parsed once and shared by all its instances."""

    process_id: str
    name: str
    filename: str
    bpmn: bytes
    checksum: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    human_tasks: dict[str, HumanTaskSpec] = field(default_factory=dict)
    # bpmn id → stage of its user tasks and end events; the service reads these, never the ids.
    stages: dict[str, str] = field(default_factory=dict)
    message_catchers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def stage_of(self, bpmn_id: str | None) -> str | None:
        return self.stages.get(bpmn_id or "")

    def tasks_of_stage(self, stage: str) -> list[HumanTaskSpec]:
        return [t for t in self.human_tasks.values() if t.stage == stage]


class DiagramLoader:
    def __init__(self, roles: RoleCatalog, forms: FormLibrary, settings: EngineSettings,
                 actions: Iterable[str], functions: Iterable[str], messages: Iterable[str] = (),
                 contracts: ContractCatalog | None = None):
        self.roles, self.forms, self.settings = roles, forms, settings
        self.actions, self.functions, self.messages = tuple(actions), tuple(functions), tuple(messages)
        self.contracts = contracts or ContractCatalog.default()

    def load(self, data: bytes, filename: str, stored: bool = False) -> dict[str, ProcessDefinition]:
        """Every executable process in the file, or DiagramError listing every problem found.

        `stored`: a version deployed earlier, loaded to run its instances. It was accepted then, so
        the contract is not re-checked (refusing it now would strand them), and one stored before
        diagrams declared stages gets them from the contract's map of old ids."""
        try:
            tree = parse_untrusted_xml(data, self.settings.max_bpmn_bytes)
        except UnsafeXmlError as exc:
            raise DiagramError([DiagramProblem(filename, "", "", exc.line, str(exc), exc.text.template,
                                               dict(exc.text.params))]) from exc
        problems = cap_problems(tree, filename, self.settings)
        if problems:
            raise DiagramError(problems)  # over a cap: nothing more is read
        problems = id_problems(tree, filename) + self._schema_problems(tree, filename)
        if problems:
            raise DiagramError(problems)
        processes = tree.getroot().findall("bpmn:process", NS)
        if not any(p.get("isExecutable") == "true" for p in processes):
            missing = Text(N_("không có quy trình nào chạy được (isExecutable=\"true\")"))
            raise DiagramError([DiagramProblem(filename, "", "", None, str(missing), missing.template)])
        for process in processes:
            checker = ProcessChecker(process, filename, self.roles, self.forms, self.actions, self.functions,
                                     self.messages)
            problems.extend(checker.run())
            problems.extend([] if stored else self.contracts.check(process, filename, self.forms))
        if problems:
            raise DiagramError(problems)
        return self._parse(tree, as_utf8(tree, data), filename, stored)

    def load_directory(self, directory: Path = BPMN_DIR) -> dict[str, ProcessDefinition]:
        definitions: dict[str, ProcessDefinition] = {}
        for path in sorted(directory.glob("*.bpmn")):
            definitions.update(self.load(path.read_bytes(), path.name))
        return definitions

    def _schema_problems(self, tree: etree._ElementTree, filename: str) -> list[DiagramProblem]:
        VALIDATOR.preprocess(tree)
        schema = VALIDATOR.validator
        if schema.validate(tree):
            return []
        # libxml2 gives a line, not an element: the element with an id on (or around) that line is
        # the one the editor can ring.
        by_line: dict[int, etree._Element] = {}
        for node in tree.iter():
            if isinstance(node.tag, str) and node.sourceline and node.sourceline not in by_line:
                by_line[node.sourceline] = node
        problems = []
        for error in schema.error_log:
            node = by_line.get(error.line)
            owner = next((n for n in ([node, *node.iterancestors()] if node is not None else []) if n.get("id")),
                         None)
            problems.append(DiagramProblem(filename, owner.get("id", "") if owner is not None else "",
                                           owner.get("name", "") if owner is not None else "", error.line,
                                           f"sai lược đồ BPMN (XSD): {error.message}"))
        return problems

    def _parse(self, tree: etree._ElementTree, data: bytes, filename: str,
               stored: bool = False) -> dict[str, ProcessDefinition]:
        parser = SpiffBpmnParser()
        checksum = hashlib.sha256(data).hexdigest()
        try:
            parser.add_bpmn_xml(tree, filename)
            definitions = {}
            for process_id in parser.get_process_ids():
                spec = parser.get_spec(process_id)
                stages = stages_of(spec, self.contracts.get(process_id), stored)
                definitions[process_id] = ProcessDefinition(
                    process_id=process_id,
                    name=spec.description or process_id,
                    filename=filename,
                    bpmn=data,
                    checksum=checksum,
                    spec=spec,
                    subprocess_specs=parser.get_subprocess_specs(process_id),
                    human_tasks=self._human_tasks(spec, stages),
                    stages=stages,
                    message_catchers=message_catchers(spec),
                )
        except ValidationException as exc:
            raise DiagramError([DiagramProblem(filename, getattr(exc, "id", ""), getattr(exc, "name", ""),
                                               _line(exc), str(exc))]) from exc
        except SpiffWorkflowException as exc:
            raise DiagramError([DiagramProblem(filename, "", "", None, str(exc))]) from exc
        return definitions

    def _human_tasks(self, spec: BpmnProcessSpec, stages: dict[str, str]) -> dict[str, HumanTaskSpec]:
        tasks = {}
        for task_spec in spec.task_specs.values():
            if not getattr(task_spec, "manual", False):
                continue
            role = self.roles.role_for_lane(task_spec.lane)
            props: dict[str, Any] = getattr(task_spec, "extensions", {}).get("properties", {})
            tasks[task_spec.bpmn_id] = HumanTaskSpec(
                task_id=task_spec.bpmn_id,
                name=task_spec.bpmn_name or task_spec.bpmn_id,
                role=role.key if role else "",
                form=props.get("formJsonSchemaFilename"),
                ui_form=props.get("formUiSchemaFilename"),
                stage=stages.get(task_spec.bpmn_id),
            )
        return tasks


def _line(exc: ValidationException) -> int | None:
    line = getattr(exc, "line_number", None)
    return line if isinstance(line, int) else None
