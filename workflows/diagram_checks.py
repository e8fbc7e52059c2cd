"""Our own checks on a diagram's XML, beyond the BPMN schema. They evaluate nothing."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .diagram_graph import FLOW_NODES, check_reachability, check_return_loops
from .diagram_timers import timer_problems, working_days_problems
from .expressions import ExpressionError, check_expression, parse_expression
from .forms import Form, FormError, FormLibrary
from .settings import RoleCatalog
from .wording import N_, Text, text

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
    (".//bpmn:sequenceFlow/bpmn:conditionExpression", N_("điều kiện")),
    (".//bpmn:conditionalEventDefinition/bpmn:condition", N_("điều kiện")),
    (".//spiffworkflow:messagePayload", N_("nội dung message (messagePayload)")),
    (".//spiffworkflow:processVariableCorrelation/spiffworkflow:expression", N_("biểu thức tương quan (correlation)")),
    (".//bpmn:loopCardinality", N_("số lần lặp (loopCardinality)")),
    (".//bpmn:completionCondition", N_("điều kiện dừng (completionCondition)")),
    (".//bpmn:loopCondition", N_("điều kiện lặp (loopCondition)")),
)


@dataclass(frozen=True)
class DiagramProblem:
    file: str
    element_id: str
    element_name: str
    line: int | None
    message: str  # Vietnamese, for logs and the command line
    # The message as its catalogue template and parameters, for the service to render in the
    # reader's language (see workflows/wording.py); empty for a message with no template.
    template: str = ""
    params: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def text(self) -> Text:
        return Text(self.template, self.params) if self.template else Text(self.message)

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

    def problem(self, node: etree._Element | None, message: Text) -> None:
        self.problems.append(DiagramProblem(
            self.filename,
            node.get("id", "") if node is not None else "",
            node.get("name", "") if node is not None else "",
            node.sourceline if node is not None else None,
            str(message), message.template, dict(message.params),
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
                self.problem(node, text(N_("mã phần tử '%(id)s' bị dành riêng, hãy đổi tên"), id=node.get("id")))
            name = _local(node)
            if name == "scriptTask":
                self.problem(node, text(N_("không cho phép script task: sơ đồ là dữ liệu, không phải mã")))
            elif name in ("preScript", "postScript") and (node.text or "").strip():
                self.problem(node.getparent().getparent(), text(N_("không cho phép %(what)s: sơ đồ là dữ liệu, "
                                                                   "không phải mã"), what=name))
            elif name == "callActivity":
                self.problem(node, text(N_("chưa hỗ trợ call activity")))
            elif name in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
                # Loops of this kind would escape the bounded-return rule; no shipped diagram needs them.
                self.problem(node.getparent(), text(N_("không hỗ trợ nhiệm vụ lặp")))
            elif name in ("userTask", "manualTask") and _inside_subprocess(node):
                # The inbox, the lanes and the task forms are those of the process itself: a human task
                # one level down would open with no role to see it and no form to complete it.
                self.problem(node, text(N_("nhiệm vụ của người dùng không được nằm trong tiểu quy trình nhúng; "
                                           "hãy đặt nó ở quy trình chính, nơi lane quyết định vai trò")))
            elif name == "sendTask" or (name in MESSAGE_THROWS and node.find("bpmn:messageEventDefinition", NS)
                                        is not None):
                self.problem(node, text(N_("không hỗ trợ gửi message từ sơ đồ: không có gì nhận nó; hãy dùng "
                                           "service task 'send_decision'")))

    def check_user_tasks(self) -> None:
        for task in self.xpath(".//bpmn:userTask | .//bpmn:manualTask"):
            manual = _local(task) == "manualTask"
            lane = self.lanes.get(task.get("id"))
            role = self.roles.role_for_lane(lane)
            if lane is None:
                self.problem(task, text(N_("nhiệm vụ thủ công không nằm trong lane nào") if manual
                                        else N_("nhiệm vụ không nằm trong lane nào")))
            elif role is None or role.key == ADMIN_ROLE:
                # The lanes are named by the roles' Vietnamese titles (the diagram's own language).
                allowed = ", ".join(f"«{r.title_vi}» ({r.key})" for r in self.roles.roles.values()
                                    if r.key != ADMIN_ROLE)
                self.problem(task, text(N_("lane «%(lane)s» là quản trị hệ thống: quản trị viên quản lý sơ đồ và "
                                           "tài khoản, không xử lý hồ sơ; các lane được phép: %(allowed)s") if role
                                        else N_("lane «%(lane)s» không phải là vai trò đã khai báo; các lane được "
                                                "phép: %(allowed)s"), lane=lane, allowed=allowed))
            if manual:
                continue
            props = {p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)}
            schema_file = props.get("formJsonSchemaFilename")
            if not schema_file:
                self.problem(task, text(N_("thiếu biểu mẫu (thuộc tính formJsonSchemaFilename)")))
                continue
            try:
                self.task_forms[task.get("id")] = self.forms.get(schema_file, props.get("formUiSchemaFilename"))
            except FormError as exc:
                self.problem(task, text(N_("biểu mẫu %(form)s không hợp lệ: %(problem)s"), form=schema_file,
                                        problem=exc.text))

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
                self.problem(task, text(N_("service task chưa chọn hành động (serviceTaskOperator)")))
                continue
            if operator.get("id") not in self.actions:
                allowed = ", ".join(sorted(self.actions))
                self.problem(task, text(N_("hành động '%(action)s' không có trong danh sách: %(allowed)s"),
                                        action=operator.get("id"), allowed=allowed))
            for param in operator.iterfind(".//spiffworkflow:parameter", NS):
                value = param.get("value", "")
                for message in check_expression(value, known, self.functions) or working_days_problems(value):
                    self.problem(task, text(N_("tham số '%(parameter)s': %(problem)s"), parameter=param.get("id"),
                                            problem=message))

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
                self.problem(node, text(N_("chờ message '%(message)s' mà dịch vụ không bao giờ gửi; các message "
                                           "được gửi: %(delivered)s"), message=name or ref or "",
                                        delivered=delivered))

    def check_timers(self) -> None:
        for timer in self.xpath(".//bpmn:timerEventDefinition/*"):
            event = timer.getparent().getparent()
            expression = (timer.text or "").strip()
            problems = check_expression(expression, ROUND_NAMES, self.functions)
            if not problems:
                problems = timer_problems(expression, _local(timer)) + working_days_problems(expression)
            for message in problems:
                self.problem(event, text(N_("biểu thức hẹn giờ '%(expression)s': %(problem)s"),
                                         expression=expression[:200], problem=message))

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
                    self.problem(owner, text(N_("%(label)s '%(expression)s': %(problem)s"), label=Text(label),
                                             expression=expression[:200], problem=message))

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
                    self.problem(flow, text(N_("luồng rời cổng không có điều kiện và cổng không có luồng mặc "
                                               "định")))
                elif simple is None:
                    self.problem(gateway, text(N_("cổng không có luồng mặc định phải so sánh một trường của biểu "
                                                  "mẫu với các lựa chọn; hoặc thêm luồng mặc định")))
                    return
                else:
                    covered.setdefault(simple[0], set()).update(simple[1])
            if len(covered) != 1:
                if covered:
                    self.problem(gateway, text(N_("cổng không có luồng mặc định phải xét một trường duy nhất; "
                                                  "hoặc thêm luồng mặc định")))
                continue
            field, values = next(iter(covered.items()))
            choices = self._choices(field, gateway.get("id"))
            if choices is None:
                self.problem(gateway, text(N_("trường '%(field)s' không có danh sách lựa chọn trong biểu mẫu nào; "
                                              "thêm luồng mặc định"), field=field))
            elif missing := sorted(set(choices) - values):
                self.problem(gateway, text(N_("các lựa chọn %(missing)s của trường '%(field)s' không có luồng đi "
                                              "tiếp; thêm điều kiện cho chúng hoặc luồng mặc định"),
                                           missing=missing, field=field))

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
