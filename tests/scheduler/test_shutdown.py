"""SIGTERM to `nomflow serve` and `nomflow worker` under load, as real processes: each exits 0 within
NOMFLOW_SHUTDOWN_GRACE, and the database is consistent afterwards: every acknowledged write is there,
no instance is half-woken, every mail is either recorded as sent (and arrived exactly once) or still
pending (and arrives after a restart), and no outbox lease is left behind."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import signal
import subprocess
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from service.db.models import InboxRow, Nomination, OutboxMail
from service.usecases.accounts import create_token
from tests.workflows.conftest import draft_data

from .factory import clone_instances
from .helpers import HIEN_NAM, STAFF, actor, at, count_audit, enqueue_digests, nomination_at_dost_check
from .smtp_sink import SmtpSink, free_port
from .test_worker_crash import scalar, unsent, woken
from .worker_process import wait_until

GRACE = 8
DUE = at("2026-04-17", 8)


class SlowSink(SmtpSink):
    """Takes `delay` seconds per message; with `stalled` set, never answers DATA (a hung server)."""

    def __init__(self, delay: float = 0.0):
        super().__init__(parse=False)
        self.delay = delay
        self.stalled = threading.Event()
        self.hanging = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.stalled.is_set():
            self.hanging += 1
            await asyncio.sleep(600)
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp():
    sinks: list[SlowSink] = []

    def start(delay: float = 0.0) -> SlowSink:
        sinks.append(SlowSink(delay).start())  # type: ignore[arg-type]
        return sinks[-1]

    yield start
    for sink in sinks:
        sink.stalled.clear()
        sink.stop()


def terminate(process: subprocess.Popen[bytes], grace: float = GRACE) -> float:
    """SIGTERM; the process must exit 0 within the grace period. Returns how long it took."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=grace + 30)  # the assertion below says by how much it overran
    took = time.monotonic() - started
    assert code == 0, code
    assert took <= grace + 1.0, f"exited {took:.1f} s after SIGTERM, grace {grace} s"
    return took


def mails(runtime) -> dict[str, tuple[str, int]]:
    with runtime.uow() as uow:
        return {m: (s, a) for m, s, a in uow.session.execute(
            select(OutboxMail.message_id, OutboxMail.status, OutboxMail.attempts))}


def check_outbox(runtime, sink: SmtpSink) -> None:
    """No lease left, and what the server accepted is exactly what is recorded as sent."""
    recorded = mails(runtime)
    assert {status for status, _ in recorded.values()} <= {"sent", "pending"}, recorded
    counts = sink.counts()
    assert set(counts) == {m for m, (status, _) in recorded.items() if status == "sent"}
    assert set(counts.values()) <= {1}


def test_worker_stops_within_grace_while_sweeping_and_delivering(runtime, clock, database_url, tmp_path: Path,
                                                                  start_worker, slow_smtp):
    sink = slow_smtp(delay=0.02)
    source = nomination_at_dost_check(runtime)
    clone_instances(runtime, source, 299)
    log = tmp_path / "worker.log"
    now = DUE + timedelta(minutes=30)
    grace = {"NOMFLOW_SHUTDOWN_GRACE": str(GRACE)}
    worker = start_worker(database_url, tmp_path / "w", sink.port, now, log, env=grace)
    wait_until(lambda: woken(runtime) >= 20 and len(sink.messages()) >= 5, 120, "sweep and delivery under way", log)
    terminate(worker)

    done = woken(runtime)
    assert done == count_audit(runtime, "send_reminder")  # no instance half-woken
    assert scalar(runtime, select(func.count()).select_from(OutboxMail)) == done  # its mail came with it
    check_outbox(runtime, sink)

    worker = start_worker(database_url, tmp_path / "w", sink.port, now, log, env=grace)
    wait_until(lambda: woken(runtime) == 300 and unsent(runtime) == 0, 180, "the rest after a restart", log)
    terminate(worker)
    assert count_audit(runtime, "send_reminder") == 300
    check_outbox(runtime, sink)


def test_worker_stops_within_grace_when_the_smtp_server_hangs(runtime, clock, database_url, tmp_path: Path,
                                                              start_worker, slow_smtp):
    sink = slow_smtp()
    enqueue_digests(runtime, [f"nguoi{n}@hungyen.gov.vn" for n in range(30)])
    sink.stalled.set()
    log = tmp_path / "worker.log"
    grace = {"NOMFLOW_SHUTDOWN_GRACE": "4"}
    worker = start_worker(database_url, tmp_path / "w", sink.port, clock.now(), log, env=grace)
    wait_until(lambda: sink.hanging >= 1, 60, "a send hanging on the server", log)
    terminate(worker, grace=4)

    recorded = mails(runtime)
    assert not sink.messages()
    assert {status for status, _ in recorded.values()} == {"pending"}  # no lease left behind
    # The mail caught mid-send counts one failed attempt and is retried after the back-off; the
    # others were never tried.
    assert sorted(attempts for _, attempts in recorded.values()) == [0] * 29 + [1]

    sink.stalled.clear()
    worker = start_worker(database_url, tmp_path / "w", sink.port, clock.now() + timedelta(minutes=2), log, env=grace)
    wait_until(lambda: unsent(runtime) == 0, 60, "the outbox after a restart", log)
    terminate(worker, grace=4)
    check_outbox(runtime, sink)
    assert set(sink.counts()) == set(recorded)


class Api:
    def __init__(self, port: int, token: str):
        self.port, self.token = port, token

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None,
             content_type: str = "application/json") -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            payload = raw if raw is not None else json.dumps(body).encode() if body is not None else None
            headers = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, json.loads(data) if data else None
        finally:
            connection.close()


def nominate(api: Api, acknowledged: dict[str, list[str]]) -> None:
    """Create, attach, submit a nomination; records each write the server acknowledged."""
    status, created = api.call("POST", "/api/v1/nominations", {"unit_id": HIEN_NAM, "data": {}})
    if status != 201:
        return
    nomination_id = created["id"]
    acknowledged["created"].append(nomination_id)
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"to_trinh.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + b"%PDF-1.4\n" + uuid.uuid4().bytes + \
        f"\r\n--{boundary}--\r\n".encode()
    status, stored = api.call("POST", f"/api/v1/nominations/{nomination_id}/attachments", raw=body,
                              content_type=f"multipart/form-data; boundary={boundary}")
    if status != 201:
        return
    status, detail = api.call("GET", f"/api/v1/nominations/{nomination_id}")
    task = next(t for t in detail["tasks"] if t["task_id"] == "draft_nomination")
    data = {**draft_data(), "dossier": dict.fromkeys(draft_data()["dossier"], stored["sha256"])}
    status, _ = api.call("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": data})
    if status == 200:
        acknowledged["submitted"].append(task["id"])


def test_serve_stops_within_grace_under_load(runtime, clock, database_url, tmp_path: Path, start_worker,
                                             slow_smtp):
    sink = slow_smtp(delay=0.05)  # delivery is busy when SIGTERM arrives
    enqueue_digests(runtime, [f"nguoi{n}@hungyen.gov.vn" for n in range(200)])
    token = create_token(runtime, actor(runtime, STAFF), "shutdown-test")
    port = free_port()
    log = tmp_path / "serve.log"
    serve = start_worker(database_url, tmp_path / "w", sink.port, clock.now(), log, "--port", str(port),
                         "--threads", "4", command="serve",
                         env={"NOMFLOW_SHUTDOWN_GRACE": str(GRACE), "NOMFLOW_SCHEDULER": "1"})
    api = Api(port, token)

    def up() -> bool:
        try:
            return api.call("GET", "/api/v1/me")[0] == 200
        except OSError:
            return False

    wait_until(up, 60, "the server", log, interval=0.2)
    acknowledged: dict[str, list[str]] = {"created": [], "submitted": []}
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            # Refused or cut off while stopping: not acknowledged, so nothing is expected of it.
            with contextlib.suppress(OSError, http.client.HTTPException):
                nominate(api, acknowledged)

    clients = [threading.Thread(target=client, daemon=True) for _ in range(4)]
    for thread in clients:
        thread.start()
    wait_until(lambda: len(acknowledged["submitted"]) >= 5 and len(sink.messages()) >= 10, 120, "load", log)
    try:
        terminate(serve)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=60)

    with runtime.uow() as uow:
        session = uow.session
        stored = set(session.scalars(select(Nomination.id)))
        still_open = set(session.scalars(select(InboxRow.id)))
    assert set(acknowledged["created"]) <= stored
    assert not set(acknowledged["submitted"]) & still_open
    check_outbox(runtime, sink)
    assert scalar(runtime, select(func.count()).select_from(OutboxMail)) >= 200
