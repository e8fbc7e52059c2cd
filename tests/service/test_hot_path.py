"""The statements of the hot path: creating a draft and completing a nomination's task read what
they need of the movement together with the row they read anyway, never in a statement of its own
(DESIGN.md: a fixed, small number of statements per completion)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from service.core.runtime import Runtime
from service.db.models import Movement
from tests.workflows.conftest import draft_data

from .helpers import HEAD, HIEN_NAM, STAFF, complete, open_task, submitted_nomination

SEND_UP = {"decision": "submit", "submission_number": "45/TTr-UBND"}


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def keep(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(runtime.db.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", keep)


def alone(table: str, seen: list[str]) -> list[str]:
    """The statements that read `table` by itself (FROM table, no join to another row)."""
    return [s for s in seen if re.search(rf"\bFROM {table}\b", s) and " JOIN " not in s]


def test_completing_a_nomination_task_reads_its_movement_with_the_nomination(client, auth, runtime) -> None:
    nomination_id = submitted_nomination(client, auth)
    task = open_task(client, auth, nomination_id, "unit_review")
    auth(HEAD)  # its token made before counting
    with statements(runtime) as seen:
        response = complete(client, auth, HEAD, task["id"], SEND_UP)
    assert response.status_code == 200, response.get_json()
    assert alone("movement", seen) == []


def test_a_draft_in_a_named_movement_checks_the_unit_in_the_same_statement(client, auth, runtime) -> None:
    with runtime.read() as uow:
        movement_id = uow.session.scalars(select(Movement.id)).first()
    headers = auth(STAFF)
    with statements(runtime) as seen:
        response = client.post("/api/v1/nominations", headers=headers,
                               json={"unit_id": HIEN_NAM, "data": draft_data(), "movement_id": movement_id})
    assert response.status_code == 201, response.get_json()
    assert alone("movement_unit", seen) == [] and alone("movement", seen) == []
