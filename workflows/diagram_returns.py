"""Where a return leads, and the deadline it carries there: checked at upload.

A nomination sent back for revision must be sent again within a number of working days; a first
draft has no such deadline. So a return leads to a user task of its own (the shipped diagrams:
"Hoàn thiện hồ sơ theo yêu cầu"), which declares its days as data,
`<spiffworkflow:property name="resubmitWithinWorkingDays" value="5"/>`, and carries boundary timers
like every other desk's task: a reminder before the deadline and the deadline itself (an overdue
notice or an escalation). The engine needs nothing special: the task's due time is its latest
timer, counted from when the return opened it.

What is refused here, each with the element named:
- returns (the diagram has some) none of which reaches a user task of the contract's `returns_to` stage;
- a return (a path leaving a `count_return` service task) that reaches a user task of the
  contract's `returns_to` stage which does not declare its days;
- a task that declares days but is not reached by a return, or is reached by the first drafting
  too (the first draft would wake to a deadline it never had);
- timers that disagree with the declared days: the deadline (the latest timer that is not
  `remindsOnly`) must be `working_days(N)` with the declared N, every other timer a reminder
  `working_days(k, ...)` with k < N that does not interrupt the task, and at least one of them.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lxml import etree

from .diagram_checks import NS
from .expressions import ExpressionError, parse_expression
from .wording import N_

RESUBMIT_WITHIN = "resubmitWithinWorkingDays"
# On a boundary timer: it only reminds, it is not the task's deadline (the engine's _due_at skips it).
REMINDS_ONLY = "remindsOnly"
MAX_RESUBMIT_DAYS = 60
HUMAN_TASKS = ("userTask", "manualTask")
COUNT_RETURN = "count_return"

Report = Callable[..., None]  # report(node, template, **params)


@dataclass(frozen=True)
class _Timer:
    event: etree._Element
    days: int | None  # None: not a working_days(n) call with literal arguments
    hour: int
    reminds_only: bool
    interrupting: bool


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _property(node: etree._Element, name: str) -> str | None:
    for prop in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        if prop.get("name") == name:
            return (prop.get("value") or "").strip()
    return None


def check_returned_drafts(process: etree._Element, stage_of: Callable[[etree._Element], str | None],
                          returns_to: str | None, report: Report) -> None:
    nodes = {n.get("id"): n for n in process.iter() if isinstance(n.tag, str) and n.get("id")}
    leaving: dict[str, list[str]] = {}
    for flow in process.iterfind(".//bpmn:sequenceFlow", NS):
        leaving.setdefault(flow.get("sourceRef", ""), []).append(flow.get("targetRef", ""))
    counters = [i for i, n in nodes.items() if _local(n) == "serviceTask"
                and n.find(f".//spiffworkflow:serviceTaskOperator[@id='{COUNT_RETURN}']", NS) is not None]
    starts = [i for i, n in nodes.items() if _local(n) == "startEvent" and _local(n.getparent()) == "process"]
    returned_to = _first_tasks(counters, nodes, leaving)
    first_drafts = _first_tasks(starts, nodes, leaving, stop_at=set(counters))
    declaring = {i for i, n in nodes.items() if _local(n) in HUMAN_TASKS and _property(n, RESUBMIT_WITHIN) is not None}
    for task_id in sorted(returned_to):
        task = nodes[task_id]
        if returns_to is not None and stage_of(task) == returns_to and task_id not in declaring:
            report(task, N_("hồ sơ bị trả lại về %(element)s nhưng nhiệm vụ này không khai báo hạn gửi lại "
                            "(thuộc tính resubmitWithinWorkingDays, số ngày làm việc) cùng các hẹn giờ nhắc việc "
                            "và hết hạn"), element=task_id)
    if returns_to is not None and counters and not any(stage_of(nodes[t]) == returns_to for t in returned_to):
        report(process, N_("sơ đồ này dùng cho %(kind)s nên lần trả lại phải dẫn tới một nhiệm vụ giai đoạn %(stage)s "
                           "riêng, có hạn gửi lại (thuộc tính resubmitWithinWorkingDays) và các hẹn giờ nhắc việc, "
                           "hết hạn; không lần trả lại nào dẫn tới nhiệm vụ như vậy"), stage=returns_to)
    for task_id in sorted(declaring):
        task = nodes[task_id]
        if task_id in first_drafts:
            report(task, N_("%(element)s vừa là bước lập hồ sơ lần đầu vừa là bước nhận hồ sơ bị trả lại: hồ sơ "
                            "lập lần đầu không có hạn gửi lại, nên lần trả lại phải dẫn tới một nhiệm vụ riêng"),
                   element=task_id)
            continue  # its timers would be wrong whatever they say
        elif task_id not in returned_to:
            report(task, N_("%(element)s khai báo thuộc tính resubmitWithinWorkingDays (hạn gửi lại) nhưng không "
                            "lần trả lại nào dẫn tới nó (sau một service task 'count_return')"), element=task_id)
        _check_timers(process, task, report)


def _first_tasks(roots: Iterable[str], nodes: dict[str, etree._Element], leaving: dict[str, list[str]],
                 stop_at: set[str] | None = None) -> set[str]:
    """The human tasks a token leaving `roots` reaches first (along flows, through anything else)."""
    found: set[str] = set()
    seen = set(roots)
    queue = deque(target for root in roots for target in leaving.get(root, ()))
    while queue:
        current = queue.popleft()
        if current in seen or current not in nodes or current in (stop_at or ()):
            continue
        seen.add(current)
        if _local(nodes[current]) in HUMAN_TASKS:
            found.add(current)
        else:
            queue.extend(leaving.get(current, ()))
    return found


def _check_timers(process: etree._Element, task: etree._Element, report: Report) -> None:
    task_id = task.get("id", "")
    declared = _property(task, RESUBMIT_WITHIN) or ""
    if not declared.isdigit() or not 1 <= int(declared) <= MAX_RESUBMIT_DAYS:
        report(task, N_("hạn gửi lại của %(element)s phải là số ngày làm việc từ 1 đến %(limit)s, không phải "
                        "'%(value)s'"), element=task_id, limit=MAX_RESUBMIT_DAYS, value=declared[:40])
        return
    days = int(declared)
    timers = [t for event in process.iterfind(f".//bpmn:boundaryEvent[@attachedToRef='{task_id}']", NS)
              if (t := _timer(event)) is not None]
    for timer in timers:
        if timer.days is None:
            report(timer.event, N_("hẹn giờ %(element)s của nhiệm vụ có hạn gửi lại phải là working_days(n) hoặc "
                                   "working_days(n, hour=h) với n, h là số, để khớp với %(days)s ngày làm việc đã "
                                   "khai báo"), element=timer.event.get("id", ""), days=days)
    counted = [t for t in timers if t.days is not None]
    if len(counted) < len(timers):
        return
    deadlines = [t for t in counted if not t.reminds_only]
    deadline = max(deadlines, key=lambda t: (t.days, t.hour), default=None)
    if deadline is None:
        report(task, N_("%(element)s có hạn gửi lại %(days)s ngày làm việc nhưng không có hẹn giờ hết hạn: thêm sự "
                        "kiện biên hẹn giờ working_days(%(days)s)"), element=task_id, days=days)
        return
    if deadline.days != days:
        report(task, N_("hạn gửi lại của %(element)s là %(days)s ngày làm việc nhưng hẹn giờ hết hạn của nó là "
                        "working_days(%(found)s); hẹn giờ muộn nhất phải là working_days(%(days)s)"),
               element=task_id, days=days, found=deadline.days)
        return
    reminders = [t for t in counted if t is not deadline]
    for reminder in reminders:
        if (reminder.days or 0, reminder.hour) > (deadline.days or 0, deadline.hour):
            report(reminder.event, N_("hẹn giờ %(element)s nhắc sau hạn gửi lại %(days)s ngày làm việc; nhắc việc "
                                      "phải trước hạn"), element=reminder.event.get("id", ""), days=days)
        elif reminder.interrupting:
            report(reminder.event, N_("hẹn giờ nhắc việc %(element)s không được dừng nhiệm vụ (cancelActivity="
                                      "\"false\")"), element=reminder.event.get("id", ""))
    if not any(r.days is not None and r.days < days for r in reminders):
        report(task, N_("%(element)s có hạn gửi lại %(days)s ngày làm việc nhưng không có hẹn giờ nhắc việc trước "
                        "hạn (working_days(k, hour=8) với k nhỏ hơn %(days)s)"), element=task_id, days=days)


def _timer(event: etree._Element) -> _Timer | None:
    definition = event.find("bpmn:timerEventDefinition", NS)
    if definition is None:
        return None
    value = next((child for child in definition if isinstance(child.tag, str)), None)
    days, hour = _working_days_call((value.text or "") if value is not None and _local(value) == "timeDate" else "")
    reminds_only = (_property(event, REMINDS_ONLY) or "").lower() == "true"
    return _Timer(event, days, hour, reminds_only, event.get("cancelActivity", "true") != "false")


def _working_days_call(expression: str) -> tuple[int | None, int]:
    """(n, hour) of `working_days(n)` / `working_days(n, hour=h)` with literal whole numbers, else (None, 17)."""
    try:
        call = parse_expression(expression).body
    except ExpressionError:
        return None, 17
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "working_days"):
        return None, 17
    named = {k.arg: k.value for k in call.keywords}
    n = call.args[0] if call.args else named.get("n")
    hour = call.args[1] if len(call.args) > 1 else named.get("hour")
    days, at = _whole(n), 17 if hour is None else _whole(hour)
    return (days, at) if days is not None and at is not None else (None, 17)


def _whole(node: ast.AST | None) -> int | None:
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool) or not isinstance(node.value, int):
        return None
    return node.value
