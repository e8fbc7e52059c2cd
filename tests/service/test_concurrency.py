"""Two people completing the same task at once: exactly one wins, the others get 409, and nothing of
theirs is half-applied. Real threads on one runtime (one engine pool, as in a threaded web server),
released together by a barrier, on SQLite and PostgreSQL; plus the optimistic lock driven step by step.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service.core.errors import Conflict
from service.core.runtime import Runtime
from service.db.models import AuditEvent, InboxRow, InstanceRow, Nomination, OutboxMail, User
from service.security.access import Actor
from service.usecases.accounts import actor_for_user
from service.usecases.instances import load_instance, record
from service.usecases.nominations import create_draft, submit
from service.usecases.setup import add_user
from service.usecases.tasks import complete_task

THREADS = 8
SUBMIT: dict[str, Any] = {"decision": "submit", "submission_number": "12/TTr-UBND"}
STEPS: dict[str, tuple[str, dict[str, Any]]] = {  # stage → (demo user who completes its task, form data)
    "unit_review": ("chutich.hiennam", SUBMIT),
    "dost_review": ("chuyenvien.khcn", {"decision": "complete", "criteria_met": ["a1", "a3"]}),
    "dost_selection": ("lanhdao.khcn", {"decision": "decline", "reason": "Chưa đạt các tiêu chí của Phong trào."}),
}
UNITS = {  # unit → (staff, head) among the demo users
    "phuong-hien-nam": ("canbo.hiennam", "chutich.hiennam"),
    "so-tai-chinh": ("canbo.taichinh", "giamdoc.taichinh"),
    "cty-hung-yen-digital": ("canbo.digital", "giamdoc.digital"),
}


def draft(name: str) -> dict[str, Any]:
    return {
        "nominee_kind": "co_quan_don_vi",
        "nominee_name": name,
        "award": "bang_khen",
        "achievement_summary": "Triển khai dịch vụ công trực tuyến toàn trình, số hóa 100% hồ sơ.",
        "criteria": ["a1", "a3"],
        "dossier": {"to_trinh": "1" * 64, "bien_ban_hoi_dong": "2" * 64, "bao_cao_thanh_tich": "3" * 64},
    }


def actor(runtime: Runtime, username: str) -> Actor:
    with runtime.uow() as uow:
        user_id = uow.session.scalars(select(User.id).where(User.username == username)).one()
    found = actor_for_user(runtime, user_id)
    assert found is not None
    return found[0]


def submitted(runtime: Runtime, unit: str = "phuong-hien-nam", name: str = "UBND phường Hiến Nam") -> tuple[str, str]:
    """A nomination waiting for its unit head: (nomination id, uuid of the unit_head_review task)."""
    staff = actor(runtime, UNITS[unit][0])
    nomination_id = create_draft(runtime, staff, unit, draft(name))
    submit(runtime, staff, nomination_id)
    with runtime.uow() as uow:
        task = uow.session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination_id)).one()
    assert task.stage == "unit_review"
    return nomination_id, task.id


def advance_to(runtime: Runtime, nomination_id: str, stage: str) -> str:
    """Complete the nomination's tasks in turn until the task of `stage` is open; its uuid."""
    while True:
        with runtime.uow() as uow:
            task = uow.session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination_id)).one()
        if task.stage == stage:
            return task.id
        username, data = STEPS[str(task.stage)]
        complete_task(runtime, actor(runtime, username), task.id, data)


@dataclass(frozen=True)
class Snapshot:
    """What a step of one nomination leaves behind, for comparing a race with a plain completion."""

    version: int
    status: str
    open_tasks: frozenset[str]  # bpmn ids of the open tasks
    completions: int  # task_completed events of the watched task
    audit_kinds: Counter[str]
    mails: tuple[tuple[str, str], ...]  # (to, subject) of every outbox mail in the database


def snapshot(runtime: Runtime, nomination_id: str, task_uuid: str) -> Snapshot:
    with runtime.uow() as uow:
        s = uow.session
        nomination = s.get(Nomination, nomination_id)
        assert nomination is not None and nomination.instance_id
        instance = s.get(InstanceRow, nomination.instance_id)
        assert instance is not None
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.nomination_id == nomination_id)))
        return Snapshot(
            version=instance.version,
            status=nomination.status,
            open_tasks=frozenset(s.scalars(select(InboxRow.stage).where(InboxRow.nomination_id == nomination_id))),
            completions=sum(1 for e in events if e.kind == "task_completed" and e.detail.get("task_uuid") == task_uuid),
            audit_kinds=Counter(e.kind for e in events),
            mails=tuple((to, subject) for to, subject in s.execute(
                select(OutboxMail.to_addr, OutboxMail.subject).order_by(OutboxMail.id))),
        )


def step(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    """The difference one step made, without its ids: comparable between two nominations."""
    return {"versions": after.version - before.version, "status": after.status, "open": after.open_tasks,
            "completions": after.completions - before.completions,
            "audit": after.audit_kinds - before.audit_kinds, "mails": Counter(after.mails[len(before.mails):])}


def at_once(calls: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run the calls in threads released together; ("ok", result) | ("conflict", exc) | ("error", exc)."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any]] = [("error", "never ran")] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = ("ok", call())
        except Conflict as exc:
            results[index] = ("conflict", exc)
        except BaseException as exc:  # noqa: B036 — reported to the test thread, not lost in this one
            results[index] = ("error", exc)

    threads = [threading.Thread(target=worker, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a completion hung (lock never released?)"
    return results


@pytest.mark.parametrize(("stage", "second"), [
    ("unit_review", ("phochutich.hiennam", "unit_head", "phuong-hien-nam")),  # opens the next task
    ("dost_selection", ("pholanhdao.khcn", "dost_lead", None)),  # declines: ends the instance, mails the unit
])
def test_same_task_completed_at_once_has_exactly_one_winner(runtime: Runtime, stage: str,
                                                             second: tuple[str, str, str | None]):
    # A second holder of the role, so that different people race, not only different threads.
    username, role, unit = second
    add_user(runtime, username, "Đỗ Văn Phó", role, unit, password="demo-password-2")
    racers = [actor(runtime, STEPS[stage][0]), actor(runtime, username)]
    data = STEPS[stage][1]

    # The yardstick: the same step on a twin nomination, uncontested.
    twin_id, _ = submitted(runtime)
    twin_task = advance_to(runtime, twin_id, stage)
    before = snapshot(runtime, twin_id, twin_task)
    complete_task(runtime, racers[0], twin_task, data)
    expected = step(before, snapshot(runtime, twin_id, twin_task))
    assert expected["versions"] == 1 and expected["completions"] == 1
    assert expected["open"] or expected["mails"]  # the step leaves something a loser could duplicate

    nomination_id, _ = submitted(runtime)  # same name: same mail subjects
    task_uuid = advance_to(runtime, nomination_id, stage)
    before = snapshot(runtime, nomination_id, task_uuid)
    results = at_once([partial(complete_task, runtime, racers[i % 2], task_uuid, data) for i in range(THREADS)])

    outcomes = Counter(kind for kind, _ in results)
    assert outcomes == {"ok": 1, "conflict": THREADS - 1}, [r for r in results if r[0] == "error"]
    assert all(isinstance(exc, Conflict) and exc.status == 409 for kind, exc in results if kind == "conflict")
    winner = next(value for kind, value in results if kind == "ok")
    after = snapshot(runtime, nomination_id, task_uuid)
    # One completion's worth of everything (audit events, open tasks, mails), nothing of the losers.
    assert step(before, after) == expected
    assert after.version == before.version + 1 == winner["version"]
    assert after.completions == 1
    with runtime.uow() as uow:
        open_ids = set(uow.session.scalars(select(InboxRow.id).where(InboxRow.nomination_id == nomination_id)))
        message_ids = list(uow.session.scalars(select(OutboxMail.message_id)))
    assert open_ids == set(winner["opened"])
    assert len(message_ids) == len(set(message_ids))


def test_same_task_raced_over_http_gives_one_200_and_409s(app: Flask, runtime: Runtime, auth):
    nomination_id, task_uuid = submitted(runtime)
    headers = auth("chutich.hiennam")
    with runtime.uow() as uow:
        version = uow.session.scalars(select(InstanceRow.version).join(
            Nomination, Nomination.instance_id == InstanceRow.id).where(Nomination.id == nomination_id)).one()
    before = snapshot(runtime, nomination_id, task_uuid)

    def post() -> Any:
        response = app.test_client().post(f"/api/v1/tasks/{task_uuid}/complete", headers=headers,
                                          json={"data": SUBMIT, "version": version})
        return response.status_code, response.get_json()

    results = at_once([post] * 4)
    assert [kind for kind, _ in results] == ["ok"] * 4, results
    statuses = sorted(status for _, (status, _) in results)
    assert statuses == [200, 409, 409, 409], results
    assert all(body["status"] == 409 and body["title"] for _, (status, body) in results if status == 409)
    after = snapshot(runtime, nomination_id, task_uuid)
    assert after.version == before.version + 1 and after.completions == 1


def test_different_nominations_completed_at_once_all_succeed(runtime: Runtime):
    units = list(UNITS) * 3
    work = [(unit, *submitted(runtime, unit, f"Hồ sơ {i}")) for i, unit in enumerate(units[:THREADS])]
    heads = {unit: actor(runtime, head) for unit, (_, head) in UNITS.items()}
    before = {nid: snapshot(runtime, nid, task) for _, nid, task in work}

    results = at_once([partial(complete_task, runtime, heads[unit], task, SUBMIT) for unit, _, task in work])

    assert [kind for kind, _ in results] == ["ok"] * THREADS, results
    for _, nid, task in work:
        after = snapshot(runtime, nid, task)
        assert after.version == before[nid].version + 1
        assert after.completions == 1
        assert after.status == "dost_review"
        assert after.open_tasks == {"dost_review"}


def test_stale_expected_version_is_refused_and_changes_nothing(runtime: Runtime):
    """The client read version v; meanwhile something else (a reminder timer, say) moved the instance."""
    nomination_id, task_uuid = submitted(runtime)
    head = actor(runtime, "chutich.hiennam")
    with runtime.uow() as uow:
        nomination = uow.session.get(Nomination, nomination_id)
        assert nomination is not None
        read_version = uow.session.get_one(InstanceRow, nomination.instance_id).version
        # Another writer touches the instance: the mapper's version counter moves on.
        uow.session.get_one(InstanceRow, nomination.instance_id).updated_at += timedelta(minutes=5)
        uow.commit()
    before = snapshot(runtime, nomination_id, task_uuid)
    assert before.version == read_version + 1

    with pytest.raises(Conflict) as refused:
        complete_task(runtime, head, task_uuid, SUBMIT, expected_version=read_version)
    assert refused.value.status == 409
    assert snapshot(runtime, nomination_id, task_uuid) == before

    done = complete_task(runtime, head, task_uuid, SUBMIT, expected_version=before.version)
    assert done["version"] == before.version + 1


def test_two_writers_of_one_read_version_the_second_gets_conflict(runtime: Runtime):
    """Two processes (two runtimes, two connection pools) both read version v, then both write: the
    version check in the UPDATE refuses the second, and its transaction leaves no trace."""
    nomination_id, task_uuid = submitted(runtime)
    head = actor(runtime, "chutich.hiennam")
    other = Runtime(runtime.config, clock=runtime.clock)  # a second web process on the same database
    try:
        before = snapshot(runtime, nomination_id, task_uuid)
        with other.uow() as uow:
            task = uow.session.get_one(InboxRow, task_uuid)
            row, instance = load_instance(uow.session, other, task.instance_id)  # reads version v, no lock
            uow.session.commit()  # end the read; on SQLite an open transaction would block the first writer
            assert row.version == before.version

            complete_task(runtime, head, task_uuid, SUBMIT)  # the first writer wins: v → v + 1

            outcome = instance.complete(task_uuid, SUBMIT, head.username)  # still open in the stale copy
            with pytest.raises(Conflict):
                record(uow.session, other, row, instance, outcome, head.user_id)
        after = snapshot(runtime, nomination_id, task_uuid)
        assert after.version == before.version + 1
        assert after.completions == 1
        assert after.audit_kinds["task_completed"] == before.audit_kinds["task_completed"] + 1
        assert after.open_tasks == {"dost_review"}
    finally:
        other.db.dispose()


def test_a_writer_waiting_on_the_row_lock_sees_the_task_gone(runtime: Runtime):
    """The first writer holds the instance (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) while a
    second one arrives: the second waits, then finds the task completed and gets 409."""
    nomination_id, task_uuid = submitted(runtime)
    head = actor(runtime, "chutich.hiennam")
    other = Runtime(runtime.config, clock=runtime.clock)
    try:
        with other.uow() as uow:
            task = uow.session.get_one(InboxRow, task_uuid)
            row, instance = load_instance(uow.session, other, task.instance_id, lock=True)
            results: list[str] = []
            second = threading.Thread(target=lambda: results.append(_attempt(runtime, head, task_uuid)), daemon=True)
            second.start()
            second.join(timeout=0.5)
            assert second.is_alive(), f"the second writer did not wait for the first: {results}"
            outcome = instance.complete(task_uuid, SUBMIT, head.username)
            record(uow.session, other, row, instance, outcome, head.user_id)
            uow.commit()
        second.join(timeout=60)
        assert results == ["conflict"]
        assert snapshot(runtime, nomination_id, task_uuid).completions == 1
    finally:
        other.db.dispose()


def _attempt(runtime: Runtime, head: Actor, task_uuid: str) -> str:
    try:
        complete_task(runtime, head, task_uuid, SUBMIT)
    except Conflict:
        return "conflict"
    return "ok"

