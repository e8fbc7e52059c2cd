"""A timer that fires can arm another that is already due (a worker that was down across both):
one call to fire_due_timers leaves nothing due behind (issue 16, loose ends).

Measured: with SpiffWorkflow 3.1 a timer armed already due fires as it is armed, so this test passes
even when fire_due_timers goes round once only; the engine's rounds are the guard should a library
version fire it only on the next refresh. It pins the behaviour the service relies on either way."""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.util.task import TaskState

from .conftest import VN
from .test_engine_limits import build, diagram  # noqa: F401 - `build` is a fixture

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
