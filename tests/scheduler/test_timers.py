"""The wake-up sweep: only due rows, each instance once, row locks between workers, broken ones set aside."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from service.db.models import AuditEvent, InstanceRow, OutboxMail
from service.usecases import instances
from service.usecases.timers import RETRY_BROKEN_AFTER, next_wake_in, wake_due_instances

from .factory import clone_instances
from .helpers import at, count_audit, nomination_at_dost_check, wake


def test_concurrent_sweeps_fire_each_instance_once(runtime, clock):
    source = nomination_at_dost_check(runtime)
    clone_instances(runtime, source, 40)
    clock.set(at("2026-04-17", 8, 1))
    reports = []
    sweepers = [threading.Thread(target=lambda: reports.append(wake_due_instances(runtime, batch_size=7)))
                for _ in range(3)]
    for sweeper in sweepers:
        sweeper.start()
    for sweeper in sweepers:
        sweeper.join()
    assert sum(r.woken for r in reports) == 41
    assert count_audit(runtime, "send_reminder") == 41
    with runtime.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(OutboxMail)) == 41
        wakes = set(uow.session.scalars(select(InstanceRow.next_wake_at)))
    assert wakes == {at("2026-04-20", 8)}  # every instance now sleeps until the due-day reminder
    assert wake(runtime).woken == 0


# FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite serializes writers instead.
@pytest.mark.parametrize("database_url", ["postgresql"], ids=["pg"], indirect=True)
def test_a_locked_instance_is_skipped_not_waited_for(runtime, clock, database_url):
    source = nomination_at_dost_check(runtime)
    clone_instances(runtime, source, 4)
    clock.set(at("2026-04-17", 8, 1))
    with runtime.db.engine.connect() as other:  # another worker holds one instance
        held = other.execute(select(InstanceRow.id).order_by(InstanceRow.id).limit(1).with_for_update()).scalar()
        report = wake_due_instances(runtime, batch_size=2)
        assert (report.woken, report.failed) == (4, 0)  # the batches were filled from the other rows
        other.rollback()
    with runtime.uow() as uow:
        assert uow.session.get(InstanceRow, held).next_wake_at == at("2026-04-17", 8)  # still due
    assert wake(runtime).woken == 1


def test_a_broken_instance_is_set_aside_and_the_others_still_wake(runtime, clock):
    source = nomination_at_dost_check(runtime)
    clone_instances(runtime, source, 3)
    with runtime.uow() as uow:
        broken = uow.session.scalars(select(InstanceRow).order_by(InstanceRow.id)).first()
        broken.state = {"serializer_version": "garbage"}
        broken_id = broken.id
        uow.commit()
    clock.set(at("2026-04-17", 8, 1))
    report = wake(runtime)
    assert (report.woken, report.failed) == (3, 1)
    with runtime.uow() as uow:
        row = uow.session.get(InstanceRow, broken_id)
        assert row.next_wake_at == clock.now() + RETRY_BROKEN_AFTER
        [event] = uow.session.scalars(select(AuditEvent).where(AuditEvent.kind == "timer_failed")).all()
    assert event.instance_id == broken_id
    assert wake(runtime).failed == 0  # not retried at every tick
    clock.advance(RETRY_BROKEN_AFTER + timedelta(seconds=1))
    assert wake(runtime).failed == 1


# The plan of a tiny PostgreSQL table says nothing; the SQLite plan is deterministic.
@pytest.mark.parametrize("database_url", ["sqlite"], ids=["sqlite"], indirect=True)
def test_the_sweep_reads_due_rows_through_the_index(runtime, database_url):
    with runtime.db.engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT next_wake_at, id FROM process_instance WHERE next_wake_at <= '2026-01-01' "
            "ORDER BY next_wake_at, id LIMIT 50")))
    assert "ix_process_instance_wake" in plan and "SCAN process_instance" not in plan.replace("USING INDEX", "")


def test_a_failure_while_recording_rolls_back_that_instance_alone(runtime, clock, monkeypatch):
    source = nomination_at_dost_check(runtime)
    clone_instances(runtime, source, 5)
    with runtime.uow() as uow:
        ids = list(uow.session.scalars(select(InstanceRow.id).order_by(InstanceRow.id)))
        broken = uow.session.get(InstanceRow, ids[3])
        broken_state, broken_version = broken.state, broken.version
    real = instances.enqueue_notification

    def enqueue_or_fail(session, runtime, note, nomination, instance_id=None, *rest):
        if instance_id == ids[3]:  # its state and inbox rows are already written when this fails
            raise ValueError("template error")
        return real(session, runtime, note, nomination, instance_id, *rest)

    monkeypatch.setattr(instances, "enqueue_notification", enqueue_or_fail)
    clock.set(at("2026-04-17", 8, 1))
    report = wake_due_instances(runtime, batch_size=10)
    assert (report.woken, report.failed, report.batches) == (5, 1, 1)  # one batch, committed
    with runtime.uow() as uow:
        row = uow.session.get(InstanceRow, ids[3])
        assert row.state == broken_state and row.version == broken_version + 1  # only the postponement
        assert row.next_wake_at == clock.now() + RETRY_BROKEN_AFTER
        reminded = set(uow.session.scalars(select(AuditEvent.instance_id).where(AuditEvent.kind == "send_reminder")))
        assert reminded == set(ids) - {ids[3]}
        [failed] = uow.session.scalars(select(AuditEvent).where(AuditEvent.kind == "timer_failed")).all()
        assert failed.instance_id == ids[3] and "template error" in failed.detail["error"]
        assert uow.session.scalar(select(func.count()).select_from(OutboxMail)) == 5


def test_a_database_failure_mid_batch_keeps_nothing_of_the_batch(runtime, clock, monkeypatch):
    """As a crash would: the batch is one transaction, so its instances are all still due after it."""
    source = nomination_at_dost_check(runtime)
    clone_instances(runtime, source, 5)
    real, calls = instances.enqueue_notification, []

    def enqueue_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        return real(*args, **kwargs)

    monkeypatch.setattr(instances, "enqueue_notification", enqueue_then_fail)
    clock.set(at("2026-04-17", 8, 1))
    with pytest.raises(OperationalError):
        wake_due_instances(runtime, batch_size=10)
    assert count_audit(runtime, "send_reminder") == 0
    with runtime.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(OutboxMail)) == 0
        assert set(uow.session.scalars(select(InstanceRow.next_wake_at))) == {at("2026-04-17", 8)}

    monkeypatch.setattr(instances, "enqueue_notification", real)
    assert wake(runtime).woken == 6
    assert count_audit(runtime, "send_reminder") == 6


def test_each_batch_commit_is_reported(runtime, clock):
    source = nomination_at_dost_check(runtime)
    clone_instances(runtime, source, 6)
    clock.set(at("2026-04-17", 8, 1))
    seen = []
    report = wake_due_instances(runtime, batch_size=3, after_commit=lambda r: seen.append(r.woken))
    assert report.woken == 7 and seen == [3, 6, 7]
    assert next_wake_in(runtime) == at("2026-04-20", 8) - clock.now()
