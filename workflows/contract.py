"""What the service needs from a diagram, declared in the diagram and checked at upload.

The service never looks at an element's id: which user task is which stage of a nomination, and
which end event means awarded or not, is declared on the element as a spiff extension property
(`<spiffworkflow:property name="stage" value="unit_review"/>`), and config/contracts.toml says,
per process kind, which stages must exist. An admin may rename, move or add elements freely; what
would leave the service blind (a missing or unknown stage, a message the service delivers that
nobody catches) is refused at upload with the element named.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition

from .diagram_checks import NS, DiagramProblem
from .diagram_returns import check_returned_drafts
from .forms import FormError, FormLibrary
from .settings import CONFIG_DIR, SettingsError
from .wording import N_

STAGE = "stage"
STAGED_TYPES = ("userTask", "manualTask", "endEvent")
# Actions whose `task` parameter names a user task of the same diagram (the task reminded or escalated).
TASK_PARAMETER_ACTIONS = ("send_reminder", "escalate")


@dataclass(frozen=True)
class ContractProblem(DiagramProblem):
    """A problem with the contract of its kind of process. Like every DiagramProblem its Vietnamese
    message is `template % params`; its `kind` parameter also has `kind_en`, the contract's own
    English title (data of config/contracts.toml, not of the catalogue)."""


@dataclass(frozen=True)
class ProcessContract:
    kind: str
    title_vi: str
    title_en: str
    task_stages: dict[str, str]  # stage key → title, for user tasks
    end_stages: dict[str, str]  # stage key → title, for end events
    catches: tuple[str, ...] = ()  # message names the service delivers to this process
    actions: tuple[str, ...] = ()  # named actions the process must call
    legacy_stages: dict[str, str] = field(default_factory=dict)  # old element id → stage
    stage_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)  # stage → fields its form must have
    within_unit: bool = False  # its nominations are decided inside their unit: province roles never see them
    # The stage a return leads to: there, a task of its own with a resubmission deadline (workflows/diagram_returns.py).
    returns_to: str | None = None

    def title(self, language: str = "vi") -> str:
        return self.title_en if language == "en" else self.title_vi


@dataclass(frozen=True)
class ContractCatalog:
    processes: dict[str, ProcessContract]

    @classmethod
    def from_toml(cls, path: Path) -> ContractCatalog:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            processes = {
                kind: ProcessContract(
                    kind=kind,
                    title_vi=str(entry["title_vi"]),
                    title_en=str(entry.get("title_en", entry["title_vi"])),
                    task_stages={str(k): str(v) for k, v in entry["task_stages"].items()},
                    end_stages={str(k): str(v) for k, v in entry["end_stages"].items()},
                    catches=tuple(str(m) for m in entry.get("catches", ())),
                    actions=tuple(str(a) for a in entry.get("actions", ())),
                    legacy_stages={str(k): str(v) for k, v in entry.get("legacy_stages", {}).items()},
                    stage_fields={str(k): tuple(str(f) for f in v) for k, v in entry.get("stage_fields", {}).items()},
                    within_unit=bool(entry.get("within_unit", False)),
                    returns_to=str(entry["returns_to"]) if entry.get("returns_to") else None,
                )
                for kind, entry in raw.get("processes", {}).items()
            }
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise SettingsError(f"{path}: {exc}") from exc
        for contract in processes.values():
            known = set(contract.task_stages) | set(contract.end_stages)
            wrong = sorted(set(contract.legacy_stages.values()) - known)
            if wrong:
                raise SettingsError(f"{path}: {contract.kind}: legacy_stages names unknown stages {wrong}")
            if contract.returns_to is not None and contract.returns_to not in contract.task_stages:
                raise SettingsError(f"{path}: {contract.kind}: returns_to names unknown stage {contract.returns_to!r}")
        return cls(processes)

    @classmethod
    def default(cls) -> ContractCatalog:
        return cls.from_toml(CONFIG_DIR / "contracts.toml")

    def get(self, process_id: str) -> ProcessContract | None:
        return self.processes.get(process_id)

    def check(self, process: etree._Element, filename: str, forms: FormLibrary | None = None) -> list[DiagramProblem]:
        return ContractChecker(process, filename, self.get(process.get("id", "")), forms).run()


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _properties(node: etree._Element) -> list[tuple[str, str]]:
    return [(prop.get("name") or "", (prop.get("value") or "").strip()) for prop in
            node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)]


def _stage_of(node: etree._Element) -> str | None:
    """The declared stage; an empty value declares none (as the editor's "—" does)."""
    values = [value for name, value in _properties(node) if name == STAGE]
    return values[0] if values and values[0] else None


class ContractChecker:
    """Checks one bpmn:process element against its kind's contract; collects every problem."""

    def __init__(self, process: etree._Element, filename: str, contract: ProcessContract | None,
                 forms: FormLibrary | None = None):
        self.process, self.filename, self.contract, self.forms = process, filename, contract, forms
        self.problems: list[DiagramProblem] = []

    def problem(self, node: etree._Element, template: str, **params: Any) -> None:
        if self.contract is not None:  # the kind in the reader's language (the service picks one)
            params = {"kind": self.contract.title_vi, "kind_en": self.contract.title_en, **params}
        self.problems.append(ContractProblem(
            self.filename, node.get("id", ""), node.get("name", ""), node.sourceline, template % params,
            template=template, params=params))

    def run(self) -> list[DiagramProblem]:
        declared: dict[str, list[etree._Element]] = {}
        user_tasks: dict[str, etree._Element] = {}
        for node in self.process.iter():
            if not isinstance(node.tag, str) or node.get("id") is None:
                continue
            kind = _local(node)
            if kind in ("userTask", "manualTask"):
                user_tasks[node.get("id", "")] = node
            if sum(name == STAGE for name, _ in _properties(node)) > 1:
                self.problem(node, N_("%(element)s khai báo giai đoạn nhiều lần; mỗi phần tử chỉ một giai đoạn"),
                             element=node.get("id"))
                continue
            stage = _stage_of(node)
            if stage is None:
                if kind in ("userTask", "manualTask") and self.contract is not None:
                    self.problem(node, N_("nhiệm vụ %(element)s chưa khai báo giai đoạn (thuộc tính stage); các "
                                          "giai đoạn của %(kind)s: %(known)s"),
                                 element=node.get("id"), known=", ".join(self.contract.task_stages))
                continue
            if kind not in STAGED_TYPES:
                self.problem(node, N_("chỉ nhiệm vụ người dùng và sự kiện kết thúc mới khai báo giai đoạn; "
                                      "%(element)s khai báo giai đoạn %(stage)s"), element=node.get("id"), stage=stage)
                continue
            if self.contract is None:
                self.problem(node, N_("quy trình %(process)s không có giai đoạn nào trong config/contracts.toml; "
                                      "%(element)s khai báo giai đoạn %(stage)s không tồn tại"),
                             process=self.process.get("id"), element=node.get("id"), stage=stage)
                continue
            if kind == "endEvent" and stage not in self.contract.end_stages:
                self.problem(node, N_("sự kiện kết thúc %(element)s khai báo giai đoạn %(stage)s không tồn tại; "
                                      "các giai đoạn kết thúc của %(kind)s: %(known)s"),
                             element=node.get("id"), stage=stage, known=", ".join(self.contract.end_stages))
                continue
            if kind != "endEvent" and stage not in self.contract.task_stages:
                self.problem(node, N_("nhiệm vụ %(element)s khai báo giai đoạn %(stage)s không tồn tại; các giai "
                                      "đoạn của %(kind)s: %(known)s"),
                             element=node.get("id"), stage=stage, known=", ".join(self.contract.task_stages))
                continue
            declared.setdefault(stage, []).append(node)
            self.check_form_fields(node, stage)
        if self.contract is not None:
            self.check_required(declared)
            self.check_catches()
            self.check_actions()
        self.check_task_parameters(user_tasks)
        check_returned_drafts(self.process, _stage_of, self.contract.returns_to if self.contract else None,
                              self.problem)
        return self.problems

    def check_form_fields(self, node: etree._Element, stage: str) -> None:
        """The service reads some fields of a stage's form (the draft's dossier, the batch's nominations)."""
        assert self.contract is not None
        needed = self.contract.stage_fields.get(stage, ())
        schema_file = dict(_properties(node)).get("formJsonSchemaFilename")
        if not needed or self.forms is None or not schema_file:
            return  # a missing form is reported by the engine's own checks
        try:
            form = self.forms.get(schema_file)
        except FormError:
            return  # reported by the engine's own checks
        present = set(form.schema.get("properties", {}))
        missing = [f for f in needed if f not in present]
        if missing:
            self.problem(node, N_("biểu mẫu %(form)s của %(element)s (giai đoạn %(stage)s) thiếu các trường dịch vụ "
                                  "cần: %(missing)s"), form=schema_file, element=node.get("id"), stage=stage,
                         missing=", ".join(missing))

    def check_required(self, declared: Mapping[str, list[etree._Element]]) -> None:
        assert self.contract is not None
        missing = [s for s in (*self.contract.task_stages, *self.contract.end_stages) if s not in declared]
        if missing:
            self.problem(self.process, N_("sơ đồ này dùng cho %(kind)s nên phải khai báo các giai đoạn %(missing)s "
                                          "(thuộc tính stage trên nhiệm vụ người dùng hoặc sự kiện kết thúc)"),
                         missing=", ".join(missing))

    def check_catches(self) -> None:
        assert self.contract is not None
        root = self.process.getroottree().getroot()
        names = {m.get("id"): m.get("name") or m.get("id") for m in root.iterfind("bpmn:message", NS)}
        caught = {names.get(d.get("messageRef")) for d in self.process.iterfind(".//bpmn:messageEventDefinition", NS)
                  if _local(d.getparent()) in ("intermediateCatchEvent", "boundaryEvent", "startEvent")}
        caught |= {names.get(t.get("messageRef")) for t in self.process.iterfind(".//bpmn:receiveTask", NS)}
        missing = [m for m in self.contract.catches if m not in caught]
        if missing:
            self.problem(self.process, N_("sơ đồ này dùng cho %(kind)s nên phải có sự kiện chờ thông điệp "
                                          "%(missing)s (dịch vụ gửi thông điệp này tới quy trình)"),
                         missing=", ".join(missing))

    def check_actions(self) -> None:
        assert self.contract is not None
        called = {op.get("id") for op in self.process.iterfind(".//spiffworkflow:serviceTaskOperator", NS)}
        missing = [a for a in self.contract.actions if a not in called]
        if missing:
            self.problem(self.process, N_("sơ đồ này dùng cho %(kind)s nên phải gọi hành động %(missing)s "
                                          "trong một service task"), missing=", ".join(missing))

    def check_task_parameters(self, user_tasks: Mapping[str, etree._Element]) -> None:
        """A reminder or an escalation names the task it is about; after a rename it must still exist."""
        for op in self.process.iterfind(".//spiffworkflow:serviceTaskOperator", NS):
            if op.get("id") not in TASK_PARAMETER_ACTIONS:
                continue
            for param in op.iterfind(".//spiffworkflow:parameter", NS):
                if param.get("id") != "task":
                    continue
                named = _string_literal(param.get("value") or "")
                if named is not None and named not in user_tasks:
                    task = op.getparent().getparent()
                    self.problem(task, N_("tham số task của %(element)s trỏ tới nhiệm vụ %(named)s không có trong "
                                          "sơ đồ; hãy ghi mã của nhiệm vụ người dùng được nhắc"),
                                 element=task.get("id"), named=named)


def _string_literal(value: str) -> str | None:
    if len(value) > 300:
        return None  # not a task id; the expression checks say what is wrong with it
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return parsed if isinstance(parsed, str) else None


def stages_of(spec: BpmnProcessSpec, contract: ProcessContract | None, stored: bool = False) -> dict[str, str]:
    """bpmn id → stage of the user tasks and end events of a parsed process, from their properties.

    A version stored before diagrams declared stages has none at all: its stages come from the
    contract's map of old ids (only for stored versions; an upload must declare them)."""
    stages = {}
    for task_spec in spec.task_specs.values():
        props: dict[str, Any] = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
        stage = props.get(STAGE)
        if stage and task_spec.bpmn_id:
            stages[task_spec.bpmn_id] = str(stage).strip()
    if not stages and stored and contract is not None:
        present = {t.bpmn_id for t in spec.task_specs.values() if t.bpmn_id}
        stages = {i: s for i, s in contract.legacy_stages.items() if i in present}
    return stages


def message_catchers(spec: BpmnProcessSpec) -> dict[str, tuple[str, ...]]:
    """Message name → bpmn ids of the elements that wait for it (to show where an instance waits)."""
    found: dict[str, list[str]] = {}
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(definition, MessageEventDefinition) and task_spec.bpmn_id:
            found.setdefault(definition.name, []).append(task_spec.bpmn_id)
    return {name: tuple(ids) for name, ids in found.items()}


def ids_with_stage(stages: Mapping[str, str], wanted: Iterable[str]) -> list[str]:
    wanted = set(wanted)
    return [bpmn_id for bpmn_id, stage in stages.items() if stage in wanted]


# The process kinds the service starts: their ids are the deployment keys of config/contracts.toml.
NOMINATION = "nomination"  # a nomination whose award kind names no process of its own
UNIT_AWARD = "unit_award"
AWARD_DECISION = "award_decision"
# The stages the service itself acts on beyond showing them (config/contracts.toml lists them).
DRAFT = "draft"  # nomination: the unit edits its dossier here
BATCH_PREPARATION = "batch_preparation"  # award_decision: the batch's nominations are chosen here
DECISION_SIGNING = "decision_signing"  # award_decision: the Chairman signs, only with a digital signature
COUNCIL_REVIEW = "council_review"  # unit_award: the unit's council meets; its minutes are uploaded here
UNIT_DECISION_SIGNING = "unit_decision_signing"  # unit_award: the unit head signs, only with a digital signature
SIGNED = "signed"  # award_decision: the end where the decision was signed
