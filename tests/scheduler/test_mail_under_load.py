"""Mail keeps flowing while the web is busy (issue 13, point 9), over real processes: `nomflow serve`
with its jobs process (SQLite, the embedded default) and the same on PostgreSQL, twelve clients each
sending a bounded number of nominations (create, attach, read, submit), every submission mailing the
unit head at once (usecases/arrivals.py), delivered to aiosmtpd.

An ordering, not a timing: when the last client request completes, the mails of at least the first
half of the submissions must already be in the SMTP server (jobs starved by the web, as in the
issue's 18 s p50 on SQLite, deliver them only after the load: 19 of 48 here without the write turns
of db/write_lock.py). Then every mail arrives, once.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import update

from service.core.runtime import Runtime
from service.db.models import User
from service.usecases.accounts import create_token

from .helpers import STAFF, actor
from .smtp_sink import free_port
from .test_shutdown import Api, nominate, terminate
from .worker_process import wait_until

CLIENTS, ROUNDS = 12, 4


def test_mail_queued_during_the_load_arrives_before_it_ends(runtime: Runtime, clock: Any, database_url: str,
                                                          tmp_path: Path, start_worker: Any, smtp: Any):
    with runtime.uow() as uow:  # the unit head hears of each submission at once, not in a digest
        uow.session.execute(update(User).values(mail_immediately=True))
        uow.commit()
    port, log = free_port(), tmp_path / "serve.log"
    served = start_worker(database_url, tmp_path / "w", smtp.port, clock.now(), log, "--port", str(port),
                          "--threads", "4", command="serve", env={"NOMFLOW_SCHEDULER": "1"})
    api = Api(port, create_token(runtime, actor(runtime, STAFF), "mail-under-load"))
    wait_until(api.up, 60, "the server", log, interval=0.2)
    acknowledged: dict[str, list[str]] = {"created": [], "submitted": []}
    running, lock = [CLIENTS], threading.Lock()
    at_end: list[int] = []  # mails in the SMTP server when the load's last request completed

    def client() -> None:
        for _ in range(ROUNDS):
            nominate(api, acknowledged)
        with lock:
            running[0] -= 1
            if running[0] == 0:
                at_end.append(len(smtp.messages()))

    clients = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=600)
    submitted = len(acknowledged["submitted"])
    assert submitted == CLIENTS * ROUNDS, acknowledged  # the load itself went through
    assert at_end and at_end[0] >= submitted // 2, (
        f"only {at_end} of {submitted} mails delivered when the load ended: the jobs waited for the web")

    wait_until(lambda: len(smtp.messages()) >= submitted, 120, "every mail", log)
    terminate(served)
    assert len(smtp.counts()) == submitted and set(smtp.counts().values()) == {1}
