"""Full disks under a real `nomflow serve` on SQLite and PostgreSQL (issue 13, points 6 and 7), on a
real tmpfs (tests/support/smalldisk.py):

- an upload the kernel refuses halfway answers 507 with a clear message, leaves no `.part` file,
  and the next small upload works once space is freed;
- the default layout, where the SQLite database and the attachments share one disk: uploads until
  the store refuses them leave every write and every read working, because uploads must leave the
  database's own size free besides the reserve (filestore.reserve_bytes).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from service.core.config import ServiceConfig
from service.core.runtime import Runtime
from service.db.models import InboxRow
from service.usecases.accounts import create_token
from tests.service.conftest import VN, SeededTemplates
from tests.service.test_concurrency import actor, draft
from tests.support.postgres import PostgresServer
from tests.support.served import Served, serve
from tests.support.smalldisk import fill, leftovers, small_disk
from workflows.clock import FixedClock

START = datetime(2026, 4, 13, 9, 0, tzinfo=VN)
UNIT, KB = "phuong-hien-nam", 1024
HEAD_DECIDES = {"decision": "submit", "submission_number": "12/TTr-UBND"}


def pdf(size: int, seed: str) -> bytes:
    head = f"%PDF-1.7\n%{seed}\n".encode()
    return head + b"x" * (size - len(head))


class Service:
    def __init__(self, server: Served, runtime: Runtime, staff: str, head: str):
        self.base, self.runtime = f"http://127.0.0.1:{server.port}", runtime
        self.staff, self.head = {"Authorization": f"Bearer {staff}"}, {"Authorization": f"Bearer {head}"}

    def call(self, method: str, path: str, json: Any = None, who: dict[str, str] | None = None) -> requests.Response:
        return requests.request(method, self.base + path, json=json, headers=who or self.staff, timeout=60)

    def upload(self, nomination_id: str, name: str, content: bytes) -> requests.Response:
        return requests.post(f"{self.base}/api/v1/nominations/{nomination_id}/attachments", headers=self.staff,
                             files={"file": (name, content, "application/pdf")}, timeout=60)

    def new_draft(self, name: str) -> str:
        created = self.call("POST", "/api/v1/nominations", {"unit_id": UNIT, "data": draft(name)})
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    def head_task(self, nomination_id: str) -> str:
        with self.runtime.read() as uow:
            return str(uow.session.scalars(select(InboxRow.id).where(InboxRow.nomination_id == nomination_id)).one())


Launch = Callable[..., AbstractContextManager[Service]]


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "pg"])
def launch(request: pytest.FixtureRequest, tmp_path: Path, seeded_templates: SeededTemplates) -> Launch:
    """launch(database_dir, attachments_dir, reserve_mb): a served process on a seeded database (SQLite:
    its file in database_dir) with its attachments in attachments_dir."""

    @contextmanager
    def start(database_dir: Path, attachments: Path, reserve_mb: int) -> Iterator[Service]:
        name = None
        if request.param == "sqlite":
            shutil.copyfile(seeded_templates.sqlite(START), database_dir / "nomflow.sqlite3")
            url = f"sqlite:///{database_dir / 'nomflow.sqlite3'}"
        else:
            server: PostgresServer = request.getfixturevalue("postgres_server")
            name = server.clone(seeded_templates.postgres(server, START))
            url = server.url(name)
        runtime = Runtime(ServiceConfig(instance_dir=tmp_path, database_url=url, testing=True, secret_key="disk",
                                        scheduler_in_process=False), clock=FixedClock(start=START))
        try:
            staff, head = (create_token(runtime, actor(runtime, who), "disk")
                           for who in ("canbo.hiennam", "chutich.hiennam"))
            env = {"NOMFLOW_ATTACHMENTS_DIR": str(attachments), "NOMFLOW_ATTACHMENTS_RESERVE_MB": str(reserve_mb)}
            with serve(url, tmp_path / "served", threads=4, env=env, frozen_at=START) as (server,):
                yield Service(server, runtime, staff, head)
        finally:
            runtime.db.dispose()
            if name is not None:
                request.getfixturevalue("postgres_server").drop_later(name)

    return start


def test_an_upload_the_disk_refuses_halfway_answers_507_and_leaves_no_part_file(launch: Launch, tmp_path: Path):
    with small_disk(tmp_path / "files", 1024) as disk, launch(tmp_path, disk, reserve_mb=-1) as service:
        # A reserve of -1 MB lets the space check pass: the kernel itself refuses the write (ENOSPC).
        nomination_id = service.new_draft("Đĩa đầy")
        filler = fill(disk, leave_bytes=200 * KB)

        refused = service.upload(nomination_id, "to-trinh.pdf", pdf(600 * KB, "lon"))

        assert refused.status_code == 507, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert "không còn đủ chỗ trống" in refused.json()["detail"]
        assert leftovers(disk) == []
        assert service.call("GET", f"/api/v1/nominations/{nomination_id}/attachments").json() == []
        filler.unlink()
        small = service.upload(nomination_id, "nho.pdf", pdf(100 * KB, "nho"))
        assert small.status_code == 201, small.text


def test_attachments_filled_to_the_limit_leave_every_write_and_read_working(launch: Launch, tmp_path: Path):
    """One 24 MB disk holds the SQLite database and the attachments (on PostgreSQL, the attachments
    only): upload 1 MB files until refused, then nominations are still created, saved, submitted and
    decided, and everything is read back."""
    with small_disk(tmp_path / "disk", 24 * 1024) as disk, launch(disk, disk / "attachments", reserve_mb=2) as service:
        first = service.new_draft("Hồ sơ nhiều tệp")
        answers: list[int] = []
        while len(answers) < 30 and 507 not in answers:
            index = len(answers)
            answers.append(service.upload(first, f"tep-{index}.pdf", pdf(1024 * KB, f"tep {index}")).status_code)
        assert answers[-1] == 507 and set(answers[:-1]) == {201}, answers

        failures = []
        for round_ in range(40):
            nomination_id = service.new_draft(f"Hồ sơ sau khi đầy {round_}")
            steps = [service.call("PATCH", f"/api/v1/nominations/{nomination_id}/draft",
                                  {"data": {"achievement_summary": f"Thành tích {round_} " + "chi tiết " * 200}}),
                     service.call("POST", f"/api/v1/nominations/{nomination_id}/submit", {"data": {}})]
            steps.append(service.call("POST", f"/api/v1/tasks/{service.head_task(nomination_id)}/complete",
                                      {"data": HEAD_DECIDES}, service.head))
            steps += [service.call("GET", path) for path in ("/api/v1/nominations", f"/api/v1/nominations/{first}",
                                                             f"/api/v1/nominations/{nomination_id}/history")]
            failures += [(round_, r.request.method, r.request.path_url, r.status_code, r.text[:200])
                         for r in steps if r.status_code >= 300]
        kept = service.call("GET", f"/api/v1/nominations/{first}/attachments").json()
        downloads = [service.call("GET", f"/api/v1/nominations/{first}/attachments/{f['sha256']}").status_code
                     for f in kept]
        assert not failures, failures
        assert len(kept) == answers.count(201) and set(downloads) == {200}, (kept, downloads)
