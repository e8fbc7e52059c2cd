"""The per-process cache of restored instances: a step continued in memory stores exactly what a
step after a restore would, and a cached copy is never used once the row has moved on elsewhere."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.core.errors import InvalidInput
from service.core.runtime import Runtime
from service.db.models import InboxRow, Nomination
from service.usecases.tasks import complete_task

from .test_concurrency import STEPS, actor, advance_to, snapshot, step, submitted

PATH = ["unit_review", "dost_review"]


def _open_task(runtime: Runtime, nomination_id: str) -> InboxRow:
    with runtime.read() as uow:
        return uow.session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination_id)).one()


def _instance_id(runtime: Runtime, nomination_id: str) -> str:
    with runtime.read() as uow:
        instance_id = uow.session.get_one(Nomination, nomination_id).instance_id
    assert instance_id is not None
    return instance_id


def _walk(runtime: Runtime, nomination_id: str) -> list[dict[str, object]]:
    """Complete the nomination's tasks along PATH and the decline that ends it; each step's effect."""
    steps = []
    for _ in range(len(PATH) + 1):
        task = _open_task(runtime, nomination_id)
        before = snapshot(runtime, nomination_id, task.id)
        username, data = STEPS[str(task.stage)]
        complete_task(runtime, actor(runtime, username), task.id, data)
        after = snapshot(runtime, nomination_id, task.id)
        effect = step(before, after)
        effect.pop("mails")  # both nominations' mails share one outbox: compared by audit kinds instead
        steps.append(effect)
    return steps


def test_steps_continued_from_the_cache_store_the_same_as_steps_after_a_restore(runtime: Runtime):
    cached_id, _ = submitted(runtime, name="Hồ sơ từ bộ nhớ đệm")
    restored_id, _ = submitted(runtime, name="Hồ sơ khôi phục")
    runtime.instances.clear()
    hits_before = runtime.instances.hits
    cached = _walk(runtime, cached_id)
    assert runtime.instances.hits - hits_before >= len(PATH), "the steps after the first should come from the cache"

    runtime.instances.size = 0  # every step restores from the stored state
    restored = _walk(runtime, restored_id)
    assert cached == restored
    with runtime.read() as uow:
        statuses = {n.id: n.status for n in uow.session.scalars(select(Nomination).where(
            Nomination.id.in_([cached_id, restored_id])))}
    assert statuses == {cached_id: "not_awarded", restored_id: "not_awarded"}


def test_a_row_moved_on_by_another_process_is_restored_not_taken_from_the_cache(runtime: Runtime):
    nomination_id, head_task = submitted(runtime)
    instance_id = _instance_id(runtime, nomination_id)
    other = Runtime(runtime.config, clock=runtime.clock)  # a second web process on the same database
    try:
        # This process caches the instance at version v; the other one moves the row to v + 1.
        complete_task(other, actor(other, "chutich.hiennam"), head_task, STEPS["unit_review"][1])
        misses_before = runtime.instances.misses
        task_uuid = advance_to(runtime, nomination_id, "dost_selection")  # would be 409 from the stale copy
    finally:
        other.db.dispose()
    assert runtime.instances.misses > misses_before
    assert _open_task(runtime, nomination_id).id == task_uuid
    with runtime.read() as uow:
        assert uow.session.get_one(Nomination, nomination_id).status == "dost_selection"
    assert instance_id == _instance_id(runtime, nomination_id)


def test_a_refused_step_leaves_no_half_advanced_instance_in_the_cache(runtime: Runtime):
    nomination_id, task_uuid = submitted(runtime)
    head = actor(runtime, "chutich.hiennam")
    with pytest.raises(InvalidInput):
        complete_task(runtime, head, task_uuid, {"decision": "return"})  # a return needs its reason
    version = snapshot(runtime, nomination_id, task_uuid).version
    assert runtime.instances.take(_instance_id(runtime, nomination_id), version) is None

    complete_task(runtime, head, task_uuid, STEPS["unit_review"][1])
    assert _open_task(runtime, nomination_id).stage == "dost_review"
