"""Draft saves and submissions racing over real HTTP: two `nomflow serve` processes (gunicorn,
threads) on one database, requests released together from pre-opened connections, on SQLite and
PostgreSQL (issue 13, points 1 to 4). Every acknowledged write must be in the database; a write
that cannot land whole answers 409; nothing answers 500.

Each race adds its counts to a table in test-output/races.md (race, backend, rounds, answers, lost
fields, divergences): `NOMFLOW_RACE_ROUNDS=30` gives the issue's measurement.
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

from service.core.config import ROOT, ServiceConfig
from service.core.runtime import Runtime
from service.db.models import AuditEvent, InboxRow, Nomination
from service.usecases.accounts import create_token
from service.usecases.instances import load_instance
from service.usecases.setup import add_user
from tests.service.conftest import VN, SeededTemplates
from tests.service.helpers import giay_khen_on_the_nomination_path
from tests.service.test_concurrency import actor, draft
from tests.support.postgres import PostgresServer
from tests.support.served import Served, serve
from workflows.clock import FixedClock

ROUNDS = int(os.environ.get("NOMFLOW_RACE_ROUNDS", "8"))  # more for a measurement, e.g. 30
STAFF, HEAD, SECOND_HEAD = "canbo.hiennam", "chutich.hiennam", "phochutich.hiennam"
UNIT = "phuong-hien-nam"


TABLE = ROOT / "test-output" / "races.md"
TALLIES: dict[tuple[str, str], dict[str, int]] = {}


def tally(race: str, backend: str, statuses: list[int], lost: int = 0, divergences: int = 0,
          rounds: int = 1) -> None:
    """Count one round's answers into the table, rewritten whole each time (a failing race still
    leaves its figures)."""
    row = TALLIES.setdefault((race, backend), dict.fromkeys(("rounds", "2xx", "409", "403", "other", "lost",
                                                             "divergences"), 0))
    row["rounds"] += rounds
    for status in statuses:
        key = "2xx" if 200 <= status < 300 else str(status) if status in (409, 403) else "other"
        row[key] += 1
    row["lost"] += lost
    row["divergences"] += divergences
    lines = ["| race | backend | rounds | 2xx | 409 | 403 | other (5xx…) | lost fields | divergences |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r} | {b} | " + " | ".join(str(v) for v in counts.values()) + " |"
              for (r, b), counts in TALLIES.items()]
    TABLE.parent.mkdir(exist_ok=True)
    TABLE.write_text("\n".join(lines) + "\n")


@dataclass
class Stack:
    backend: str
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
        giay_khen_on_the_nomination_path(runtime)  # the races switch a draft's award between the two kinds
        add_user(runtime, SECOND_HEAD, "Đỗ Văn Phó", "unit_head", UNIT, password="demo-password-2")
        headers, *heads = ({"Authorization": "Bearer " + create_token(runtime, actor(runtime, name), "races")}
                           for name in (STAFF, HEAD, SECOND_HEAD))
        with serve(url, folder, count=2, frozen_at=start) as servers:
            yield Stack(request.param, servers, runtime, headers, heads)
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
        tally("3 saves at once", stack.backend, [status for status, _ in results],
              lost=len(problems["lost although answered 204"]),
              divergences=int(bool(problems["columns differ from data"] or problems["inbox row differs"])))
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
        tally("save vs submit", stack.backend, [saved, submitted])
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
        tally("save vs submit", stack.backend, [], rounds=0, lost=int(saved == 204 and bool(wrong)),
              divergences=int(bool(wrong)))
        if wrong or after["tasks"][0][0] == "draft_nomination":
            bad.append((round_, {"save answered": saved, "expected": expected, "found": wrong}))
    assert not bad, f"{len(bad)} of {ROUNDS} rounds went wrong: {bad}"


def test_double_submit_has_one_200_and_409s(stack: Stack):
    servers, runtime, headers = stack.servers, stack.runtime, stack.headers
    for round_ in range(ROUNDS // 2):
        nomination_id = new_draft(servers, headers, f"Hồ sơ gửi hai lần {round_}")
        url = f"/api/v1/nominations/{nomination_id}/submit"
        results = at_once(servers, [("POST", url, {"data": {}}, headers)] * 4)
        tally("4 submits", stack.backend, [status for status, _ in results])
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
        tally("2 claims", stack.backend, statuses)
        assert sorted(statuses) == [204, 403], results
        with runtime.read() as uow:
            assignee = uow.session.get(InboxRow, task.id).assignee_id  # type: ignore[union-attr]
        winner = actor(runtime, (HEAD, SECOND_HEAD)[statuses.index(204)]).user_id
        if assignee != winner:
            replaced.append(round_)
    assert not replaced, f"the claim answered 204 was replaced by the other in rounds {replaced}"


def test_saves_racing_submission_and_completion_answer_2xx_or_409(stack: Stack):
    """The shape that deadlocked on PostgreSQL (point 3): two saves, the submission and a completion
    of the same draft task over the tasks API, all at once. Each touches the nomination and its open
    task, the saves and the completions in opposite orders before one lock order: never a 500, one
    completion wins, and every save answered 204 is in what was submitted."""
    servers, runtime, headers = stack.servers, stack.runtime, stack.headers
    bad = []
    for round_ in range(ROUNDS):
        nomination_id = new_draft(servers, headers, f"Hồ sơ khóa chéo {round_}")
        with runtime.read() as uow:
            task_id = uow.session.scalars(select(InboxRow.id).where(InboxRow.nomination_id == nomination_id)).one()
        saves = [{"nominee_name": f"Tên chót {round_}"}, {"award": "giay_khen"}]
        summary = f"Thành tích nộp qua việc, vòng {round_}."
        url = f"/api/v1/nominations/{nomination_id}"
        results = at_once(servers, [
            ("PATCH", f"{url}/draft", {"data": saves[0]}, headers),
            ("POST", f"{url}/submit", {"data": {}}, headers),
            ("POST", f"/api/v1/tasks/{task_id}/complete", {"data": {"achievement_summary": summary}}, headers),
            ("PATCH", f"{url}/draft", {"data": saves[1]}, headers)])
        statuses = [status for status, _ in results]
        after = stored(runtime, nomination_id)
        landed = {k: v for change, status in zip(saves, (statuses[0], statuses[3]), strict=True) if status == 204
                  for k, v in change.items()}
        if statuses[2] == 200:
            landed["achievement_summary"] = summary
        completed = after["completed"]
        views = {"nomination": after["data"], "process": after["process"],
                 "submitted data": completed[0]["data"] if len(completed) == 1 else {}}
        lost = sorted({k for view in views.values() for k, v in landed.items() if view.get(k) != v})
        fields = ("nominee_name", "award", "achievement_summary")
        diverged = {name: [view.get(k) for k in fields] for name, view in views.items()
                    if [view.get(k) for k in fields] != [after["data"].get(k) for k in fields]}
        if after["tasks"] and after["tasks"][0][1] != after["data"]["nominee_name"]:
            diverged["inbox"] = after["tasks"]
        tally("2 saves + submit + complete", stack.backend, statuses, lost=len(lost), divergences=int(bool(diverged)))
        problems = {"answers": [s for s in statuses if s not in (200, 204, 409)],
                    "completions": [] if sorted(statuses[1:3]) == [200, 409] and len(completed) == 1
                    else [statuses[1:3], len(completed)],
                    "lost although acknowledged": lost, "diverged": diverged}
        if any(problems.values()):
            bad.append((round_, {k: v for k, v in problems.items() if v}, [b for _, b in results]))
    assert not bad, f"{len(bad)} of {ROUNDS} rounds went wrong: {bad}"
