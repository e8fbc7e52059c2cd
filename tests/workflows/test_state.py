"""Spec-less serialization: store, restore, continue; refuse what does not belong."""

from __future__ import annotations

import json

import pytest

from workflows.serialization import StateError

from .conftest import RETURN, act, draft_data, drive_to_decision


def test_state_has_no_spec_and_restores_midway(engine, start_nomination):
    instance, _ = start_nomination()
    act(instance, "draft_nomination", draft_data())
    state = json.loads(json.dumps(instance.serialize()))
    assert "spec" not in state["workflow"] and "subprocess_specs" not in state["workflow"]
    assert state["format"] == 1 and state["process_id"] == "nomination"

    restored = engine.restore(state)
    assert [t.task_id for t in restored.open_tasks()] == ["unit_head_review"]
    assert restored.open_tasks()[0].due_at == instance.open_tasks()[0].due_at
    act(restored, "unit_head_review", RETURN)
    assert restored.data["return_count"] == 1


def test_restore_twice_from_the_same_state(engine, start_nomination):
    instance, _ = start_nomination()
    state = json.loads(json.dumps(instance.serialize()))
    first, second = engine.restore(state), engine.restore(state)
    assert first.open_tasks() == second.open_tasks()


def test_a_full_run_survives_a_restore_at_every_step(engine, start_nomination):
    instance, _ = start_nomination()
    drive_to_decision(instance)
    restored = engine.restore(json.loads(json.dumps(instance.serialize())))
    assert restored.waiting_for() == ["award_decision"]
    assert restored.deliver("award_decision", {"outcome": "awarded"}).end_event == "end_awarded"


def test_state_of_another_diagram_version_is_refused(engine, start_nomination):
    instance, _ = start_nomination()
    state = instance.serialize()
    with pytest.raises(StateError):
        engine.restore({**state, "checksum": "0" * 64})
    with pytest.raises(StateError):
        engine.restore({**state, "format": 99})
    with pytest.raises(StateError):
        engine.restore({**state, "serializer_version": "0.1"})


def test_state_size_stays_small(start_nomination):
    instance, _ = start_nomination()
    drive_to_decision(instance)
    assert len(json.dumps(instance.serialize())) < 200_000


def test_cancel_closes_every_task_and_timer_and_survives_a_restore(engine, start_nomination):
    instance, _ = start_nomination()
    act(instance, "draft_nomination", draft_data())
    [review] = instance.open_tasks()
    assert instance.next_wake_at() is not None  # the unit head's reminder and deadline
    outcome = instance.cancel()
    assert [t.id for t in outcome.closed] == [review.id] and outcome.opened == []
    assert (outcome.status, outcome.end_event, outcome.next_wake_at) == ("completed", None, None)
    assert outcome.notifications == [] and outcome.messages == []
    restored = engine.restore(json.loads(json.dumps(instance.serialize())))
    assert restored.status == "completed" and restored.open_tasks() == [] and restored.next_wake_at() is None
