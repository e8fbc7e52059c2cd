"""Our own checks on a diagram's XML, beyond the BPMN schema. They evaluate nothing."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .diagram_graph import FLOW_NODES, check_reachability, check_return_loops
from .diagram_timers import timer_problems, working_days_problems
from .expressions import ExpressionError, check_expression, parse_expression
from .forms import Form, FormError, FormLibrary
from .settings import RoleCatalog

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
RESERVED_IDS = {"Start", "End", "Root"}
# Names the engine itself puts into every instance's data.
ENGINE_NAMES = {"nomination_id", "unit_id", "return_count", "max_returns", "process_id"}
# What the service puts in the start data of a reporting round's instances (ISO instants), so that
# a diagram's timers can wait for the round's own dates rather than a count from the task's opening.
ROUND_NAMES = {"due_at", "remind_at"}
# The role that administers the service. A lane of it would put nominations in the inbox of the
# people who edit diagrams and accounts: they administer, they are not a desk of the procedure.
ADMIN_ROLE = "admin"
SUBPROCESSES = ("subProcess", "transaction", "adHocSubProcess")
MESSAGE_THROWS = ("intermediateThrowEvent", "endEvent")
# Expressions the engine evaluates, besides timers and service-task parameters: (where, what it is).
EXPRESSIONS = (
    (".//bpmn:sequenceFlow/bpmn:conditionExpression", "điều kiện"),
    (".//bpmn:conditionalEventDefinition/bpmn:condition", "điều kiện"),
    (".//spiffworkflow:messagePayload", "nội dung message (messagePayload)"),
    (".//spiffworkflow:processVariableCorrelation/spiffworkflow:expression", "biểu thức tương quan (correlation)"),
    (".//bpmn:loopCardinality", "số lần lặp (loopCardinality)"),
    (".//bpmn:completionCondition", "điều kiện dừng (completionCondition)"),
    (".//bpmn:loopCondition", "điều kiện lặp (loopCondition)"),
)


@dataclass(frozen=True)
class DiagramProblem:
    file: str
    element_id: str
    element_name: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        element = f" [{self.element_id}]" if self.element_id else ""
        name = f" «{self.element_name}»" if self.element_name else ""
        return f"{where}{element}{name}: {self.message}"


class DiagramError(ValueError):
    def __init__(self, problems: list[DiagramProblem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


class ProcessChecker:
    """Checks one bpmn:process element; collects problems instead of stopping at the first."""

    def __init__(self, process: etree._Element, filename: str, roles: RoleCatalog, forms: FormLibrary,
                 actions: Iterable[str], functions: Iterable[str], messages: Iterable[str] = ()):
        self.process, self.filename, self.roles, self.forms = process, filename, roles, forms
        self.actions, self.functions, self.messages = set(actions), set(functions), set(messages)
        self.problems: list[DiagramProblem] = []
        self.nodes = {n.get("id"): n for n in process.iter() if n.get("id")}
        self.lanes = {
            ref.text.strip(): lane.get("name", "")
            for lane in process.iterfind(".//bpmn:lane", NS)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS) if ref.text
        }
        self.flows = process.findall(".//bpmn:sequenceFlow", NS)
        self.leaving: dict[str, list[etree._Element]] = {}
        self.incoming: dict[str, list[str]] = {}
        for flow in self.flows:
            self.leaving.setdefault(flow.get("sourceRef"), []).append(flow)
            self.incoming.setdefault(flow.get("targetRef"), []).append(flow.get("sourceRef"))
        self.task_forms: dict[str, Form] = {}

    def problem(self, node: etree._Element | None, message: str) -> None:
        self.problems.append(DiagramProblem(
            self.filename,
            node.get("id", "") if node is not None else "",
            node.get("name", "") if node is not None else "",
            node.sourceline if node is not None else None,
            message,
        ))

    def xpath(self, expr: str) -> list[Any]:
        return self.process.xpath(expr, namespaces=NS)

    def run(self) -> list[DiagramProblem]:
        self.check_forbidden()
        self.check_user_tasks()
        known = self.known_names()
        self.check_service_tasks(known)
        self.check_messages()
        self.check_timers()
        self.check_expressions(known)
        self.check_gateway_coverage()
        check_return_loops(self)
        check_reachability(self)
        return self.problems

    def check_forbidden(self) -> None:
        for node in self.process.iter():
            if not isinstance(node.tag, str):
                continue
            if node.get("id") in RESERVED_IDS:
                self.problem(node, f"mã phần tử '{node.get('id')}' bị dành riêng, hãy đổi tên (reserved id)")
            name = _local(node)
            if name == "scriptTask":
                self.problem(node, "không cho phép script task: sơ đồ là dữ liệu, không phải mã "
                                   "(script tasks are refused)")
            elif name in ("preScript", "postScript") and (node.text or "").strip():
                self.problem(node.getparent().getparent(), f"không cho phép {name} (scripts are refused)")
            elif name == "callActivity":
                self.problem(node, "chưa hỗ trợ call activity (call activities are not supported)")
            elif name in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
                # Loops of this kind would escape the bounded-return rule; no shipped diagram needs them.
                self.problem(node.getparent(), "không hỗ trợ nhiệm vụ lặp (loop and multi-instance tasks are "
                                               "not supported)")
            elif name in ("userTask", "manualTask") and _inside_subprocess(node):
                # The inbox, the lanes and the task forms are those of the process itself: a human task
                # one level down would open with no role to see it and no form to complete it.
                self.problem(node, "nhiệm vụ của người dùng không được nằm trong tiểu quy trình nhúng; hãy đặt "
                                   "nó ở quy trình chính, nơi lane quyết định vai trò (human tasks inside an "
                                   "embedded subprocess are not supported)")
            elif name == "sendTask" or (name in MESSAGE_THROWS and node.find("bpmn:messageEventDefinition", NS)
                                        is not None):
                self.problem(node, "không hỗ trợ gửi message từ sơ đồ: không có gì nhận nó; hãy dùng service "
                                   "task 'send_decision' (send tasks and message throws are not supported)")

    def check_user_tasks(self) -> None:
        for task in self.xpath(".//bpmn:userTask | .//bpmn:manualTask"):
            manual = _local(task) == "manualTask"
            kind, kind_en = ("nhiệm vụ thủ công", "manual task") if manual else ("nhiệm vụ", "user task")
            lane = self.lanes.get(task.get("id"))
            role = self.roles.role_for_lane(lane)
            if lane is None:
                self.problem(task, f"{kind} không nằm trong lane nào ({kind_en} outside a lane)")
            elif role is None or role.key == ADMIN_ROLE:
                allowed = ", ".join(f"«{r.title_vi}» ({r.key})" for r in self.roles.roles.values()
                                    if r.key != ADMIN_ROLE)
                why = ("là quản trị hệ thống: quản trị viên quản lý sơ đồ và tài khoản, không xử lý hồ sơ "
                       "(admin is not a desk)") if role else "không phải là vai trò đã khai báo (lane is not a role)"
                self.problem(task, f"lane «{lane}» {why}; các lane được phép: {allowed}")
            if manual:
                continue
            props = {p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)}
            schema_file = props.get("formJsonSchemaFilename")
            if not schema_file:
                self.problem(task, "thiếu biểu mẫu formJsonSchemaFilename (missing form)")
                continue
            try:
                self.task_forms[task.get("id")] = self.forms.get(schema_file, props.get("formUiSchemaFilename"))
            except FormError as exc:
                self.problem(task, f"biểu mẫu không hợp lệ (invalid form) {schema_file}: {exc}")

    def known_names(self) -> set[str]:
        names = set(ENGINE_NAMES)
        for form in self.task_forms.values():
            names.update(form.fields())
        for op in self.xpath(".//spiffworkflow:serviceTaskOperator[@resultVariable]"):
            names.add(op.get("resultVariable"))
        root = self.process.getroottree()
        for var in root.iterfind(".//spiffworkflow:messageVariable", NS):
            if var.text:
                names.add(var.text.strip())
        return names

    def check_service_tasks(self, known: set[str]) -> None:
        for task in self.xpath(".//bpmn:serviceTask"):
            operator = task.find(".//spiffworkflow:serviceTaskOperator", NS)
            if operator is None:
                self.problem(task, "service task thiếu serviceTaskOperator (no action named)")
                continue
            if operator.get("id") not in self.actions:
                allowed = ", ".join(sorted(self.actions))
                self.problem(task, f"hành động '{operator.get('id')}' không có trong danh sách: {allowed} "
                                   "(unknown action)")
            for param in operator.iterfind(".//spiffworkflow:parameter", NS):
                value = param.get("value", "")
                for message in check_expression(value, known, self.functions) or working_days_problems(value):
                    self.problem(task, f"tham số '{param.get('id')}': {message}")

    def check_messages(self) -> None:
        """A catch waits for a message by name; only names the service delivers ever arrive."""
        root = self.process.getroottree().getroot()
        names = {m.get("id"): m.get("name") for m in root.iterfind(".//bpmn:message", NS)}
        waits = [(d.getparent(), d.get("messageRef")) for d in self.xpath(".//bpmn:messageEventDefinition")
                 if _local(d.getparent()) not in MESSAGE_THROWS]
        waits += [(task, task.get("messageRef")) for task in self.xpath(".//bpmn:receiveTask")]
        delivered = ", ".join(sorted(self.messages)) or "-"
        for node, ref in waits:
            name = names.get(ref)
            if name not in self.messages:
                self.problem(node, f"chờ message '{name or ref or ''}' mà dịch vụ không bao giờ gửi; các message "
                                   f"được gửi: {delivered} (the service never delivers this message)")

    def check_timers(self) -> None:
        for timer in self.xpath(".//bpmn:timerEventDefinition/*"):
            event = timer.getparent().getparent()
            expression = (timer.text or "").strip()
            problems = check_expression(expression, ROUND_NAMES, self.functions)
            if not problems:
                problems = timer_problems(expression, _local(timer)) + working_days_problems(expression)
            for message in problems:
                self.problem(event, f"biểu thức hẹn giờ (timer) '{expression[:200]}': {message}")

    def check_expressions(self, known: set[str]) -> None:
        """Every other place the engine evaluates an expression: the same names, the same limits."""
        for path, label in EXPRESSIONS:
            for node in self.xpath(path):
                owner = _owner(node)
                expression = (node.text or "").strip()
                problems = check_expression(expression, known, self.functions)
                if not problems:
                    problems = working_days_problems(expression)
                for message in problems:
                    self.problem(owner, f"{label} '{expression[:200]}': {message}")

    def check_gateway_coverage(self) -> None:
        for gateway in self.xpath(".//bpmn:exclusiveGateway | .//bpmn:inclusiveGateway"):
            outgoing = self.leaving.get(gateway.get("id"), [])
            if len(outgoing) < 2 or gateway.get("default"):
                continue
            covered: dict[str, set[str]] = {}
            for flow in outgoing:
                condition = flow.find("bpmn:conditionExpression", NS)
                simple = _simple_choice(condition.text or "") if condition is not None else None
                if condition is None:
                    self.problem(flow, "luồng rời cổng không có điều kiện và cổng không có luồng mặc định")
                elif simple is None:
                    self.problem(gateway, "cổng không có luồng mặc định phải so sánh một trường của biểu mẫu "
                                          "với các lựa chọn (add a default flow)")
                    return
                else:
                    covered.setdefault(simple[0], set()).update(simple[1])
            if len(covered) != 1:
                if covered:
                    self.problem(gateway, "cổng không có luồng mặc định phải xét một trường duy nhất "
                                          "(add a default flow)")
                continue
            field, values = next(iter(covered.items()))
            choices = self._choices(field, gateway.get("id"))
            if choices is None:
                self.problem(gateway, f"trường '{field}' không có danh sách lựa chọn trong biểu mẫu nào; "
                                      "thêm luồng mặc định (add a default flow)")
            elif missing := sorted(set(choices) - values):
                self.problem(gateway, f"các lựa chọn {missing} của trường '{field}' không có luồng đi tiếp "
                                      "(conditions do not cover the form's choices; add them or a default flow)")

    def _choices(self, field: str, gateway_id: str) -> list[str] | None:
        """The field's choices in the form of the nearest user task upstream; any form as a fallback."""
        upstream = [self.task_forms[t] for t in self._feeding_user_tasks(gateway_id) if t in self.task_forms]
        for form in upstream + list(self.task_forms.values()):
            if field in form.fields() and (choices := form.choices(field)):
                return choices
        return None

    def _feeding_user_tasks(self, node_id: str) -> list[str]:
        incoming = self.incoming
        found, seen, queue = [], {node_id}, deque(incoming.get(node_id, []))
        while queue:
            current = queue.popleft()
            if current in seen:
                continue
            seen.add(current)
            if current in self.task_forms:
                found.append(current)
            else:
                queue.extend(incoming.get(current, []))
        return found


def _local_of(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _inside_subprocess(node: etree._Element) -> bool:
    return any(_local_of(a) in SUBPROCESSES for a in node.iterancestors())


def _owner(node: etree._Element) -> etree._Element:
    """The flow element (or sequence flow) an expression belongs to, for the editor to ring."""
    for candidate in (node, *node.iterancestors()):
        if _local_of(candidate) in FLOW_NODES or _local_of(candidate) == "sequenceFlow":
            return candidate
    return node


def _simple_choice(expression: str) -> tuple[str, set[str]] | None:
    """`field == "x"` or `field in ("x", "y")` → (field, {values}); anything else → None."""
    try:
        node = parse_expression(expression).body
    except ExpressionError:
        return None
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.left, ast.Name)):
        return None
    op, right = node.ops[0], node.comparators[0]
    if isinstance(op, ast.Eq) and isinstance(right, ast.Constant) and isinstance(right.value, str):
        return node.left.id, {right.value}
    if isinstance(op, ast.In) and isinstance(right, ast.Tuple | ast.List | ast.Set):
        values = [e.value for e in right.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        if len(values) == len(right.elts):
            return node.left.id, set(values)
    return None
