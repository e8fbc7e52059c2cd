"""The engine: start instances, list and complete human tasks, deliver messages, fire timers.

Every call returns an Outcome (tasks opened and closed, notifications, messages for other
instances, the next wake-up) for the service to persist in one transaction. On any error the
instance object may be half-advanced: callers drop it and restore from the last stored state.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .actions import ACTIONS, DELIVERED_MESSAGES, Effects, Notification, OutgoingMessage, run_action
from .calendar import WorkingCalendar
from .clock import Clock, install_spiff_clock, using_clock
from .diagram_returns import REMINDS_ONLY
from .diagrams import DiagramLoader, HumanTaskSpec, ProcessDefinition
from .expressions import SAFE_FUNCTIONS, RestrictedEnvironment
from .form_choices import MovementChoices
from .forms import FormError, FormLibrary
from .serialization import StateError, StateSerializer
from .settings import EngineSettings, RoleCatalog
from .wording import N_, text

ENGINE_FUNCTIONS = ("working_days",)
# Bounds the catch-up loop when a clock jump makes several timers due in one tick.
MAX_TIMER_ROUNDS = 20


class EngineError(RuntimeError):
    """The diagram or the data made the engine fail; nothing of the step may be kept."""


class RunTooLong(EngineError):
    """One run went past its budget of steps or seconds (a loop of engine tasks, a timer that keeps
    firing): stopped, so that no diagram can hold a request or a sweep."""


class _Budget:
    """Steps and wall time one run may spend. Wall time here is a resource bound, not business
    time: it is read from the monotonic clock, never from the injected Clock."""

    def __init__(self, steps: int, seconds: float):
        self.steps, self.seconds = steps, seconds
        self.spent = 0
        self.deadline = time.monotonic() + seconds

    def spend(self, _task: Any = None) -> None:
        self.spent += 1
        if self.spent > self.steps:
            raise RunTooLong(f"quy trình chạy quá {self.steps} bước trong một lần")
        if time.monotonic() > self.deadline:
            raise RunTooLong(f"quy trình chạy quá {self.seconds:g} giây trong một lần")


class TaskNotFound(LookupError):
    pass


class NotWaitingForMessage(LookupError):
    pass


@dataclass(frozen=True)
class OpenTask:
    id: str  # SpiffWorkflow task uuid: stable while the task is open
    task_id: str  # bpmn element id
    name: str
    role: str
    unit_id: str | None  # set for unit-scoped roles: only that unit's people may act
    form: str | None
    ui_form: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class CompletedTask:
    task: OpenTask
    actor: str
    data: dict[str, Any]


@dataclass
class Outcome:
    opened: list[OpenTask] = field(default_factory=list)
    closed: list[OpenTask] = field(default_factory=list)
    completed: CompletedTask | None = None
    notifications: list[Notification] = field(default_factory=list)
    messages: list[OutgoingMessage] = field(default_factory=list)
    status: str = "running"  # running | completed
    end_event: str | None = None
    next_wake_at: datetime | None = None
    # Where the instance stands afterwards, so callers need no further walk of the task tree.
    open_task_ids: list[str] = field(default_factory=list)  # bpmn ids of the ready human tasks
    waiting_for: list[str] = field(default_factory=list)  # names of the messages it waits for


class _ScriptEngine(PythonScriptEngine):
    def __init__(self, engine: WorkflowEngine, definition: ProcessDefinition):
        super().__init__(RestrictedEnvironment({"working_days": engine.working_days},
                                               {"max_returns": engine.settings.max_returns}))
        self.definition = definition
        self.effects = Effects()

    def call_service(self, task: Task, **kwargs: Any) -> str:
        def role_of(task_id: str) -> str | None:
            spec = self.definition.human_tasks.get(task_id)
            return spec.role if spec else None

        return run_action(kwargs["operation_name"], task, kwargs["operation_params"], self.effects, role_of)


class WorkflowEngine:
    def __init__(self, definitions: Mapping[str, ProcessDefinition], *, clock: Clock,
                 calendar: WorkingCalendar, settings: EngineSettings, roles: RoleCatalog, forms: FormLibrary):
        install_spiff_clock()
        self.active: dict[str, ProcessDefinition] = {}
        self._versions: dict[tuple[str, str], ProcessDefinition] = {}
        for definition in definitions.values():
            self.add(definition)
        self.clock, self.calendar, self.settings = clock, calendar, settings
        self.roles, self.forms = roles, forms
        self.state_serializer = StateSerializer()

    def add(self, definition: ProcessDefinition, active: bool = True) -> None:
        """Make a version known for restoring its instances; the active one is used for new starts."""
        self._versions[(definition.process_id, definition.checksum)] = definition
        if active:
            self.active[definition.process_id] = definition

    @classmethod
    def loader(cls, roles: RoleCatalog, forms: FormLibrary, settings: EngineSettings) -> DiagramLoader:
        return DiagramLoader(roles, forms, settings, ACTIONS, (*ENGINE_FUNCTIONS, *SAFE_FUNCTIONS),
                             messages=DELIVERED_MESSAGES)

    @classmethod
    def from_repository(cls, clock: Clock) -> WorkflowEngine:
        """The shipped diagrams, forms and config/ of this checkout."""
        roles, forms, settings = RoleCatalog.default(), FormLibrary.default(), EngineSettings.default()
        definitions = cls.loader(roles, forms, settings).load_directory()
        return cls(definitions, clock=clock, calendar=WorkingCalendar.default(settings.timezone), settings=settings,
                   roles=roles, forms=forms)

    def working_days(self, n: int, hour: int = 17) -> str:
        """ISO instant of the n-th working day after now, at `hour` local time (for timers)."""
        return self.working_days_from(self.clock.now(), n, hour)

    def working_days_from(self, start: datetime, n: int, hour: int = 17) -> str:
        """As working_days, counted from `start` (re-arming a changed timer from when its task opened)."""
        if not isinstance(n, int) or not isinstance(hour, int) or not 0 <= hour <= 23:
            raise ValueError("working_days(n, hour=17) needs whole numbers, hour between 0 and 23")
        return self.calendar.deadline(start, n, hour=hour).isoformat()

    def definition(self, process_id: str, checksum: str | None = None) -> ProcessDefinition:
        found = self._versions.get((process_id, checksum)) if checksum else self.active.get(process_id)
        if found is None:
            raise LookupError(f"unknown process {process_id!r}" + (f" version {checksum[:12]}" if checksum else ""))
        return found

    def start(self, process_id: str, data: Mapping[str, Any],
              definition: ProcessDefinition | None = None) -> tuple[ProcessInstance, Outcome]:
        instance = self.prepare(process_id, data, definition)
        return instance, instance.resume()

    def prepare(self, process_id: str, data: Mapping[str, Any],
                definition: ProcessDefinition | None = None) -> ProcessInstance:
        """A new instance with its start data, not run yet: what is stored when its first run fails,
        so that an admin's retry (resume) starts it again."""
        definition = definition or self.definition(process_id)
        script_engine = _ScriptEngine(self, definition)
        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=script_engine)
        initial = {**data, "process_id": process_id, "return_count": 0}
        workflow.data.update(initial)
        workflow.task_tree.data.update(initial)  # the root hands its data to the start event
        return ProcessInstance(self, definition, workflow, script_engine)

    def restore(self, state: Mapping[str, Any]) -> ProcessInstance:
        try:
            definition = self.definition(state["process_id"], state["checksum"])
        except (KeyError, LookupError) as exc:
            raise StateError(f"state of an unknown diagram version: {exc}") from exc
        return self.bind(definition, self.state_serializer.load(dict(state), definition))

    def bind(self, definition: ProcessDefinition, workflow: BpmnWorkflow) -> ProcessInstance:
        """An instance of `definition` around an existing workflow (restored, or migrated onto it)."""
        script_engine = _ScriptEngine(self, definition)
        workflow.script_engine = script_engine
        return ProcessInstance(self, definition, workflow, script_engine)


class ProcessInstance:
    def __init__(self, engine: WorkflowEngine, definition: ProcessDefinition, workflow: BpmnWorkflow,
                 script_engine: _ScriptEngine):
        self.engine, self.definition, self.workflow = engine, definition, workflow
        self._script_engine = script_engine
        self._budget = _Budget(engine.settings.max_engine_steps, engine.settings.max_engine_seconds)

    @property
    def status(self) -> str:
        return "completed" if self.workflow.is_completed() else "running"

    @property
    def data(self) -> dict[str, Any]:
        """The instance's latest data: the last completed task's, merged over the start data."""
        last = self.workflow.last_task
        return {**self.workflow.data, **(last.data if last is not None else {})}

    def open_tasks(self) -> list[OpenTask]:
        return [self._open_task(t) for t in self._ready_human_tasks()]

    def waiting_for(self) -> list[str]:
        """Names of the messages this instance is waiting for."""
        return sorted({d.name for t in self._waiting_message_tasks() for d in _messages(t)})

    def next_wake_at(self) -> datetime | None:
        due = [d for t in self.workflow.get_tasks(state=TaskState.WAITING) if (d := _timer_due(t))]
        return min(due) if due else None

    def complete(self, task_uuid: str, data: Mapping[str, Any], actor: str, language: str = "vi",
                 choices: MovementChoices | None = None) -> Outcome:
        """`choices`: the lists of the movement the instance belongs to, for forms that ask for them."""
        ready = self._ready_human_tasks()
        task = next((t for t in ready if str(t.id) == task_uuid), None)
        if task is None:
            raise TaskNotFound(f"no open task {task_uuid} in this instance")
        spec = self.definition.human_tasks[task.task_spec.bpmn_id]
        submitted = dict(data)
        if spec.form:
            form = self.engine.forms.get(spec.form, spec.ui_form, choices)
            if form.needs_choices:
                raise FormError(text(N_("biểu mẫu cần danh mục của phong trào thi đua")))
            form.check(submitted, language)  # raises FormError with every field error, before any change
            for stale in form.fields():
                task.data.pop(stale, None)
        opened = self._open_task(task)

        def run() -> None:
            task.data.update(submitted)
            task.run()
            self._engine_steps()

        outcome = self._advance(run, ready)
        outcome.completed = CompletedTask(opened, actor, submitted)
        return outcome

    def deliver(self, message_name: str, payload: Mapping[str, Any]) -> Outcome:
        definition = next((d for t in self._waiting_message_tasks() for d in _messages(t) if d.name == message_name),
                          None)
        if definition is None:
            raise NotWaitingForMessage(f"instance is not waiting for message {message_name!r}")

        def run() -> None:
            self.workflow.catch(BpmnEvent(definition, dict(payload)))
            self._engine_steps()

        return self._advance(run)

    def fire_due_timers(self) -> Outcome:
        def run() -> None:
            # A round fires what is due. SpiffWorkflow fires a timer armed already due as it arms it,
            # but the wall clock moves during the run: a short timer armed by a fired one (a grace
            # pause after a deadline) falls due after the library's last look at it. So go round while
            # something due is left and the rounds change something (tests/workflows/test_timer_rounds.py).
            # One walk of the tree per round besides SpiffWorkflow's own.
            previous: set[Any] | None = None
            for _ in range(MAX_TIMER_ROUNDS):
                self._budget.spend()
                self.workflow.refresh_timers()
                self._engine_steps()
                waiting = self.workflow.get_tasks(state=TaskState.WAITING)
                now = self.engine.clock.now()
                if not any((due := _timer_due(t)) is not None and due <= now for t in waiting):
                    break
                ids = {t.id for t in waiting}
                if ids == previous:
                    break
                previous = ids

        return self._advance(run)

    def cancel(self) -> Outcome:
        """End the instance where it stands (a withdrawn draft, a cancelled batch): every open task
        closes, no timer is left, and no end event is reached, so no notification is sent."""
        return self._advance(self.workflow.cancel)

    def resume(self) -> Outcome:
        """Run whatever can run now (a prepared start, or an instance after an incident) and fire
        due timers: an admin's retry once the diagram is fixed or the instance migrated."""
        return self.fire_due_timers()

    def _engine_steps(self) -> None:
        self.workflow.do_engine_steps(did_complete_task=self._budget.spend)

    def serialize(self) -> dict[str, Any]:
        return self.engine.state_serializer.dump(self.workflow, self.definition)

    def _advance(self, step: Any, ready_before: list[Task] | None = None) -> Outcome:
        # Each walk of SpiffWorkflow's task tree costs O(history): walk once before and once after.
        before = {t.id: t for t in (ready_before if ready_before is not None else self._ready_human_tasks())}
        before_views = {i: self._open_task(t) for i, t in before.items()}
        self._script_engine.effects = Effects()
        self._budget = _Budget(self.engine.settings.max_engine_steps, self.engine.settings.max_engine_seconds)
        with self._running():
            step()
            # Inside the guard too: what the step left (a human task the definition does not list,
            # a timer value the library cannot read) fails the run, it does not escape as a crash.
            return self._outcome(before, before_views)

    def _outcome(self, before: dict[Any, Task], before_views: dict[Any, OpenTask]) -> Outcome:
        live = self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
        after = [t for t in live if t.state == TaskState.READY and t.task_spec.manual]
        after_ids = {t.id for t in after}
        due = [d for t in live if (d := _timer_due(t))]
        waiting = sorted({d.name for t in live if _waits_for_message(t) for d in _messages(t)})
        completed = self.workflow.is_completed()
        effects = self._script_engine.effects
        return Outcome(
            opened=[self._open_task(t) for t in after if t.id not in before],
            closed=[view for i, view in before_views.items() if i not in after_ids],
            notifications=effects.notifications,
            messages=effects.messages,
            status="completed" if completed else "running",
            end_event=self._end_event() if completed else None,
            next_wake_at=min(due) if due else None,
            open_task_ids=[t.task_spec.bpmn_id for t in after],
            waiting_for=waiting,
        )

    @contextmanager
    def _running(self) -> Iterator[None]:
        try:
            with using_clock(self.engine.clock):
                yield
        except EngineError:
            raise
        except SpiffWorkflowException as exc:
            raise EngineError(str(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - the library ran an admin's diagram: whatever it raised
            # (OverflowError in a timer, KeyError, RecursionError...) is that diagram's failure.
            raise EngineError(f"{type(exc).__name__}: {exc}") from exc

    def _ready_human_tasks(self) -> list[Task]:
        return [t for t in self.workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]

    def _waiting_message_tasks(self) -> list[Task]:
        return [t for t in self.workflow.get_tasks(state=TaskState.WAITING) if _waits_for_message(t)]

    def _open_task(self, task: Task) -> OpenTask:
        spec: HumanTaskSpec = self.definition.human_tasks[task.task_spec.bpmn_id]
        role = self.engine.roles.roles.get(spec.role)
        unit_scoped = role is not None and role.scope == "unit"
        return OpenTask(
            id=str(task.id),
            task_id=spec.task_id,
            name=spec.name,
            role=spec.role,
            unit_id=self.data.get("unit_id") if unit_scoped else None,
            form=spec.form,
            ui_form=spec.ui_form,
            due_at=self._due_at(task),
        )

    def _due_at(self, task: Task) -> datetime | None:
        """The latest of the task's boundary timers: its deadline (escalation or overdue notice). A timer
        that only reminds (remindsOnly, e.g. the lead's reminders on a task already late) is no deadline."""
        parent = task.parent
        if parent is None:
            return None
        due = [d for sibling in parent.children
               if sibling is not task and not _reminds_only(sibling) and (d := _timer_due(sibling))]
        return max(due) if due else None

    def _end_event(self) -> str | None:
        if not self.workflow.is_completed():
            return None
        ends = [t for t in self.workflow.get_tasks(state=TaskState.COMPLETED)
                if t.task_spec.__class__.__name__ == "EndEvent" and t.task_spec.bpmn_id]
        # A reminder's branch (after a non-interrupting boundary timer) ends its own token, not the
        # process; the walk lists it after the main path's end, which may lie deeper in the tree.
        main = [t for t in ends if not _after_side_branch(t)]
        chosen = (main or ends)[-1] if ends else None
        return chosen.task_spec.bpmn_id if chosen else None


def _after_side_branch(task: Task) -> bool:
    """Whether the token that reached `task` left through a non-interrupting boundary event."""
    node: Task | None = task
    while node is not None:
        if getattr(node.task_spec, "cancel_activity", True) is False:
            return True
        node = node.parent
    return False


def _definitions(task: Task) -> list[Any]:
    """The event definitions a task waits on: its own, or each of an event-based gateway's (the
    gateway holds its events' definitions and their internal data)."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def _messages(task: Task) -> list[MessageEventDefinition]:
    return [d for d in _definitions(task) if isinstance(d, MessageEventDefinition)]


def _waits_for_message(task: Task) -> bool:
    return task.state == TaskState.WAITING and bool(_messages(task))


def _reminds_only(task: Task) -> bool:
    properties = getattr(task.task_spec, "extensions", {}).get("properties", {})
    return str(properties.get(REMINDS_ONLY, "")).lower() == "true"


def _timer_due(task: Task) -> datetime | None:
    if task.state != TaskState.WAITING or not any(isinstance(d, TimerEventDefinition) for d in _definitions(task)):
        return None
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):  # cycle timers keep their next firing under "next"
        value = value.get("next")
    if not value:
        return None
    instant = TimerEventDefinition.get_datetime(value) if isinstance(value, str) else None
    return instant.astimezone(UTC) if instant else None
