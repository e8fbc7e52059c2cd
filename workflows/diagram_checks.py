"""Our own checks on a diagram's XML, beyond the BPMN schema. They evaluate nothing."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .expressions import check_expression, referenced_names
from .forms import Form, FormError, FormLibrary
from .settings import RoleCatalog

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
RESERVED_IDS = {"Start", "End", "Root"}
# Names the engine itself puts into every instance's data.
ENGINE_NAMES = {"nomination_id", "unit_id", "return_count", "max_returns", "process_id"}
COUNT_RETURN = "count_return"
UNBOUNDED_LOOP = ("vòng lặp trả lại không giới hạn: mỗi vòng phải đi qua service task 'count_return' và một cổng "
                  "có điều kiện 'return_count >= max_returns' để thoát vòng (unbounded loop)")


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
                 actions: Iterable[str], functions: Iterable[str]):
        self.process, self.filename, self.roles, self.forms = process, filename, roles, forms
        self.actions, self.functions = set(actions), set(functions)
        self.problems: list[DiagramProblem] = []
        self.nodes = {n.get("id"): n for n in process.iter() if n.get("id")}
        self.lanes = {
            ref.text.strip(): lane.get("name", "")
            for lane in process.iterfind(".//bpmn:lane", NS)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS) if ref.text
        }
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
        self.check_timers()
        self.check_conditions(known)
        self.check_gateway_coverage()
        self.check_return_loops()
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

    def check_user_tasks(self) -> None:
        for task in self.xpath(".//bpmn:userTask | .//bpmn:manualTask"):
            lane = self.lanes.get(task.get("id"))
            if lane is None:
                self.problem(task, "nhiệm vụ không nằm trong lane nào (user task outside a lane)")
            elif self.roles.role_for_lane(lane) is None:
                self.problem(task, f"lane «{lane}» không phải là vai trò đã khai báo (lane is not a role)")
            if _local(task) == "manualTask":
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
                for message in check_expression(param.get("value", ""), known, self.functions):
                    self.problem(task, f"tham số '{param.get('id')}': {message}")

    def check_timers(self) -> None:
        for timer in self.xpath(".//bpmn:timerEventDefinition/*"):
            event = timer.getparent().getparent()
            expression = (timer.text or "").strip()
            problems = check_expression(expression, set(), self.functions)
            if not problems:
                problems = _literal_timer_problems(expression, _local(timer))
            for message in problems:
                self.problem(event, f"biểu thức hẹn giờ (timer) '{expression}': {message}")

    def check_conditions(self, known: set[str]) -> None:
        for flow in self.xpath(".//bpmn:sequenceFlow[bpmn:conditionExpression]"):
            expression = (flow.find("bpmn:conditionExpression", NS).text or "").strip()
            for message in check_expression(expression, known, self.functions):
                self.problem(flow, f"điều kiện '{expression}': {message}")
        for condition in self.xpath(".//bpmn:conditionalEventDefinition/bpmn:condition"):
            event = condition.getparent().getparent()
            expression = (condition.text or "").strip()
            for message in check_expression(expression, known, self.functions):
                self.problem(event, f"điều kiện '{expression}': {message}")

    def check_gateway_coverage(self) -> None:
        for gateway in self.xpath(".//bpmn:exclusiveGateway | .//bpmn:inclusiveGateway"):
            outgoing = self.xpath(f".//bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}']")
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
        incoming: dict[str, list[str]] = {}
        for flow in self.xpath(".//bpmn:sequenceFlow"):
            incoming.setdefault(flow.get("targetRef"), []).append(flow.get("sourceRef"))
        found, seen, queue = [], {node_id}, list(incoming.get(node_id, []))
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.add(current)
            if current in self.task_forms:
                found.append(current)
            else:
                queue.extend(incoming.get(current, []))
        return found

    def _unbounded(self, head: etree._Element | None) -> None:
        if any(p.message.startswith(UNBOUNDED_LOOP[:30]) and head is not None and p.element_id == head.get("id")
               for p in self.problems):
            return
        self.problem(head, UNBOUNDED_LOOP)

    def _loop_head(self, component: set[str], graph: dict[str, set[str]]) -> etree._Element | None:
        """The node most flows of the loop come back to (the task being returned to), for the message."""
        inbound = {n: sum(n in graph.get(m, ()) for m in component) for n in component}
        return self.nodes.get(max(sorted(component), key=lambda n: inbound[n]))

    def check_return_loops(self) -> None:
        graph: dict[str, set[str]] = {node_id: set() for node_id in self.nodes}
        for flow in self.xpath(".//bpmn:sequenceFlow"):
            graph.setdefault(flow.get("sourceRef"), set()).add(flow.get("targetRef"))
        for event in self.xpath(".//bpmn:boundaryEvent"):
            graph.setdefault(event.get("attachedToRef"), set()).add(event.get("id"))
        counters = {
            n for n, node in self.nodes.items()
            if _local(node) == "serviceTask"
            and node.find(f".//spiffworkflow:serviceTaskOperator[@id='{COUNT_RETURN}']", NS) is not None
        }
        # Every cycle must pass a counter: with the counters taken out, no cycle may remain.
        uncounted = {n: {m for m in targets if m not in counters} for n, targets in graph.items() if n not in counters}
        for component in _cycles(uncounted):
            self._unbounded(self._loop_head(component, uncounted))
        for component in _cycles(graph):
            bounded = any(
                flow.get("targetRef") not in component
                and "max_returns" in referenced_names(flow.findtext("bpmn:conditionExpression", "", NS))
                for flow in self.xpath(".//bpmn:sequenceFlow")
                if flow.get("sourceRef") in component
            )
            if not bounded:
                self._unbounded(self._loop_head(component, graph))


def _literal_timer_problems(expression: str, kind: str) -> list[str]:
    try:
        value = ast.literal_eval(expression)
    except (ValueError, SyntaxError):
        return []  # a call such as working_days(5): names were checked, nothing is evaluated here
    if not isinstance(value, str):
        return ["hẹn giờ phải là chuỗi ISO 8601 hoặc working_days(n) (timer must be an ISO 8601 string)"]
    try:
        if kind == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        elif kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        else:
            TimerEventDefinition.get_datetime(value)
    except Exception:  # SpiffWorkflow raises bare Exception for bad durations
        return [f"'{value}' không phải giá trị ISO 8601 hợp lệ cho {kind} (invalid ISO 8601)"]
    return []


def _simple_choice(expression: str) -> tuple[str, set[str]] | None:
    """`field == "x"` or `field in ("x", "y")` → (field, {values}); anything else → None."""
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
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


def _cycles(graph: dict[str, set[str]]) -> Iterator[set[str]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in list(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    yield component
