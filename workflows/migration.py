"""Moving a running instance onto another version of its diagram, only where that is safe.

SpiffWorkflow compares the two specs (``SpecDiff``), finds the instance's tasks whose element was
changed or removed (``WorkflowDiff``), and ``migrate_workflow`` swaps the specs and re-plans every
open (READY) and waiting (WAITING) task from the new version. Deciding *whether* to migrate is left
to the application (SpiffWorkflow's docs say as much); nomflow's rule, element by element of the
instance's task tree:

- a task that has run (COMPLETED, STARTED, ERROR) must be unchanged: history must stay true to the
  diagram it is read against, and a changed or removed step the instance has passed is upstream;
- an open or waiting task (READY, WAITING) must still exist, and may only have changed in what
  cannot mislead whoever holds it: its display name and documentation, and, for a timer event, the
  timer's expression (same timer kind, same interrupting or not). A changed lane, form, type,
  flows or anything else of a task someone is already working on is refused;
- a task that was cancelled without running (the boundary timers of a finished task, a branch not
  taken) may have changed but must still exist: the stored tree keeps its element id;
- tasks not reached yet (predicted: FUTURE, LIKELY, MAYBE) are downstream: anything may change;
- instances inside subprocesses are not migrated (the shipped diagrams have none).

The migration is then carried out on the in-memory instance and checked: every task of the tree must
point at an element of the new version, and the state must serialize and restore. A dry run is the
same migration, thrown away.

Timers: ``migrate_workflow`` re-arms every waiting timer at "now". Timers whose element did not
change keep their stored due instant exactly; a timer whose expression changed is evaluated again
as of the instant its task was opened (``armed_at``), so ``working_days(3)`` still counts from the
day the dossier reached the officer, not from the day of the migration. A due instant already in
the past fires at the scheduler's next run.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .clock import FixedClock, using_clock
from .diagrams import ProcessDefinition
from .engine import OpenTask, ProcessInstance
from .expressions import RestrictedEnvironment
from .wording import N_, Text, text

RAN = TaskState.COMPLETED | TaskState.STARTED | TaskState.ERROR
OPEN = TaskState.READY | TaskState.WAITING
# What may change on a task someone already holds: text shown to people, never behaviour.
DISPLAY_ATTRIBUTES = {"bpmn_name", "documentation"}
TIMER_ATTRIBUTES = DISPLAY_ATTRIBUTES | {"event_definition"}
TIMER_DEFINITION_KEYS = {"expression", "name"}  # a timer definition's name is its event's name


class MigrationError(ValueError):
    pass


@dataclass(frozen=True)
class TaskChange:
    """One task of the instance whose element changed or went away in the target version."""

    element_id: str
    name: str
    state: str  # completed | started | error | ready | waiting | cancelled | planned
    change: str  # changed | removed
    attributes: tuple[str, ...]
    blocking: bool
    reason: str = ""  # Vietnamese, for logs; `why` is the same message for the reader's language
    why: Text | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DueChange:
    task_uuid: str
    task_id: str
    name: str
    due_before: datetime | None
    due_after: datetime | None


@dataclass
class MigrationPlan:
    safe: bool
    reasons: list[str] = field(default_factory=list)
    why: list[Text] = field(default_factory=list)  # the reasons as catalogue messages, in the same order
    changes: list[TaskChange] = field(default_factory=list)
    open_tasks: list[DueChange] = field(default_factory=list)
    next_wake_before: datetime | None = None
    next_wake_after: datetime | None = None
    migrated: ProcessInstance | None = None  # the instance bound to the target, when safe


def plan_migration(instance: ProcessInstance, target: ProcessDefinition,
                   armed_at: Mapping[str, datetime] | None = None) -> MigrationPlan:
    """Check, and when safe carry out, the migration of `instance` onto `target` (in memory only).

    `armed_at` maps an open task's uuid to when it was opened. The instance object is changed in
    place when the plan is safe: callers restore a fresh copy for each attempt.
    """
    engine, workflow = instance.engine, instance.workflow
    if target.process_id != instance.definition.process_id:
        raise MigrationError(f"{target.process_id!r} is not a version of {instance.definition.process_id!r}")
    plan = MigrationPlan(safe=True, next_wake_before=instance.next_wake_at())
    if instance.status != "running":
        return _refuse(plan, text(N_("quy trình đã kết thúc")))
    if workflow.subprocesses:
        return _refuse(plan, text(N_("chưa hỗ trợ chuyển phiên bản cho quy trình con")))
    if target.checksum == instance.definition.checksum:
        return _refuse(plan, text(N_("đã ở đúng phiên bản này")))
    if not workflow.get_tasks(state=TaskState.COMPLETED):
        # Stored as prepared because its first run failed (an incident): nothing ran, nothing to
        # carry over; on the target it starts afresh with the same start data when retried.
        engine.add(target, active=False)
        plan.migrated = engine.prepare(target.process_id, dict(workflow.data), target)
        return plan

    engine.add(target, active=False)  # known for restoring, never for new starts
    registry = engine.state_serializer.serializer.registry
    spec_diff = SpecDiff(registry, workflow.spec, target.spec)
    diff = WorkflowDiff(workflow, spec_diff)
    plan.changes = _classify(diff, spec_diff, registry)
    plan.reasons = [c.reason for c in plan.changes if c.blocking]
    plan.why = [c.why or Text(c.reason) for c in plan.changes if c.blocking]
    if plan.reasons:
        plan.safe = False
        return plan

    before = {t.id: t for t in instance.open_tasks()}
    changed_specs = set(spec_diff.changed)
    kept = {t.id: (copy.deepcopy(t.data), copy.deepcopy(t.internal_data), t.task_spec in changed_specs)
            for t in workflow.get_tasks(state=OPEN)}
    with using_clock(engine.clock):
        migrate_workflow(diff, workflow, target.spec)
        workflow.subprocess_specs = target.subprocess_specs
        migrated = engine.bind(target, workflow)
        _restore_and_rearm(migrated, kept, armed_at or {})
    problem = _verify(migrated, target)
    if problem is not None:
        return _refuse(plan, problem)
    after = {t.id: t for t in migrated.open_tasks()}
    plan.open_tasks = [_due_change(before.get(i), after.get(i)) for i in dict.fromkeys([*before, *after])]
    plan.next_wake_after = migrated.next_wake_at()
    plan.migrated = migrated
    return plan


def _refuse(plan: MigrationPlan, reason: Text) -> MigrationPlan:
    plan.safe = False
    plan.reasons.append(str(reason))
    plan.why.append(reason)
    return plan


def _classify(diff: WorkflowDiff, spec_diff: SpecDiff, registry: Any) -> list[TaskChange]:
    changes: dict[tuple[str, int], TaskChange] = {}
    judged = [(task, _judge(task, "removed", ())) for task in diff.removed]
    judged += [(task, _judge(task, "changed", tuple(spec_diff.changed[task.task_spec]), registry,
                             spec_diff.alignment.get(task.task_spec))) for task in diff.changed]
    for task, change in judged:
        if change is not None:
            changes.setdefault((task.task_spec.name, task.state), change)
    order = {"completed": 0, "started": 0, "error": 0, "ready": 1, "waiting": 1, "cancelled": 2, "planned": 3}
    return sorted(changes.values(), key=lambda c: (not c.blocking, order.get(c.state, 4), c.element_id))


def _judge(task: Task, change: str, attributes: tuple[str, ...], registry: Any = None,
           new_spec: Any = None) -> TaskChange | None:
    spec = task.task_spec
    element_id = getattr(spec, "bpmn_id", None) or spec.name
    name = getattr(spec, "bpmn_name", None) or ""
    state = _state_name(task)
    label = f"«{name}» ({element_id})" if name else element_id
    # SpiffWorkflow's own glue around a task with boundary events ("<task>.BoundaryEventSplit"): its
    # outputs change when a timer is added to or removed from that task.
    host, _, glue = spec.name.partition(".")
    internal = getattr(spec, "bpmn_id", None) is None and glue.startswith("BoundaryEvent")

    def result(blocking: bool, reason: Text | None = None) -> TaskChange:
        return TaskChange(host if internal else element_id, name, state, change, attributes, blocking,
                          str(reason) if reason else "", reason)

    if internal and set(attributes) <= {"lane"} | DISPLAY_ATTRIBUTES and change == "changed":
        return None  # mirrors its task's own lane or name, which is judged (and listed) on the task itself
    if internal and task.has_state(RAN):
        return result(True, text(N_("sự kiện biên (hẹn giờ) của bước %(step)s bị thêm/bớt, mà quy trình đã tới "
                                    "bước này"), step=host))
    if task.has_state(RAN):
        if change == "removed":
            return result(True, text(N_("%(step)s đã thực hiện nhưng bị xoá ở phiên bản mới: thay đổi nằm phía "
                                        "trước bước hiện tại"), step=label))
        return result(True, text(N_("%(step)s đã thực hiện nhưng bị sửa (%(attributes)s) ở phiên bản mới: thay đổi "
                                    "nằm phía trước bước hiện tại"), step=label, attributes=", ".join(attributes)))
    if task.has_state(OPEN):
        if change == "removed":
            return result(True, text(N_("%(step)s đang mở/chờ nhưng bị xoá ở phiên bản mới"), step=label))
        if _harmless_open_change(spec, new_spec, attributes, registry):
            return result(False)
        return result(True, text(N_("%(step)s đang mở/chờ nhưng bị sửa (%(attributes)s): chỉ được đổi tên hiển "
                                    "thị hoặc biểu thức hẹn giờ"), step=label, attributes=", ".join(attributes)))
    if task.has_state(TaskState.CANCELLED):
        if change == "removed":
            return result(True, text(N_("%(step)s có trong lịch sử (đã huỷ) nhưng bị xoá ở phiên bản mới"),
                                     step=label))
        return result(False)
    return result(False)  # not reached yet: downstream, re-planned from the new version


def _harmless_open_change(spec: Any, new_spec: Any, attributes: tuple[str, ...], registry: Any) -> bool:
    if set(attributes) <= DISPLAY_ATTRIBUTES:
        return True
    old_def, new_def = getattr(spec, "event_definition", None), getattr(new_spec, "event_definition", None)
    if not (isinstance(old_def, TimerEventDefinition) and type(old_def) is type(new_def)):
        return False
    if isinstance(old_def, CycleTimerEventDefinition) or not set(attributes) <= TIMER_ATTRIBUTES:
        return False
    old, new = registry.convert(old_def), registry.convert(new_def)
    return {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)} <= TIMER_DEFINITION_KEYS


def _state_name(task: Task) -> str:
    for state, label in ((TaskState.COMPLETED, "completed"), (TaskState.STARTED, "started"),
                         (TaskState.ERROR, "error"), (TaskState.READY, "ready"), (TaskState.WAITING, "waiting"),
                         (TaskState.CANCELLED, "cancelled")):
        if task.has_state(state):
            return label
    return "planned"


def _restore_and_rearm(instance: ProcessInstance, kept: Mapping[Any, tuple[Any, Any, bool]],
                       armed_at: Mapping[str, datetime]) -> None:
    """Undo what re-planning needlessly reset; re-arm changed timers from when their task opened."""
    workflow = instance.workflow
    for task in workflow.get_tasks(state=OPEN):
        if task.id not in kept:
            continue
        data, internal, changed = kept[task.id]
        task.data = data
        definition = getattr(task.task_spec, "event_definition", None)
        if not changed or not isinstance(definition, TimerEventDefinition):
            task.internal_data = internal
        elif not isinstance(definition, CycleTimerEventDefinition):
            _rearm(instance, task, definition, _opened_at(task, armed_at) or instance.engine.clock.now())


def _opened_at(timer: Task, armed_at: Mapping[str, datetime]) -> datetime | None:
    """When the task a boundary timer sits on was opened (its siblings under the boundary split)."""
    siblings = timer.parent.children if timer.parent is not None else []
    for sibling in siblings:
        if sibling is not timer and str(sibling.id) in armed_at:
            return armed_at[str(sibling.id)]
    return None


def _rearm(instance: ProcessInstance, task: Task, definition: TimerEventDefinition, start: datetime) -> None:
    engine, workflow = instance.engine, instance.workflow
    script_engine = workflow.script_engine
    workflow.script_engine = PythonScriptEngine(RestrictedEnvironment(
        {"working_days": lambda n, hour=17: engine.working_days_from(start, n, hour)},
        {"max_returns": engine.settings.max_returns}))
    task.internal_data.pop("event_value", None)
    task.internal_data.pop("event_fired", None)
    try:
        with using_clock(FixedClock(start)):
            definition.has_fired(task)  # evaluates the new expression as of `start` and stores it
    finally:
        workflow.script_engine = script_engine


def _verify(instance: ProcessInstance, target: ProcessDefinition) -> Text | None:
    for task in instance.workflow.get_tasks():
        if target.spec.task_specs.get(task.task_spec.name) is not task.task_spec:
            return text(N_("không thể sắp xếp lại bước %(step)s theo phiên bản mới"), step=task.task_spec.name)
    try:
        instance.engine.restore(instance.serialize())
    except Exception as exc:  # any failure here means the migrated state would not load again
        return text(N_("trạng thái sau khi chuyển không đọc lại được: %(error)s"), error=exc)
    return None


def _due_change(before: OpenTask | None, after: OpenTask | None) -> DueChange:
    task = after or before
    assert task is not None
    return DueChange(task.id, task.task_id, task.name, _utc(before.due_at) if before else None,
                     _utc(after.due_at) if after else None)


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value else None
