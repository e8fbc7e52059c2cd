"""Background jobs: wake due instances, deliver the outbox, the morning digest (APScheduler 3).

`nomflow serve` runs them in a process of their own beside the web server (service/serve.py): in the
web process they competed with the requests for the interpreter lock. In production the web
processes run none and `nomflow worker` runs them in the foreground, as many workers as wanted on
one PostgreSQL.
Workers need no coordination: row locks (SKIP LOCKED) and outbox leases keep them off each other's
rows, and the digest is deduplicated by its Message-ID. Nothing here starts on import or in
create_app; tests call the use cases directly.

Lateness of a reminder (due → accepted by the SMTP server) is kept short by two hand-overs rather
than by short intervals: a sweep that ends before the next timer falls due schedules the next sweep
at that instant, and each committed batch of a sweep starts delivery at once. APScheduler runs jobs
in a thread pool, so delivery goes on while the sweep does. A mail enqueued by a web request rings
the doorbell (jobs/wakeup.py): delivery starts at once instead of at the next tick.

SIGTERM (or SIGINT) stops a worker gracefully: the running jobs end their current batch or mail
(the rest of a claim goes back unchanged, see usecases/outbox.py and timers.py), then the process
exits 0. A send still hanging on a stalled SMTP server CUT_MARGIN before the grace period ends
(NOMFLOW_SHUTDOWN_GRACE, 30 s) has its connection cut: the attempt is recorded as failed and the
mail is retried later, with its Message-ID. Whatever still runs after the grace period (a lock held
elsewhere) is abandoned by exiting 1: its transaction was never committed, so the database rolls it
back, and a mail caught mid-send keeps its lease and is sent again once the lease runs out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from service.core.runtime import Runtime
from service.mail.smtp import Connection, Envelope, Mailer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    # A tick that finds nothing due is one indexed query. The intervals bound lateness only for what
    # the hand-overs (see above) miss: a retry whose back-off ran out, a mail enqueued by a web step.
    wake_seconds: float = 1.0
    deliver_seconds: float = 1.0
    digest_at: time = time(7, 30)


_started: BaseScheduler | None = None
_start_lock = threading.Lock()
# A stop cuts the SMTP connections still sending this long before the grace period ends, so that
# their jobs can record the failed attempts (retried later) and the process exits cleanly.
CUT_MARGIN = 2.0

_stop = threading.Event()
_running = threading.Condition()  # notified each time a job returns
_active_jobs = 0


def build_scheduler(runtime: Runtime, schedule: Schedule | None = None,
                    scheduler_class: type[BaseScheduler] = BackgroundScheduler,
                    doorbell: bool = False) -> BaseScheduler:
    schedule = schedule or Schedule()
    scheduler = scheduler_class(
        timezone=runtime.calendar.timezone,
        # One run of a job at a time per process; a tick missed while the previous run was still
        # busy is simply dropped (coalesce), the next run catches everything up anyway.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )
    mail_waiting = threading.Event()

    def hand_over_mail(_report: object) -> None:
        # A wake batch just committed reminders: deliver now rather than at the next delivery tick.
        # A run already going loops once more instead (the immediate run is then skipped by
        # max_instances, which is fine).
        mail_waiting.set()
        _run_soon(scheduler, "deliver_outbox")

    if doorbell:
        from service.jobs.wakeup import listen

        listen(runtime.db.url, lambda: hand_over_mail(None))
    scheduler.add_job(_job(wake_due, runtime, hand_over_mail, scheduler, schedule.wake_seconds), "interval",
                      seconds=schedule.wake_seconds, id="wake_due_instances", name="wake due instances")
    scheduler.add_job(_job(deliver, runtime, mail_waiting), "interval", seconds=schedule.deliver_seconds,
                      id="deliver_outbox", name="deliver outbox")
    scheduler.add_job(_job(digest, runtime, schedule.digest_at), "cron", hour=schedule.digest_at.hour,
                      minute=schedule.digest_at.minute, id="daily_digest", name="daily digest",
                      misfire_grace_time=6 * 3600)
    # A worker started after the digest hour (a restart, a deploy) sends the day's digest now; the
    # Message-ID dedup makes this a no-op if it went out already.
    scheduler.add_job(_job(digest, runtime, schedule.digest_at), "date", id="digest_catch_up",
                      name="daily digest (catch-up at start)")
    return scheduler


def wake_due(runtime: Runtime, after_commit: Callable[[Any], None], scheduler: BaseScheduler,
             interval: float) -> None:
    from service.usecases.timers import next_wake_in, wake_due_instances

    report = wake_due_instances(runtime, should_stop=_stop.is_set, after_commit=after_commit)
    if report.woken or report.failed:
        log.info("timers: %s woken, %s skipped, %s failed", report.woken, report.skipped, report.failed)
    # Reminders fall due on the minute (08:00): the next sweep starts at that instant, not up to one
    # interval after it.
    wait = next_wake_in(runtime)
    if wait is not None and 0 < wait.total_seconds() < interval and not _stop.is_set():
        _run_soon(scheduler, "wake_due_instances", wait)


def deliver(runtime: Runtime, mail_waiting: threading.Event) -> None:
    from service.mail.smtp import mailer_for
    from service.usecases.outbox import deliver_outbox

    inner = mailer_for(runtime.config)
    mailer = _CuttableMailer(inner) if inner is not None else None
    while not _stop.is_set():
        mail_waiting.clear()
        report = deliver_outbox(runtime, mailer, should_stop=_stop.is_set)
        if report.sent or report.retried or report.failed:
            log.info("outbox: %s sent, %s to retry, %s failed", report.sent, report.retried, report.failed)
        if not mail_waiting.is_set():
            break  # nothing was enqueued during this run: the next tick (or hand-over) starts the next


_open_smtp: set[Any] = set()  # the SMTP connections of running deliveries
_open_smtp_lock = threading.Lock()


class _CuttableMailer:
    """Keeps the connections it opens in _open_smtp, for a stop to cut them when the grace period is
    nearly over: a send stuck on a stalled server then fails and its mail is retried later."""

    def __init__(self, inner: Mailer):
        self.inner = inner

    def connect(self) -> Connection:
        connection = self.inner.connect()
        with _open_smtp_lock:
            _open_smtp.add(connection)
        return _Tracked(connection)


class _Tracked:
    def __init__(self, connection: Connection):
        self.connection = connection

    def send(self, envelope: Envelope) -> None:
        self.connection.send(envelope)

    def close(self) -> None:
        with _open_smtp_lock:
            _open_smtp.discard(self.connection)
        self.connection.close()


def _cut_open_smtp() -> None:
    with _open_smtp_lock:
        connections = list(_open_smtp)
    for connection in connections:
        cut = getattr(connection, "cut", None)
        if cut is not None:
            cut()


def _run_soon(scheduler: BaseScheduler, job_id: str, delay: timedelta = timedelta(0)) -> None:
    if not scheduler.running:
        return
    with contextlib.suppress(JobLookupError):  # shutting down
        scheduler.modify_job(job_id, next_run_time=datetime.now(scheduler.timezone) + delay)


def digest(runtime: Runtime, at: time) -> None:
    from service.usecases.digest import send_daily_digests

    count = send_daily_digests(runtime, not_before=at)
    if count:
        log.info("digest: %s mails enqueued", count)


def _job(function: Callable[..., None], *args: Any) -> Callable[[], None]:
    def run() -> None:
        global _active_jobs
        with _running:
            _active_jobs += 1
        try:
            function(*args)
        except Exception:  # a failing tick must not kill the scheduler thread; the next one retries
            log.exception("job %s failed", function.__name__)
        finally:
            with _running:
                _active_jobs -= 1
                _running.notify_all()

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
            _stop.clear()  # every job has returned: the request is served, it must not stop the next scheduler


def run_worker(runtime: Runtime, schedule: Schedule | None = None, grace: float | None = None) -> None:
    """Run the jobs in the foreground until SIGTERM or SIGINT, then stop as the module says: exit 0
    once the running jobs have ended their batch or mail, exit 1 if they have not within `grace`
    seconds (default: the configured NOMFLOW_SHUTDOWN_GRACE)."""
    grace = runtime.config.shutdown_grace if grace is None else grace
    scheduler = build_scheduler(runtime, schedule, BlockingScheduler, doorbell=True)
    stopped_at: list[float] = []

    def stop(signum: int, _frame: Any) -> None:
        log.info("worker: signal %s, stopping (grace %s s)", signum, grace)
        stopped_at.append(clock.monotonic())
        _stop.set()
        with contextlib.suppress(SchedulerNotRunningError):  # still warming up: start() is skipped
            scheduler.shutdown(wait=False)

    _stop.clear()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # Parsed before the first sweep, and out of the garbage collector's way: a sweep of thousands of
    # instances triggers many full collections, each walking every parsed diagram otherwise.
    runtime.warm_up()
    if not _stop.is_set():
        scheduler.start()  # blocks until shutdown
    deadline = (stopped_at[0] if stopped_at else clock.monotonic()) + grace
    if not _jobs_done_by(deadline - min(CUT_MARGIN, grace / 2)):
        log.warning("worker: cutting the SMTP connections still sending; their mails will be retried")
        _cut_open_smtp()
    if not _jobs_done_by(deadline):
        log.error("worker: jobs still running after %s s, leaving them to the next worker", grace)
        logging.shutdown()
        os._exit(1)  # their transactions roll back; a mail caught mid-send is retried when its lease ends
    runtime.db.dispose()
    log.info("worker: stopped")


def _jobs_done_by(deadline: float) -> bool:
    with _running:
        return _running.wait_for(lambda: _active_jobs == 0, timeout=max(deadline - clock.monotonic(), 0))


def worker_logging() -> None:
    """What a jobs process logs: what our jobs did, one line each."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    # SpiffWorkflow's task states and APScheduler's "run skipped: still running" (a long sweep
    # outlasting its interval is normal) would drown that.
    for noisy in ("spiff", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
