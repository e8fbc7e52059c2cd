"""Background jobs: wake due instances, deliver the outbox, the morning digest (APScheduler 3).

`nomflow serve` runs them inside the web process (one machine); in production the web processes run
none and `nomflow worker` runs them in the foreground, as many workers as wanted on one PostgreSQL.
Workers need no coordination: row locks (SKIP LOCKED) and outbox leases keep them off each other's
rows, and the digest is deduplicated by its Message-ID. Nothing here starts on import or in
create_app; tests call the use cases directly.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from .runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    # Short intervals: a tick that finds nothing due is one indexed query, and the lateness of a
    # reminder (due → handed to the SMTP server) is about one wake tick plus one delivery tick.
    wake_seconds: float = 1.0
    deliver_seconds: float = 1.0
    digest_at: time = time(7, 30)


_started: BaseScheduler | None = None
_start_lock = threading.Lock()
_stop = threading.Event()


def build_scheduler(runtime: Runtime, schedule: Schedule | None = None,
                    scheduler_class: type[BaseScheduler] = BackgroundScheduler) -> BaseScheduler:
    schedule = schedule or Schedule()
    scheduler = scheduler_class(
        timezone=runtime.calendar.timezone,
        # One run of a job at a time per process; a tick missed while the previous run was still
        # busy is simply dropped (coalesce), the next run catches everything up anyway.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )
    scheduler.add_job(_job(wake_due, runtime), "interval", seconds=schedule.wake_seconds,
                      id="wake_due_instances", name="wake due instances")
    scheduler.add_job(_job(deliver, runtime), "interval", seconds=schedule.deliver_seconds,
                      id="deliver_outbox", name="deliver outbox")
    scheduler.add_job(_job(digest, runtime, schedule.digest_at), "cron", hour=schedule.digest_at.hour,
                      minute=schedule.digest_at.minute, id="daily_digest", name="daily digest",
                      misfire_grace_time=6 * 3600)
    # A worker started after the digest hour (a restart, a deploy) sends the day's digest now; the
    # Message-ID dedup makes this a no-op if it went out already.
    scheduler.add_job(_job(digest, runtime, schedule.digest_at), "date", id="digest_catch_up",
                      name="daily digest (catch-up at start)")
    return scheduler


def wake_due(runtime: Runtime) -> None:
    from .usecases.timers import wake_due_instances

    report = wake_due_instances(runtime, should_stop=_stop.is_set)
    if report.woken or report.failed:
        log.info("timers: %s woken, %s skipped, %s failed", report.woken, report.skipped, report.failed)


def deliver(runtime: Runtime) -> None:
    from .usecases.outbox import deliver_outbox

    report = deliver_outbox(runtime, should_stop=_stop.is_set)
    if report.sent or report.retried or report.failed:
        log.info("outbox: %s sent, %s to retry, %s failed", report.sent, report.retried, report.failed)


def digest(runtime: Runtime, at: time) -> None:
    from .usecases.digest import send_daily_digests

    count = send_daily_digests(runtime, not_before=at)
    if count:
        log.info("digest: %s mails enqueued", count)


def _job(function: Callable[..., None], *args: Any) -> Callable[[], None]:
    def run() -> None:
        try:
            function(*args)
        except Exception:  # a failing tick must not kill the scheduler thread; the next one retries
            log.exception("job %s failed", function.__name__)

    run.__name__ = function.__name__
    return run


def start_in_process(runtime: Runtime, schedule: Schedule | None = None) -> BaseScheduler:
    """Start the jobs in a background thread of this process, once however often it is called.

    The guard is per process only: a second process (another `serve`, a worker) running the same jobs
    is safe because of the row locks and leases, it is just wasted work."""
    global _started
    with _start_lock:
        if _started is None:
            _stop.clear()
            scheduler = build_scheduler(runtime, schedule, BackgroundScheduler)
            scheduler.start()
            _started = scheduler
            log.info("scheduler started in process")
        return _started


def stop_in_process() -> None:
    global _started
    with _start_lock:
        if _started is not None:
            _stop.set()
            _started.shutdown(wait=True)
            _started = None


def run_worker(runtime: Runtime, schedule: Schedule | None = None) -> None:
    """Run the jobs in the foreground until SIGTERM or SIGINT; the running tick ends its current
    instance or mail, then the process exits (anything unfinished is picked up by the next worker)."""
    scheduler = build_scheduler(runtime, schedule, BlockingScheduler)

    def stop(signum: int, _frame: Any) -> None:
        log.info("worker: signal %s, stopping", signum)
        _stop.set()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _stop.clear()
    scheduler.start()  # blocks until shutdown
