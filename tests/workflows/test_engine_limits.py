"""Diagrams that got past an older validator must still not hang or crash the engine (issue 12).

Each diagram here is built with SpiffWorkflow's own parser, skipping our checks, so that the run-time
guards are tested alone: a bounded run (steps and seconds), every library error turned into an
EngineError, and timers behind an event-based gateway woken like any other.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from tests.support.threads import in_thread
from workflows.calendar import WorkingCalendar
from workflows.diagrams import ProcessDefinition
from workflows.engine import EngineError, RunTooLong, WorkflowEngine
from workflows.settings import EngineSettings

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">\n')
LANE = '''<bpmn:laneSet id="ls"><bpmn:lane id="l" name="unit_staff">{refs}</bpmn:lane></bpmn:laneSet>'''


def diagram(body: str, lane_nodes: tuple[str, ...] = (), messages: str = "") -> bytes:
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in lane_nodes)
    return (HEAD + messages + '<bpmn:process id="p" isExecutable="true">' + LANE.format(refs=refs) + body
            + "</bpmn:process></bpmn:definitions>").encode("utf-8")


def engine_for(data: bytes, loader, clock, roles, forms, settings: EngineSettings) -> WorkflowEngine:
    """An engine on `data` parsed by SpiffWorkflow alone: none of our upload checks ran."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(data, "p.bpmn")
    spec = parser.get_spec("p")
    definition = ProcessDefinition("p", "p", "p.bpmn", data, hashlib.sha256(data).hexdigest(), spec,
                                   parser.get_subprocess_specs("p"), loader._human_tasks(spec, {}))
    return WorkflowEngine({"p": definition}, clock=clock, calendar=WorkingCalendar.default(), settings=settings,
                          roles=roles, forms=forms)


@pytest.fixture
def build(roles, forms, settings, clock):
    loader = WorkflowEngine.loader(roles, forms, settings)
    return lambda data, s=settings: engine_for(data, loader, clock, roles, forms, s)


ZERO_CYCLE = '''
<bpmn:startEvent id="start"/>
<bpmn:manualTask id="wait" name="Chờ"/>
<bpmn:boundaryEvent id="tick" cancelActivity="false" attachedToRef="wait">
  <bpmn:timerEventDefinition id="tick_def"><bpmn:timeCycle>"R/2026-04-13T09:00:00+07:00/PT0S"</bpmn:timeCycle>
  </bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:endEvent id="end_tick"/>
<bpmn:endEvent id="end"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
<bpmn:sequenceFlow id="f3" sourceRef="tick" targetRef="end_tick"/>
'''


def test_zero_interval_cycle_timer_stops_at_the_run_budget(build, clock, settings):
    """The sweep used to never return: R/.../PT0S fires again at every engine step."""
    engine = build(diagram(ZERO_CYCLE, ("start", "wait", "end")))
    instance, _ = engine.start("p", {})
    clock.advance(timedelta(minutes=1))
    finished, result, seconds = in_thread(instance.fire_due_timers)
    assert finished, "the timer sweep did not return"
    assert isinstance(result, RunTooLong), result
    assert "bước trong một lần" in str(result) or "giây trong một lần" in str(result)
    assert seconds < settings.max_engine_seconds + 5


def test_the_wall_time_budget_stops_a_run_too(build, clock, settings):
    from dataclasses import replace
    tight = replace(settings, max_engine_steps=10**9, max_engine_seconds=0.2)
    engine = build(diagram(ZERO_CYCLE, ("start", "wait", "end")), tight)
    instance, _ = engine.start("p", {})
    clock.advance(timedelta(minutes=1))
    finished, result, _ = in_thread(instance.fire_due_timers)
    assert finished and isinstance(result, RunTooLong) and "giây trong một lần" in str(result)


DURATION = '''
<bpmn:startEvent id="start"/>
<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="w"><bpmn:timeDuration>{value}</bpmn:timeDuration>
</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:endEvent id="end"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
'''


@pytest.mark.parametrize("value", ['"P9999Y"', "working_days(100000)", "working_days(-3, hour=99)",
                                   "-" * 1990 + "1"])
def test_library_errors_at_start_are_engine_errors(build, value):
    """OverflowError, ValueError, RecursionError...: an EngineError the service can make an incident of."""
    engine = build(diagram(DURATION.format(value=value)))
    with pytest.raises(EngineError):
        engine.start("p", {})


def test_a_prepared_instance_serialises_and_resumes(build):
    engine = build(diagram(DURATION.format(value='"PT1H"')))
    prepared = engine.prepare("p", {"nomination_id": "N1"})
    restored = engine.restore(prepared.serialize())
    outcome = restored.resume()
    assert outcome.next_wake_at is not None and restored.data["nomination_id"] == "N1"


GATEWAY = '''
<bpmn:startEvent id="start"/>
<bpmn:eventBasedGateway id="gw"/>
<bpmn:intermediateCatchEvent id="wait_timer"><bpmn:timerEventDefinition id="td">
  <bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="wait_msg"><bpmn:messageEventDefinition id="md" messageRef="msg">
  <bpmn:extensionElements><spiffworkflow:messageVariable>award_decision</spiffworkflow:messageVariable>
  </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:endEvent id="end_timer"/>
<bpmn:endEvent id="end_msg"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>
<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="wait_timer"/>
<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="wait_msg"/>
<bpmn:sequenceFlow id="f4" sourceRef="wait_timer" targetRef="end_timer"/>
<bpmn:sequenceFlow id="f5" sourceRef="wait_msg" targetRef="end_msg"/>
'''
MESSAGE = '<bpmn:message id="msg" name="award_decision"/>'


def test_timer_behind_an_event_based_gateway_sets_the_wake_up_and_fires(build, clock, loader_checked):
    data = diagram(GATEWAY, messages=MESSAGE)
    assert "p" in loader_checked.load(data, "gw.bpmn")  # the construct is supported, so it validates
    engine = build(data)
    instance, outcome = engine.start("p", {})
    assert outcome.next_wake_at == clock.now() + timedelta(hours=1)
    assert instance.next_wake_at() == outcome.next_wake_at and outcome.waiting_for == ["award_decision"]
    clock.advance(timedelta(hours=1, minutes=1))
    fired = instance.fire_due_timers()
    assert (fired.status, fired.end_event) == ("completed", "end_timer")


def test_message_behind_an_event_based_gateway_is_delivered(build):
    engine = build(diagram(GATEWAY, messages=MESSAGE))
    instance, _ = engine.start("p", {})
    outcome = instance.deliver("award_decision", {"outcome": "awarded"})
    assert (outcome.status, outcome.end_event) == ("completed", "end_msg")


@pytest.fixture
def loader_checked(roles, forms, settings):
    return WorkflowEngine.loader(roles, forms, settings)
