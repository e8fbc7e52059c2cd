"""The APScheduler wiring: jobs, the in-process guard, nothing started implicitly."""

from __future__ import annotations

import time

from apscheduler.schedulers.blocking import BlockingScheduler

from service import scheduler


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
            time.sleep(0.05)
    finally:
        scheduler.stop_in_process()
    assert scheduler._started is None
