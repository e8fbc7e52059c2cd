"""Draft saves and submissions racing over real HTTP: two `nomflow serve` processes (gunicorn,
threads) on one database, requests released together from pre-opened connections, on SQLite and
PostgreSQL (issue 13, points 1, 2 and 4). Every acknowledged write must be in the database; a write
that cannot land whole answers 409.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from service.core.config import ServiceConfig
from service.core.runtime import Runtime
from service.db.models import AuditEvent, InboxRow, Nomination
from service.usecases.accounts import create_token
from service.usecases.instances import load_instance
from service.usecases.setup import add_user
from tests.service.conftest import VN, SeededTemplates
from tests.service.test_concurrency import actor, draft
from tests.support.postgres import PostgresServer
from tests.support.served import Served, serve
from workflows.clock import FixedClock

ROUNDS = int(os.environ.get("NOMFLOW_RACE_ROUNDS", "8"))  # more for a measurement, e.g. 30
STAFF, HEAD, SECOND_HEAD = "canbo.hiennam", "chutich.hiennam", "phochutich.hiennam"
UNIT = "phuong-hien-nam"


@dataclass
class Stack:
    servers: list[Served]
    runtime: Runtime  # reads what the servers wrote
    headers: dict[str, str]  # the unit's staff member's API token
    heads: list[dict[str, str]]  # two holders of the unit head's role


@pytest.fixture(scope="module", params=["sqlite", "postgresql"], ids=["sqlite", "pg"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          seeded_templates: SeededTemplates) -> Iterator[Stack]:
    """Two server processes on one seeded database per backend, shared by this module's tests (each
    round works on its own new nomination): a race may meet two instance caches and two pools."""
    start = datetime(2026, 4, 13, 9, 0, tzinfo=VN)
    folder = tmp_path_factory.mktemp("races")
    server: PostgresServer | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'nomflow.sqlite3'}"
        shutil.copyfile(seeded_templates.sqlite(start), folder / "nomflow.sqlite3")
    else:
        server = request.getfixturevalue("postgres_server")
        name = server.clone(seeded_templates.postgres(server, start))
        url = server.url(name)
    runtime = Runtime(ServiceConfig(instance_dir=folder, database_url=url, testing=True, secret_key="races",
                                    scheduler_in_process=False), clock=FixedClock(start))
    try:
        add_user(runtime, SECOND_HEAD, "Đỗ Văn Phó", "unit_head", UNIT, password="demo-password-2")
        headers, *heads = ({"Authorization": "Bearer " + create_token(runtime, actor(runtime, name), "races")}
                           for name in (STAFF, HEAD, SECOND_HEAD))
        with serve(url, folder, count=2, frozen_at=start) as servers:
            yield Stack(servers, runtime, headers, heads)
    finally:
        runtime.db.dispose()
        if server is not None:
            server.drop_later(name)


def at_once(servers: list[Served], calls: list[tuple[str, str, Any, dict[str, str]]]) -> list[tuple[int, Any]]:
    """Send the calls together, alternating between the servers: [(status, body)]."""
    connections = [servers[i % len(servers)].connection() for i in range(len(calls))]
    barrier = threading.Barrier(len(calls))
    results: list[tuple[int, Any]] = [(0, "never ran")] * len(calls)

    def send(index: int) -> None:
        method, path, body, headers = calls[index]
        barrier.wait(timeout=30)
        status, _, decoded = servers[index % len(servers)].request(method, path, body, headers, connections[index])
        results[index] = (status, decoded)

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for connection in connections:
        connection.close()
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results


def new_draft(servers: list[Served], headers: dict[str, str], name: str) -> str:
    status, _, body = servers[0].request("POST", "/api/v1/nominations", {"unit_id": UNIT, "data": draft(name)},
                                         headers)
    assert status == 201, body
    return str(body["id"])


def stored(runtime: Runtime, nomination_id: str) -> dict[str, Any]:
    """The nomination row, its open task rows and its process data, read afresh from the database."""
    with runtime.read() as uow:
        session = uow.session
        nomination = session.get(Nomination, nomination_id)
        assert nomination is not None and nomination.instance_id
        _, instance = load_instance(session, runtime, nomination.instance_id)
        tasks = list(session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination_id)))
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.nomination_id == nomination_id)))
        return {"data": nomination.data, "columns": (nomination.nominee_name, nomination.award),
                "status": nomination.status, "process": instance.data,
                "tasks": [(t.task_id, t.nominee_name) for t in tasks],
                "saved": sum(e.kind == "draft_saved" for e in events),
                "completed": [e.detail for e in events if e.kind == "task_completed"]}


def test_concurrent_draft_saves_keep_every_acknowledged_field(stack: Stack):
    servers, runtime, headers = stack.servers, stack.runtime, stack.headers
    bad = []  # (round, what went wrong): every round is played, so a failure says how often
    for round_ in range(ROUNDS):
        nomination_id = new_draft(servers, headers, f"Hồ sơ đua {round_}")
        changes = [{"nominee_name": f"Tên mới số {round_}"},
                   {"achievement_summary": f"Thành tích mới của vòng {round_}: số hóa toàn bộ hồ sơ."},
                   {"award": "giay_khen"}]
        url = f"/api/v1/nominations/{nomination_id}/draft"
        results = at_once(servers, [("PATCH", url, {"data": change}, headers) for change in changes])
        after = stored(runtime, nomination_id)
        landed = [change for change, (status, _) in zip(changes, results, strict=True) if status == 204]
        problems = {
            "answers": [status for status, _ in results if status not in (204, 409)],
            "lost although answered 204": [c for c in landed if any(after["data"].get(k) != v for k, v in c.items())],
            "draft_saved events": [] if after["saved"] == len(landed) else [after["saved"], len(landed)],
            "columns differ from data": [] if after["columns"] == (after["data"]["nominee_name"],
                                                                   after["data"]["award"]) else [after["columns"]],
            "inbox row differs": [] if after["tasks"] == [("draft_nomination", after["data"]["nominee_name"])]
            else after["tasks"]}
        if any(problems.values()):
            bad.append((round_, {k: v for k, v in problems.items() if v}))
    assert not bad, f"{len(bad)} of {ROUNDS} rounds went wrong: {bad}"


def test_a_save_racing_the_submission_lands_before_it_or_answers_409(stack: Stack):
    servers, runtime, headers = stack.servers, stack.runtime, stack.headers
    bad = []
    for round_ in range(ROUNDS):
        nomination_id = new_draft(servers, headers, f"Hồ sơ gửi {round_}")
        change = {"nominee_name": f"Tên sửa phút chót {round_}", "award": "giay_khen"}
        results = at_once(servers, [
            ("PATCH", f"/api/v1/nominations/{nomination_id}/draft", {"data": change}, headers),
            ("POST", f"/api/v1/nominations/{nomination_id}/submit", {"data": {}}, headers)])
        (saved, save_body), (submitted, submit_body) = results
        if submitted != 200 or saved not in (204, 409):
            bad.append((round_, {"answers": (saved, submitted), "bodies": (save_body, submit_body)}))
            continue
        after = stored(runtime, nomination_id)
        expected = change if saved == 204 else {"nominee_name": f"Hồ sơ gửi {round_}", "award": "bang_khen"}
        [completion] = after["completed"]
        views = {"nomination": {k: after["data"][k] for k in expected},
                 "columns": dict(zip(("nominee_name", "award"), after["columns"], strict=True)),
                 "process": {k: after["process"][k] for k in expected},
                 "submitted data": {k: completion["data"][k] for k in expected},
                 "inbox": {"nominee_name": after["tasks"][0][1]}}
        wrong = {where: seen for where, seen in views.items() if any(expected[k] != v for k, v in seen.items())}
        if wrong or after["tasks"][0][0] == "draft_nomination":
            bad.append((round_, {"save answered": saved, "expected": expected, "found": wrong}))
    assert not bad, f"{len(bad)} of {ROUNDS} rounds went wrong: {bad}"


def test_double_submit_has_one_200_and_409s(stack: Stack):
    servers, runtime, headers = stack.servers, stack.runtime, stack.headers
    for round_ in range(ROUNDS // 2):
        nomination_id = new_draft(servers, headers, f"Hồ sơ gửi hai lần {round_}")
        url = f"/api/v1/nominations/{nomination_id}/submit"
        results = at_once(servers, [("POST", url, {"data": {}}, headers)] * 4)
        assert sorted(status for status, _ in results) == [200, 409, 409, 409], results
        assert all("đã được xử lý" in body["detail"] for status, body in results if status == 409), results
        after = stored(runtime, nomination_id)
        assert len(after["completed"]) == 1 and after["status"] == "unit_review"


def test_two_claims_at_once_leave_one_claimant(stack: Stack):
    """Both heads may take the task; the one whose claim lands holds it, the other is refused (403,
    the task is someone else's now): never two 204s with the first claimant silently replaced."""
    servers, runtime, headers = stack.servers, stack.runtime, stack.headers
    replaced = []
    for round_ in range(ROUNDS // 2):
        nomination_id = new_draft(servers, headers, f"Hồ sơ nhận việc {round_}")
        submitted = servers[0].request("POST", f"/api/v1/nominations/{nomination_id}/submit", {"data": {}}, headers)
        assert submitted[0] == 200, submitted
        with runtime.read() as uow:
            task = uow.session.scalars(select(InboxRow).where(InboxRow.nomination_id == nomination_id)).one()
        results = at_once(servers, [("POST", f"/api/v1/tasks/{task.id}/claim", None, head) for head in stack.heads])
        statuses = [status for status, _ in results]
        assert sorted(statuses) == [204, 403], results
        with runtime.read() as uow:
            assignee = uow.session.get(InboxRow, task.id).assignee_id  # type: ignore[union-attr]
        winner = actor(runtime, (HEAD, SECOND_HEAD)[statuses.index(204)]).user_id
        if assignee != winner:
            replaced.append(round_)
    assert not replaced, f"the claim answered 204 was replaced by the other in rounds {replaced}"
