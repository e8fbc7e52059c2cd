"""A task the deadline timer handed to the lead, over real processes (issue 13, point 5): a served
web process and `nomflow worker`, both with their clock frozen past the officer's deadline
(tests/support/frozen_cli.py), on SQLite and PostgreSQL. The worker's sweep moves the task to the
lead; the officer, who still has the old task open, gets 409 "taken over by the lead" over the API
for completing or claiming it, and the task page says the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from service.core.runtime import Runtime
from service.db.lookups import TASK_ESCALATED
from service.usecases.accounts import create_token
from tests.service.conftest import DEMO_PASSWORD
from tests.support.served import serve

from .helpers import DOST_OFFICER, actor, nomination_at_dost_check, open_tasks
from .test_escalated_task import CHECKED, PAST_DEADLINE
from .worker_process import wait_until


def csrf(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def test_the_officer_hears_over_http_that_the_lead_took_the_task(runtime: Runtime, database_url: str,
                                                                 start_worker: Any, smtp: Any, tmp_path: Path):
    nomination_id = nomination_at_dost_check(runtime)
    [task] = open_tasks(runtime, nomination_id)
    token = create_token(runtime, actor(runtime, DOST_OFFICER), "escalation")
    log = tmp_path / "worker.log"
    start_worker(database_url, tmp_path / "worker", smtp.port, PAST_DEADLINE, log)
    wait_until(lambda: [t.task_id for t in open_tasks(runtime, nomination_id)] == ["dost_check_dossier_escalated"],
               60, "the worker's sweep to hand the task to the lead", log)

    with serve(database_url, tmp_path, threads=2, frozen_at=PAST_DEADLINE,
               env={"NOMFLOW_SECURE_COOKIES": "0"}) as (server,):
        base, headers = f"http://127.0.0.1:{server.port}", {"Authorization": f"Bearer {token}"}
        for path, body in ((f"/api/v1/tasks/{task.id}/complete", {"data": CHECKED}),
                           (f"/api/v1/tasks/{task.id}/claim", None)):
            answer = requests.post(base + path, json=body, headers=headers, timeout=60)
            assert answer.status_code == 409, (path, answer.text)
            assert answer.json()["detail"] == TASK_ESCALATED

        browser = requests.Session()
        signed_in = browser.post(base + "/login", allow_redirects=False, timeout=60, data={
            "csrf_token": csrf(browser.get(base + "/login", timeout=60).text),
            "username": DOST_OFFICER, "password": DEMO_PASSWORD})
        assert signed_in.status_code == 302, signed_in.text[:500]
        page = browser.get(f"{base}/tasks/{task.id}", timeout=60)
        assert page.status_code == 409 and TASK_ESCALATED in page.text, page.text[:2000]
    assert [t.task_id for t in open_tasks(runtime, nomination_id)] == ["dost_check_dossier_escalated"]
