"""`nomflow worker` killed with SIGKILL mid-sweep and mid-delivery, then restarted: every due timer
fires once, every mail arrives, and a Message-ID arrives twice only for the one mail (at most) that
the server had accepted when the worker died before recording it (the documented at-least-once
window: outbox.py)."""

from __future__ import annotations

import re
import signal
import sqlite3
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from service.db.models import InstanceRow, OutboxMail
from service.usecases.outbox import LEASE

from .factory import clone_instances
from .helpers import at, count_audit, enqueue_digests, nomination_at_dost_check
from .smtp_sink import SmtpSink
from .worker_process import wait_until

DUE = at("2026-04-17", 8)  # the before-due reminder of a check opened on Monday 13/4
INSTANCES = 300
MAILS = 400


def scalar(runtime, query) -> int:
    if runtime.db.is_sqlite:
        # The unit of work opens SQLite transactions with BEGIN IMMEDIATE, which queues behind a busy
        # worker until its sweep ends; a plain autocommit read goes through WAL without waiting.
        compiled = query.compile(runtime.db.engine, compile_kwargs={"literal_binds": True})
        connection = sqlite3.connect(runtime.db.engine.url.database, isolation_level=None)
        try:
            return int(connection.execute(str(compiled)).fetchone()[0] or 0)
        finally:
            connection.close()
    with runtime.uow() as uow:
        return int(uow.session.scalar(query) or 0)


def woken(runtime) -> int:
    return scalar(runtime, select(func.count()).select_from(InstanceRow).where(InstanceRow.next_wake_at > DUE))


def unsent(runtime) -> int:
    return scalar(runtime, select(func.count()).select_from(OutboxMail).where(OutboxMail.status != "sent"))


def in_flight_window(runtime, smtp: SmtpSink) -> set[str]:
    """Mails the server holds but the dead worker had not recorded as sent: the only ones that may
    arrive twice after the restart."""
    with runtime.uow() as uow:
        sending = set(uow.session.scalars(select(OutboxMail.message_id).where(OutboxMail.status == "sending")))
    return sending & set(smtp.counts())


def kill(worker) -> None:
    worker.send_signal(signal.SIGKILL)
    assert worker.wait(timeout=30) == -signal.SIGKILL


def stop(worker) -> None:
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0  # SIGTERM: the running tick ends, then a clean exit


def check_every_mail_arrived(runtime, smtp: SmtpSink, window: set[str]) -> None:
    with runtime.uow() as uow:
        ids = set(uow.session.scalars(select(OutboxMail.message_id)))
        statuses = set(uow.session.scalars(select(OutboxMail.status)))
    counts = smtp.counts()
    assert statuses == {"sent"}
    assert set(counts) == ids  # none lost
    twice = {message_id for message_id, n in counts.items() if n > 1}
    assert twice <= window and max(counts.values()) <= 2, (twice, window)
    assert len(window) <= 1  # each mail is recorded as sent before the next one is sent


def test_worker_killed_mid_sweep(runtime, smtp, clock, database_url, tmp_path: Path, start_worker):
    source = nomination_at_dost_check(runtime)
    clone_instances(runtime, source, INSTANCES - 1)
    log = tmp_path / "worker.log"
    worker = start_worker(database_url, tmp_path / "w", smtp.port, DUE + timedelta(minutes=30), log)
    wait_until(lambda: woken(runtime) >= 10, 90, "the first instances to wake", log)
    kill(worker)
    done = woken(runtime)
    assert 10 <= done < INSTANCES, "the worker must die with part of the sweep undone"
    window = in_flight_window(runtime, smtp)

    # Restarted past the outbox lease, as after a real crash; its clock has moved on by then.
    worker = start_worker(database_url, tmp_path / "w", smtp.port, DUE + timedelta(minutes=30) + LEASE * 2, log)
    wait_until(lambda: woken(runtime) == INSTANCES and unsent(runtime) == 0 and
               scalar(runtime, select(func.count()).select_from(OutboxMail)) == INSTANCES, 120, "catch-up", log)
    stop(worker)

    assert count_audit(runtime, "send_reminder") == INSTANCES  # each timer fired exactly once
    with runtime.uow() as uow:
        assert set(uow.session.scalars(select(InstanceRow.next_wake_at))) == {at("2026-04-20", 8)}
    check_every_mail_arrived(runtime, smtp, window)


def test_worker_killed_mid_delivery(runtime, smtp, clock, database_url, tmp_path: Path, start_worker):
    enqueue_digests(runtime, [f"nguoi{n}@hungyen.gov.vn" for n in range(MAILS)])
    log = tmp_path / "worker.log"
    start = clock.now() + timedelta(minutes=1)
    worker = start_worker(database_url, tmp_path / "w", smtp.port, start, log)
    wait_until(lambda: len(smtp.messages()) >= 20, 90, "the first mails to arrive", log)
    kill(worker)
    assert 20 <= len(smtp.counts()) < MAILS, "the worker must die with part of the outbox unsent"
    window = in_flight_window(runtime, smtp)

    worker = start_worker(database_url, tmp_path / "w", smtp.port, start + LEASE * 2, log)
    wait_until(lambda: unsent(runtime) == 0, 120, "the rest of the outbox", log)
    stop(worker)
    check_every_mail_arrived(runtime, smtp, window)


def test_two_workers_share_a_sweep_and_wake_each_instance_once(runtime, smtp, clock, database_url, tmp_path: Path,
                                                              start_worker):
    source = nomination_at_dost_check(runtime)
    # Not due yet: both workers are up before the sweep starts, so both take part in it.
    clone_instances(runtime, source, INSTANCES - 1, next_wake_at=DUE + timedelta(days=30))
    with runtime.uow() as uow:
        uow.session.execute(update(InstanceRow).values(next_wake_at=DUE + timedelta(days=30)))
        uow.commit()
    logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]
    workers = [start_worker(database_url, tmp_path / "w", smtp.port, DUE + timedelta(minutes=30), log)
               for log in logs]
    for log in logs:
        wait_until(lambda log=log: "nomflow worker:" in log.read_text(errors="replace"), 60, "worker start", log)
    with runtime.uow() as uow:
        uow.session.execute(update(InstanceRow).values(next_wake_at=DUE))
        uow.commit()
    wait_until(lambda: woken(runtime) == INSTANCES and unsent(runtime) == 0 and
               scalar(runtime, select(func.count()).select_from(OutboxMail)) == INSTANCES, 120, "the sweep", logs[0])
    for worker in workers:
        stop(worker)

    assert count_audit(runtime, "send_reminder") == INSTANCES  # no instance woken twice
    check_every_mail_arrived(runtime, smtp, set())
    woken_by = [sum(int(n) for n in re.findall(r"timers: (\d+) woken", log.read_text())) for log in logs]
    assert sum(woken_by) == INSTANCES
    if not runtime.db.is_sqlite:  # SKIP LOCKED: side by side; SQLite takes writers one after the other
        assert min(woken_by) > 0, woken_by
