"""A province role's open and overdue task counts come from open_task alone: each open task says whether
its nomination is its unit's own (a draft, or decided inside the unit), kept by the database's
triggers whatever writes the nomination or the task (0020_statistics_unit_only). The figures are the
ones the join to the nominations gives, on SQLite and PostgreSQL, and no statement joins open tasks
to nominations for a role without units of its own."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, select, text

from service.core.runtime import Runtime
from service.db.models import User
from service.reads import statistics as stats
from service.security.access import Actor, load_actor
from tests.service.test_statistics import known  # noqa: F401 (the known data set)


def unit_only(runtime: Runtime) -> dict[str, bool]:
    with runtime.db.engine.connect() as connection:
        return {nid: bool(flag) for nid, flag in connection.execute(text(
            "SELECT nomination_id, unit_only FROM open_task WHERE nomination_id IS NOT NULL"))}


def write(runtime: Runtime, sql: str, **params: Any) -> None:
    with runtime.db.engine.begin() as connection:
        connection.execute(text(sql), params)


def test_each_open_task_knows_whether_its_nomination_is_its_units_own(runtime: Runtime,
                                                                      known: dict[str, str]) -> None:  # noqa: F811
    """Written by the use cases (n4 stays a draft), then by plain SQL: the flag follows at once, in
    the writer's transaction, whatever wrote the nomination or the task."""
    assert unit_only(runtime) == {known["n1"]: False, known["n2"]: False, known["n4"]: True}
    write(runtime, "UPDATE nomination SET status = 'draft' WHERE id = :id", id=known["n1"])
    assert unit_only(runtime)[known["n1"]] is True
    write(runtime, "UPDATE nomination SET status = 'dost_review' WHERE id = :id", id=known["n1"])
    assert unit_only(runtime)[known["n1"]] is False
    write(runtime, "UPDATE nomination SET within_unit = true WHERE id = :id", id=known["n2"])
    assert unit_only(runtime)[known["n2"]] is True
    write(runtime, "UPDATE nomination SET within_unit = false WHERE id = :id", id=known["n2"])
    assert unit_only(runtime)[known["n2"]] is False
    # A task inserted for a draft takes its nomination's state (the service never sets the flag).
    write(runtime, "INSERT INTO open_task (id, instance_id, process_id, task_id, name, role, opened_at, "
                   "nomination_id, movement_id) SELECT 'extra', instance_id, process_id, task_id, name, role, "
                   "opened_at, nomination_id, movement_id FROM open_task WHERE nomination_id = :id", id=known["n4"])
    with runtime.db.engine.connect() as connection:
        assert connection.execute(text("SELECT unit_only FROM open_task WHERE id = 'extra'")).scalar_one()


def actor(runtime: Runtime, username: str, extra_units: tuple[str, ...] = ()) -> Actor:
    with runtime.uow() as uow:
        user = uow.session.scalars(select(User).where(User.username == username)).one()
        found = load_actor(uow.session, user, date.today(), runtime.roles)
    role = next(iter(found.grants))[0]
    return dataclasses.replace(found, grants=found.grants | {(role, unit) for unit in extra_units})


@pytest.mark.parametrize(("username", "extra_units"), [
    ("lanhdao.khcn", ()),
    # A province role that is also a unit's: it sees that unit's draft, so its task is counted.
    ("lanhdao.khcn", ("phuong-hien-nam",)),
    ("chuyenvien.khcn", ("so-tai-chinh",)),
    ("quantri", ()),
])
def test_open_task_figures_equal_the_join_to_the_nominations(runtime: Runtime, known: dict[str, str],  # noqa: F811
                                                            username: str, extra_units: tuple[str, ...]) -> None:
    who = actor(runtime, username, extra_units)
    scope = stats.scope_for(runtime, who, 1)
    slow = dataclasses.replace(scope, unit_only_seen=None)  # the movement's tasks less a join to the hidden
    fast_figures, slow_figures = stats.figures(runtime, scope), stats.figures(runtime, slow)
    for name in ("overdue_by_desk", "overdue_by_person", "open_by_stage"):
        assert getattr(fast_figures, name) == getattr(slow_figures, name), name
    counted = sum(n for _, _, n, _ in fast_figures.open_by_stage)
    everything = sum(n for _, _, n, _ in stats.figures(runtime, stats.scope_for(runtime, actor(runtime, "quantri"),
                                                                                 1)).open_by_stage)
    sees_the_draft = who.is_admin or "phuong-hien-nam" in extra_units
    assert counted == everything - (0 if sees_the_draft else 1)


def test_a_province_roles_open_tasks_are_counted_without_a_join(runtime: Runtime,
                                                               known: dict[str, str]) -> None:  # noqa: F811
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(runtime.db.engine, "before_cursor_execute", seen)
    try:
        stats.figures(runtime, stats.scope_for(runtime, actor(runtime, "lanhdao.khcn"), 1))
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", seen)
    on_tasks = [s for s in statements if "FROM open_task" in s]
    assert on_tasks and not [s for s in on_tasks if "JOIN nomination" in s], on_tasks
