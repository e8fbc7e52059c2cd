"""A task the deadline timer handed to the lead (issue 13, point 5): whoever still holds the old task
is told exactly that (409), over the API and on the task page, whatever the timing: after the sweep,
or while it waits on the instance lock the sweep holds.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from service.core.errors import Conflict, DomainError
from service.core.runtime import Runtime
from service.db.lookups import TASK_ESCALATED
from service.db.models import Nomination
from service.usecases.instances import load_instance, record
from service.usecases.tasks import complete_task
from tests.service.conftest import DEMO_PASSWORD
from tests.service.test_auth_pages import login

from .helpers import DOST_OFFICER, actor, at, nomination_at_dost_check, open_tasks, wake

CHECKED = {"decision": "complete", "criteria_met": ["a1", "a3"]}
PAST_DEADLINE = at("2026-04-22", 9)  # the officer's check was due Monday 20/4 17:00


def test_the_old_task_answers_409_taken_over_by_the_lead(runtime, client, auth, clock):
    nomination_id = nomination_at_dost_check(runtime)
    [task] = open_tasks(runtime, nomination_id)
    clock.set(PAST_DEADLINE)
    assert wake(runtime).woken == 1
    assert [t.task_id for t in open_tasks(runtime, nomination_id)] == ["dost_check_dossier_escalated"]

    headers = auth(DOST_OFFICER)
    for path, body in ((f"/api/v1/tasks/{task.id}/complete", {"data": CHECKED}),
                       (f"/api/v1/tasks/{task.id}/claim", None), (f"/api/v1/tasks/{task.id}/release", None)):
        response = client.post(path, headers=headers, json=body)
        assert response.status_code == 409, (path, response.get_json())
        assert response.get_json()["detail"] == TASK_ESCALATED

    assert login(client, DOST_OFFICER, DEMO_PASSWORD).status_code == 302
    page = client.get(f"/tasks/{task.id}")
    assert page.status_code == 409 and TASK_ESCALATED in page.get_data(as_text=True)


def test_a_completion_waiting_on_the_sweep_learns_the_lead_took_it(runtime: Runtime, clock):
    """The officer's completion read the task just before the sweep locked the instance: it waits for
    the lock, then must say that the lead took the task, not that it is done or unknown."""
    nomination_id = nomination_at_dost_check(runtime)
    [task] = open_tasks(runtime, nomination_id)
    officer = actor(runtime, DOST_OFFICER)
    clock.set(PAST_DEADLINE)
    sweeper = Runtime(runtime.config, clock=clock)  # the worker process
    results: list[object] = []

    def attempt() -> None:
        try:
            results.append(complete_task(runtime, officer, task.id, CHECKED))
        except DomainError as exc:  # a 404 or another 409 is reported, not lost in the thread
            results.append(exc)

    try:
        with sweeper.uow() as uow:
            instance_id = uow.session.scalars(select(Nomination.instance_id).where(
                Nomination.id == nomination_id)).one()
            row, instance = load_instance(uow.session, sweeper, instance_id, lock=True)
            waiting = threading.Thread(target=attempt, daemon=True)
            waiting.start()
            waiting.join(timeout=0.5)
            assert waiting.is_alive(), f"the completion did not wait for the sweep: {results}"
            record(uow.session, sweeper, row, instance, instance.fire_due_timers(), None)
            uow.commit()
        waiting.join(timeout=60)
    finally:
        sweeper.db.dispose()
    [outcome] = results
    assert isinstance(outcome, Conflict) and outcome.detail == TASK_ESCALATED, outcome
    assert [t.task_id for t in open_tasks(runtime, nomination_id)] == ["dost_check_dossier_escalated"]

