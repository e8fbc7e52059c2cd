"""A timer that fires can arm another that is already due (a worker that was down across both):
one call to fire_due_timers leaves nothing due behind (issue 16, loose ends).

Where a second round matters, measured with SpiffWorkflow 3.2: with a clock that stands still, a
timer armed already due fires as it is armed, and a repeating timer fires all its missed cycles in
one refresh (each firing's branch updates the boundary split, which updates the timer again), so
one round suffices there. The wall clock does not stand still: a timer armed during the run with a
short wait (a pause of a few seconds after a deadline) falls due while the run goes on, after the
library's last look at it. Only another round fires it; one round leaves it behind for the next
sweep. `test_a_timer_that_falls_due_during_the_run_fires_in_the_same_call` fails with
MAX_TIMER_ROUNDS = 1.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from SpiffWorkflow.util.task import TaskState

from tests.support.threads import in_thread
from workflows.clock import FixedClock
from workflows.engine import WorkflowEngine

from .conftest import VN
from .test_engine_limits import build, diagram, engine_for  # noqa: F401 - `build` is a fixture

CHAIN = '''
<bpmn:startEvent id="start"/>
<bpmn:manualTask id="wait" name="Chờ"/>
<bpmn:boundaryEvent id="first" cancelActivity="true" attachedToRef="wait">
  <bpmn:timerEventDefinition id="first_def"><bpmn:timeDate>"2026-04-14T09:00:00+07:00"</bpmn:timeDate>
  </bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:manualTask id="taken_over" name="Lãnh đạo xử lý thay"/>
<bpmn:boundaryEvent id="second" cancelActivity="false" attachedToRef="taken_over">
  <bpmn:timerEventDefinition id="second_def"><bpmn:timeDate>"2026-04-15T09:00:00+07:00"</bpmn:timeDate>
  </bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:endEvent id="end_second"/>
<bpmn:endEvent id="end_taken_over"/>
<bpmn:endEvent id="end"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
<bpmn:sequenceFlow id="f3" sourceRef="first" targetRef="taken_over"/>
<bpmn:sequenceFlow id="f4" sourceRef="second" targetRef="end_second"/>
<bpmn:sequenceFlow id="f5" sourceRef="taken_over" targetRef="end_taken_over"/>
'''


def test_a_timer_armed_by_a_fired_timer_and_already_due_fires_in_the_same_call(build, clock):  # noqa: F811
    engine = build(diagram(CHAIN, ("start", "wait", "end", "taken_over", "end_taken_over")))
    instance, _ = engine.start("p", {})
    assert instance.next_wake_at() == datetime(2026, 4, 14, 9, tzinfo=VN)
    clock.set(datetime(2026, 4, 20, 9, tzinfo=VN))  # both dates passed while no worker ran
    outcome = instance.fire_due_timers()
    # The deadline moved the work on to a step whose own timer was due at once: it fired in the same call.
    assert outcome.next_wake_at is None and instance.next_wake_at() is None
    completed = {t.task_spec.bpmn_id for t in instance.workflow.get_tasks(state=TaskState.COMPLETED)}
    assert {"first", "second", "end_second"} <= completed, completed


# A reminder that repeats (a cycle of three, an hour apart) on a task nobody touches.
REPEATED_REMINDER = '''
<bpmn:startEvent id="start"/>
<bpmn:manualTask id="wait" name="Chờ"/>
<bpmn:boundaryEvent id="remind" cancelActivity="false" attachedToRef="wait">
  <bpmn:timerEventDefinition id="remind_def"><bpmn:timeCycle>"R3/2026-04-14T09:00:00+07:00/PT1H"</bpmn:timeCycle>
  </bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:endEvent id="reminded"/>
<bpmn:endEvent id="end"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
<bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="reminded"/>
'''


def test_every_missed_firing_of_a_repeating_timer_fires_in_one_call(build, clock):  # noqa: F811
    """A worker down across three firings of a reminder sends the three: none is lost, the call returns."""
    engine = build(diagram(REPEATED_REMINDER, ("start", "wait", "end")))
    instance, _ = engine.start("p", {})
    assert instance.next_wake_at() == datetime(2026, 4, 14, 9, tzinfo=VN)
    clock.set(datetime(2026, 4, 14, 12, 30, tzinfo=VN))  # 9:00, 10:00 and 11:00 all passed

    finished, outcome, _ = in_thread(instance.fire_due_timers)

    assert finished and not isinstance(outcome, BaseException), outcome
    assert len(reminders_sent(instance)) == 3
    assert outcome.next_wake_at is None and [t.task_id for t in instance.open_tasks()] == ["wait"]


def test_a_repeating_timer_not_yet_due_again_waits_for_its_next_firing(build, clock):  # noqa: F811
    engine = build(diagram(REPEATED_REMINDER, ("start", "wait", "end")))
    instance, _ = engine.start("p", {})
    clock.set(datetime(2026, 4, 14, 10, 30, tzinfo=VN))  # 9:00 and 10:00 passed; 11:00 is ahead
    outcome = instance.fire_due_timers()
    assert len(reminders_sent(instance)) == 2
    assert outcome.next_wake_at == datetime(2026, 4, 14, 11, tzinfo=VN)


def reminders_sent(instance) -> list:
    return [t for t in instance.workflow.get_tasks()
            if t.task_spec.bpmn_id == "reminded" and t.state == TaskState.COMPLETED]


class WallClock(FixedClock):
    """A clock that moves on by a second at each reading, like a wall clock on a loaded machine."""

    def now(self) -> datetime:
        instant = super().now()
        self.advance(timedelta(seconds=1))
        return instant


# After the deadline the work pauses a few seconds (a grace period), then ends.
PAUSE_AFTER_DEADLINE = '''
<bpmn:startEvent id="start"/>
<bpmn:manualTask id="wait" name="Chờ"/>
<bpmn:boundaryEvent id="deadline" cancelActivity="true" attachedToRef="wait">
  <bpmn:timerEventDefinition id="deadline_def"><bpmn:timeDate>"2026-04-14T09:00:00+07:00"</bpmn:timeDate>
  </bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:intermediateCatchEvent id="grace">
  <bpmn:timerEventDefinition id="grace_def"><bpmn:timeDuration>"PT5S"</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:intermediateCatchEvent>
<bpmn:endEvent id="end_late"/>
<bpmn:endEvent id="end"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
<bpmn:sequenceFlow id="f3" sourceRef="deadline" targetRef="grace"/>
<bpmn:sequenceFlow id="f4" sourceRef="grace" targetRef="end_late"/>
'''


def test_a_timer_that_falls_due_during_the_run_fires_in_the_same_call(roles, forms, settings):
    clock = WallClock(datetime(2026, 4, 13, 9, tzinfo=VN))
    engine = engine_for(diagram(PAUSE_AFTER_DEADLINE, ("start", "wait", "end")),
                        WorkflowEngine.loader(roles, forms, settings), clock, roles, forms, settings)
    instance, _ = engine.start("p", {})
    clock.set(datetime(2026, 4, 14, 9, 30, tzinfo=VN))

    finished, outcome, _ = in_thread(instance.fire_due_timers)

    assert finished and not isinstance(outcome, BaseException), outcome
    # The grace timer, armed at the deadline's firing, was due before the call returned: it fired.
    assert (outcome.status, outcome.end_event, outcome.next_wake_at) == ("completed", "end_late", None)
