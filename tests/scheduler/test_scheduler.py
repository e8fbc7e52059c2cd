"""The APScheduler wiring: jobs, the in-process guard, nothing started implicitly."""

from __future__ import annotations

import time as wall_time
from datetime import datetime, time, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from service.jobs import scheduler

from .helpers import at, nomination_at_dost_check
from .worker_process import wait_until


def test_create_app_starts_no_scheduler(app):
    assert scheduler._started is None


def test_build_scheduler_has_the_three_jobs(runtime):
    built = scheduler.build_scheduler(runtime, scheduler.Schedule(wake_seconds=2, deliver_seconds=3),
                                      BlockingScheduler)
    jobs = {job.id: job for job in built.get_jobs()}
    assert set(jobs) == {"wake_due_instances", "deliver_outbox", "daily_digest", "digest_catch_up"}
    assert jobs["wake_due_instances"].trigger.interval.total_seconds() == 2
    assert jobs["deliver_outbox"].trigger.interval.total_seconds() == 3
    assert str(jobs["daily_digest"].trigger) == "cron[hour='7', minute='30']"
    assert str(built.timezone) == "Asia/Ho_Chi_Minh"


def test_start_in_process_is_guarded_against_a_second_start(runtime):
    try:
        first = scheduler.start_in_process(runtime)
        assert scheduler.start_in_process(runtime) is first
        assert first.running
        for _ in range(100):  # let the start-up digest catch-up run before stopping (APScheduler races
            if first.get_job("digest_catch_up") is None:  # a shutdown against a one-off job's removal)
                break
            wall_time.sleep(0.05)
    finally:
        scheduler.stop_in_process()
    assert scheduler._started is None



def test_mail_of_a_sweep_is_delivered_at_once_not_at_the_next_delivery_tick(mail_runtime, smtp, clock):
    runtime = mail_runtime
    nomination_at_dost_check(runtime)
    clock.set(at("2026-04-17", 8, 1))
    # Delivery ticks once an hour: only the hand-over from the sweep can send the reminder now.
    scheduler.start_in_process(runtime, scheduler.Schedule(0.05, 3600, time(23, 59)))
    try:
        wait_until(lambda: len(smtp.messages()) == 1, 30, "the reminder")
    finally:
        scheduler.stop_in_process()


def test_the_sweep_starts_when_the_next_timer_falls_due(runtime, clock):
    """Reminders fall due on the minute: the sweep is set for that instant, not up to an interval later."""
    nomination_at_dost_check(runtime)
    clock.set(at("2026-04-17", 8) - timedelta(seconds=20))
    built = scheduler.build_scheduler(runtime, scheduler.Schedule(3600, 3600, time(23, 59)), BackgroundScheduler)
    built.start(paused=True)
    try:
        built.get_job("wake_due_instances").func()  # one tick, run by hand
        next_run = built.get_job("wake_due_instances").next_run_time
        assert timedelta(seconds=15) < next_run - datetime.now(next_run.tzinfo) <= timedelta(seconds=20)
    finally:
        built.shutdown(wait=False)
