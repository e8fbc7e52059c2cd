"""A deadlock that still happens (issue 13, point 3) is retried once inside the use case's unit of
work, then answered 409, never 500. A real one on PostgreSQL: a second transaction holds row B and
waits for row A while the use case, holding A, asks for B. (SQLite serialises writers: no deadlock.)
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select, text

from service.core.errors import Conflict
from service.core.runtime import Runtime
from service.db.models import User
from service.db.session import retry_once

LOCK = text("SELECT id FROM user_account WHERE id = :id FOR UPDATE")
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


class Crossing:
    """The other transaction: takes B, then waits for A (released when the use case gives up)."""

    def __init__(self, runtime: Runtime, a: int, b: int):
        self.holds_b = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(runtime, a, b), daemon=True)
        self.thread.start()
        assert self.holds_b.wait(timeout=30)
        time.sleep(0.3)  # now waiting on A

    def _run(self, runtime: Runtime, a: int, b: int) -> None:
        with runtime.db.engine.connect() as connection:
            # This side waits longer before it looks for a deadlock: the use case's side finds it and loses.
            connection.execute(text("SET LOCAL deadlock_timeout = '20s'"))
            connection.execute(LOCK, {"id": b})
            self.holds_b.set()
            connection.execute(LOCK, {"id": a})
            connection.commit()


def use_case(runtime: Runtime, calls: list[int], deadlocked_calls: set[int]) -> str:
    calls.append(len(calls) + 1)
    with runtime.uow() as uow:
        session = uow.session
        a, b = session.scalars(select(User.id).order_by(User.id).limit(2)).all()
        session.execute(text("SET LOCAL deadlock_timeout = '50ms'"))
        session.execute(LOCK, {"id": a})
        crossing = Crossing(runtime, a, b) if len(calls) in deadlocked_calls else None
        try:
            session.execute(LOCK, {"id": b})
            uow.commit()
        finally:
            uow.session.close()  # gives A up, so the crossing transaction ends
            if crossing is not None:
                crossing.thread.join(timeout=30)
    return "done"


def test_a_deadlock_is_retried_once_and_then_lands(runtime: Runtime):
    calls: list[int] = []
    assert retry_once(use_case)(runtime, calls, {1}) == "done"
    assert calls == [1, 2]


def test_a_second_deadlock_answers_409(runtime: Runtime, client: Any):
    calls: list[int] = []
    with pytest.raises(Conflict) as refused:
        retry_once(use_case)(runtime, calls, {1, 2})
    assert refused.value.status == 409 and calls == [1, 2]


def test_a_deadlock_outside_any_retry_answers_409_not_500(app: Any, runtime: Runtime, client: Any, auth: Any):
    """A route whose use case has no retry of its own: the app's handler still answers 409."""
    calls: list[int] = []
    app.add_url_rule("/api/v1/_deadlock", "deadlock", lambda: use_case(runtime, calls, {1}), methods=["POST"])
    response = client.post("/api/v1/_deadlock", headers=auth("canbo.hiennam"))
    assert response.status_code == 409 and response.mimetype == "application/problem+json", response.text
    assert response.get_json()["status"] == 409 and calls == [1]
