"""Checks on the shape of a process: bounded return loops, reachability. Linear in the diagram's size.

Every walk here is over adjacency sets built once per process, so a diagram of N elements costs
O(N) (Tarjan's components, breadth-first searches); nothing asks "which flows enter this node?" of
the whole document inside a loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from lxml import etree

from .expressions import referenced_names
from .wording import N_, Text

if TYPE_CHECKING:
    from .diagram_checks import ProcessChecker

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
COUNT_RETURN = "count_return"
UNBOUNDED_LOOP = Text(N_("vòng lặp trả lại không giới hạn: mỗi vòng phải đi qua service task 'count_return' và một "
                         "cổng có điều kiện 'return_count >= max_returns' để thoát vòng"))
FLOW_NODES = frozenset({
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask", "businessRuleTask",
    "callActivity", "subProcess", "transaction", "adHocSubProcess", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "inclusiveGateway",
    "parallelGateway", "eventBasedGateway", "complexGateway",
})
SCOPES = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})
UNREACHABLE = Text(N_("không đi tới được từ sự kiện bắt đầu nào"))
DEAD_END = Text(N_("từ đây không đi tới được sự kiện kết thúc nào"))


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def check_return_loops(checker: ProcessChecker) -> None:
    """Every cycle passes a count_return service task and a gateway flow that tests max_returns."""
    graph: dict[str, set[str]] = {node_id: set() for node_id in checker.nodes}
    leaving: dict[str, list[etree._Element]] = {}
    for flow in checker.flows:
        graph.setdefault(flow.get("sourceRef"), set()).add(flow.get("targetRef"))
        leaving.setdefault(flow.get("sourceRef"), []).append(flow)
    for event in checker.process.iterfind(".//bpmn:boundaryEvent", NS):
        graph.setdefault(event.get("attachedToRef"), set()).add(event.get("id"))
    counters = {
        n for n, node in checker.nodes.items()
        if isinstance(node.tag, str) and _local(node) == "serviceTask"
        and node.find(f".//spiffworkflow:serviceTaskOperator[@id='{COUNT_RETURN}']", NS) is not None
    }
    reported: set[str] = set()

    def unbounded(component: set[str], within: dict[str, set[str]]) -> None:
        head = loop_head(component, within)
        if head in reported:
            return
        reported.add(head)
        checker.problem(checker.nodes.get(head), UNBOUNDED_LOOP)

    # Every cycle must pass a counter: with the counters taken out, no cycle may remain.
    uncounted = {n: {m for m in targets if m not in counters} for n, targets in graph.items() if n not in counters}
    for component in cycles(uncounted):
        unbounded(component, uncounted)
    for component in cycles(graph):
        bounded = any(
            flow.get("targetRef") not in component
            and "max_returns" in referenced_names(flow.findtext("bpmn:conditionExpression", "", NS))
            for node in component for flow in leaving.get(node, ())
        )
        if not bounded:
            unbounded(component, graph)


def loop_head(component: set[str], graph: dict[str, set[str]]) -> str:
    """The node most flows of the loop come back to (the task being returned to), for the message.
    One pass over the component's own edges."""
    inbound = dict.fromkeys(component, 0)
    for source in component:
        for target in graph.get(source, ()):
            if target in inbound:
                inbound[target] += 1
    return min(component, key=lambda n: (-inbound[n], n))


def check_reachability(checker: ProcessChecker) -> None:
    """In the process and in each embedded subprocess: every node is reached from a start event and
    reaches an end event (an orphan never runs; a dead end leaves the instance waiting for ever)."""
    for scope in [checker.process, *(n for n in checker.process.iter() if isinstance(n.tag, str)
                                     and _local(n) in SCOPES and n is not checker.process)]:
        _check_scope(checker, scope)


def _check_scope(checker: ProcessChecker, scope: etree._Element) -> None:
    nodes = {n.get("id"): n for n in scope if isinstance(n.tag, str) and _local(n) in FLOW_NODES and n.get("id")}
    # An event subprocess runs when its event arrives, not along a flow: it is neither orphan nor dead end.
    triggered = {i for i, n in nodes.items() if n.get("triggeredByEvent") == "true"}
    forward: dict[str, set[str]] = {i: set() for i in nodes}
    backward: dict[str, set[str]] = {i: set() for i in nodes}
    for flow in scope.iterfind("bpmn:sequenceFlow", NS):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in nodes and target in nodes:
            forward[source].add(target)
            backward[target].add(source)
    for node_id, node in nodes.items():
        host = node.get("attachedToRef")
        if _local(node) == "boundaryEvent" and host in nodes:
            forward[host].add(node_id)
            backward[node_id].add(host)
    starts = [i for i, n in nodes.items() if _local(n) == "startEvent"] + sorted(triggered)
    ends = [i for i, n in nodes.items() if _local(n) == "endEvent"] + sorted(triggered)
    reached, finishing = _walk(starts, forward), _walk(ends, backward)
    for node_id, node in nodes.items():
        if node_id not in reached:
            checker.problem(node, UNREACHABLE)
        elif node_id not in finishing:
            checker.problem(node, DEAD_END)


def _walk(roots: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(roots)
    queue = deque(seen)
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def cycles(graph: dict[str, set[str]]) -> Iterator[set[str]]:
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
