"""The embedded database's outage under a real `nomflow serve` (issue 13, point 8, SQLite's side; the
PostgreSQL server stopped under it is tests/service/test_outage.py): the SQLite file lives on a real
ext4 disk that goes away under the running service (the kernel's shutdown ioctl: every read, write
and open on it fails with EIO, as when the disk or its SAN path is gone). Every request that needs
the database answers 503 with Retry-After and logs one line (no traceback), /healthz stays 200 and
/readyz says not ready.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from service.core.config import ServiceConfig
from service.core.runtime import Runtime
from service.usecases.accounts import create_token
from tests.service.conftest import VN, SeededTemplates
from tests.service.test_concurrency import actor, draft
from tests.support.served import Served, serve
from tests.support.smalldisk import disk_that_can_fail, fail_disk
from workflows.clock import FixedClock

START = datetime(2026, 4, 13, 9, 0, tzinfo=VN)
UNIT = "phuong-hien-nam"


@dataclass
class Outage:
    server: Served
    disk: Path
    headers: dict[str, str]


@pytest.fixture
def outage(tmp_path: Path, seeded_templates: SeededTemplates) -> Iterator[Outage]:
    with disk_that_can_fail(tmp_path / "disk") as disk:
        database = disk / "nomflow.sqlite3"
        shutil.copyfile(seeded_templates.sqlite(START), database)
        url = f"sqlite:///{database}"
        runtime = Runtime(ServiceConfig(instance_dir=tmp_path, database_url=url, testing=True, secret_key="outage",
                                        scheduler_in_process=False), clock=FixedClock(START))
        try:
            token = create_token(runtime, actor(runtime, "canbo.hiennam"), "outage")
        finally:
            runtime.db.dispose()
        with serve(url, tmp_path, threads=4, wait_for="/readyz", frozen_at=START) as (server,):
            yield Outage(server, disk, {"Authorization": f"Bearer {token}"})


def test_the_database_disk_gone_answers_503_with_one_log_line_each(outage: Outage):
    server, headers = outage.server, outage.headers
    assert server.request("GET", "/readyz")[::2] == (200, {"status": "ready", "database": "ok", "migrations": "head"})
    created = server.request("POST", "/api/v1/nominations", {"unit_id": UNIT, "data": draft("Trước sự cố")}, headers)
    assert created[0] == 201, created
    nomination = f"/api/v1/nominations/{created[2]['id']}"

    fail_disk(outage.disk)
    logged_before = server.log.read_text(errors="replace")
    writes = [("POST", "/api/v1/nominations", {"unit_id": UNIT, "data": draft("Trong sự cố")}),
              ("PATCH", f"{nomination}/draft", {"data": {"nominee_name": "Sửa trong sự cố"}}),
              ("POST", f"{nomination}/submit", {"data": {}})]
    for method, path, body in writes * 2:
        status, response_headers, problem = server.request(method, path, body, headers)
        assert status == 503, (method, path, status, problem)
        assert int(response_headers["retry-after"]) > 0
        assert response_headers["content-type"] == "application/problem+json"
        assert problem["status"] == 503 and "Cơ sở dữ liệu" in problem["detail"]
    # A read may still be served from what the process holds in memory; it never fails otherwise.
    reads = [server.request("GET", path, None, headers)[0] for path in ("/api/v1/nominations", nomination)]
    assert all(status in (200, 503) for status in reads), reads
    assert server.request("GET", "/healthz")[::2] == (200, {"status": "ok"})
    status, response_headers, body = server.request("GET", "/readyz")
    assert (status, body["database"]) == (503, "unavailable") and int(response_headers["retry-after"]) > 0

    new_lines = server.log.read_text(errors="replace")[len(logged_before):].splitlines()
    failures = [line for line in new_lines if "database unavailable" in line]
    assert len(failures) == len(writes) * 2 + reads.count(503) + 1, "\n".join(new_lines)  # + /readyz
    assert not any("Traceback" in line for line in new_lines), "\n".join(new_lines)
    others = [line for line in new_lines if line not in failures and '" 503 ' not in line and '" 200 ' not in line]
    assert not others, "\n".join(others)
