"""The wake-up sweep: only due rows, each instance once, row locks between workers, broken ones set aside."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from service.db.models import AuditEvent, OutboxMail
from service.db.models import ProcessInstance as InstanceRow
from service.usecases.timers import RETRY_BROKEN_AFTER, wake_due_instances, wake_instance

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
    nomination_at_dost_check(runtime)
    clock.set(at("2026-04-17", 8, 1))
    with runtime.db.engine.connect() as other:  # another worker holds the instance
        [instance_id] = other.execute(select(InstanceRow.id).with_for_update()).scalars().all()
        assert wake_instance(runtime, instance_id, clock.now()) == "skipped"
        assert wake(runtime).skipped == 1
        other.rollback()
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
