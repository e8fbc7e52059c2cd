"""Timer sweep and mail delivery under load: many instances whose reminder falls due at one instant.

Run: .venv/bin/python bench/timers.py [--instances 10000] [--normal 200] [--workers 1 2]

For each (instances, workers) case: a fresh PostgreSQL database (started like the tests' one,
tests/support/postgres.py) holding one real nomination started through the use cases, waiting for
the DOST check, plus N-1 copies of its rows (fresh ids; tests/scheduler/factory.py) whose before-due
reminder timer is rewritten to fall due at T = a few seconds from now. Then `nomflow worker`
processes (real clock, intervals 0.5 s) sweep and deliver to an aiosmtpd sink in its own process that
records the arrival time of every Message-ID.

Reported: swept in = last instance woken − T (from the audit rows the sweep writes, timestamped by
the workers' clock); instances/s over the sweep; lateness = SMTP-accepted − T, p50/p95/max over all
mails; delivered = last mail accepted − T. Targets: 10,000 swept in ≤ 30 s; lateness p95 ≤ 2 s at
normal load (a few hundred reminders at 08:00, the real pattern: every reminder falls at 08:00).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from service.core.config import ServiceConfig  # noqa: E402
from service.core.runtime import Runtime  # noqa: E402
from service.db.models import AuditEvent, InstanceRow, OutboxMail  # noqa: E402
from service.usecases.setup import init_db, seed_demo  # noqa: E402
from tests.scheduler.factory import clone_instances  # noqa: E402
from tests.scheduler.helpers import nomination_at_dost_check  # noqa: E402
from tests.support.postgres import PostgresServer, free_port  # noqa: E402
from workflows.clock import FixedClock  # noqa: E402

SINK = r"""
import sys, time
from email.parser import BytesHeaderParser
from aiosmtpd.controller import Controller
out = open(sys.argv[2], "a", buffering=1)
class Handler:
    async def handle_DATA(self, server, session, envelope):
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
        out.write(f"{headers['Message-ID']}\t{time.time()}\n")
        return "250 OK"
controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def seed_template(server: PostgresServer, work: Path) -> tuple[str, str]:
    """A database with the demo organisation and one nomination at the DOST check; its nomination id."""
    url = server.create_database("bench_template")
    runtime = Runtime(ServiceConfig(instance_dir=work, database_url=url, secret_key="bench"),
                      clock=FixedClock(datetime.now(UTC)))
    init_db(runtime)
    seed_demo(runtime, "bench-password-1")
    nomination_id = nomination_at_dost_check(runtime)
    runtime.db.dispose()
    return "bench_template", nomination_id


def prepare(server: PostgresServer, template: str, nomination_id: str, count: int, work: Path, name: str) -> str:
    """A copy of the template database with `count` instances waiting for the same reminder."""
    url = server.create_database(name, template=template)
    runtime = Runtime(ServiceConfig(instance_dir=work, database_url=url, secret_key="bench"),
                      clock=FixedClock(datetime.now(UTC)))
    if count > 1:
        clone_instances(runtime, nomination_id, count - 1, tag="B")
    runtime.db.dispose()
    return url


def run_case(server: PostgresServer, template: str, nomination_id: str, count: int, workers: int,
             work: Path, case: int) -> dict[str, float]:
    url = prepare(server, template, nomination_id, count, work, f"bench_case{case}")
    # The before-due reminder of every copy now falls due at T, shortly after the workers are up: its
    # instant sits in the engine state (the timer's event value) and in next_wake_at.
    lead = 4.0 + workers * 2.0
    due = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)
    runtime = Runtime(ServiceConfig(instance_dir=work, database_url=url, secret_key="bench"))
    with runtime.uow() as uow:
        previous = uow.session.scalars(select(func.min(InstanceRow.next_wake_at))).one()
        assert previous is not None
        uow.session.execute(text(
            "UPDATE process_instance SET next_wake_at = :due, state = replace(state::text, :old, :new)::json "
            "WHERE next_wake_at = :previous"),
            {"due": due, "previous": previous, "old": previous.isoformat(), "new": due.isoformat()})
        uow.session.execute(text("ANALYZE"))
        uow.commit()

    port = free_port()
    arrivals = work / f"arrivals{case}.tsv"
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(port), str(arrivals)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    env = {**os.environ, "DATABASE_URL": url, "NOMFLOW_INSTANCE_DIR": str(work / "instance"),
           "NOMFLOW_SECRET_KEY": "bench", "NOMFLOW_SCHEDULER": "0", "NOMFLOW_SMTP_HOST": "127.0.0.1",
           "NOMFLOW_SMTP_PORT": str(port), "NOMFLOW_SMTP_SECURITY": "none"}
    procs = [subprocess.Popen([sys.executable, "-c", "from service.cli import main; main()", "worker",
                               "--wake-every", "0.5", "--deliver-every", "0.5", "--digest-at", "23:59"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=(work / f"worker{case}.log").open("w"))
             for _ in range(workers)]
    try:
        deadline = time.time() + lead + 900
        while time.time() < deadline:
            time.sleep(0.5)
            with runtime.uow() as uow:
                unsent = uow.session.scalar(select(func.count()).select_from(OutboxMail)
                                            .where(OutboxMail.status != "sent"))
                due_left = uow.session.scalar(select(func.count()).select_from(InstanceRow)
                                              .where(InstanceRow.next_wake_at <= due))
            if due_left == 0 and unsent == 0 and arrivals.exists() and \
                    len(arrivals.read_text().splitlines()) >= count:
                break
        else:
            raise RuntimeError(f"case {case} did not finish; see {work}/worker{case}.log")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=120)
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(timeout=30)

    with runtime.uow() as uow:
        woken_at = list(uow.session.scalars(select(AuditEvent.at).where(AuditEvent.kind == "send_reminder")))
        mails = uow.session.scalar(select(func.count()).select_from(OutboxMail)) or 0
    runtime.db.dispose()
    accepted = {}
    for line in arrivals.read_text().splitlines():
        message_id, at = line.split("\t")
        accepted.setdefault(message_id, float(at))  # a duplicate would count once, at its first arrival
    duplicates = len(arrivals.read_text().splitlines()) - len(accepted)
    t_due = due.timestamp()
    lateness = [at - t_due for at in accepted.values()]
    first_woken, last_woken = min(woken_at).timestamp(), max(woken_at).timestamp()
    return {
        "instances": count, "workers": workers, "woken": len(woken_at), "mails": mails,
        "swept_s": last_woken - t_due, "rate": len(woken_at) / max(last_woken - first_woken, 1e-9),
        "p50": percentile(lateness, 50), "p95": percentile(lateness, 95), "max": max(lateness),
        "delivered_s": max(accepted.values()) - t_due, "duplicates": duplicates,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=10_000, help="the burst case")
    parser.add_argument("--normal", type=int, default=200, help="the normal-load case")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nomflow-bench-"))
    server = PostgresServer.start()
    rows = []
    try:
        template, nomination_id = seed_template(server, work)
        case = 0
        for count in (args.normal, args.instances):
            for workers in args.workers:
                case += 1
                print(f"… {count} instances, {workers} worker(s)", file=sys.stderr, flush=True)
                rows.append(run_case(server, template, nomination_id, count, workers, work, case))
    finally:
        server.stop()
    shutil.rmtree(work, ignore_errors=True)  # kept (with the worker logs) only when a case failed

    print(f"\nTimer sweep + SMTP delivery, PostgreSQL (fsync off), {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; all reminders due at the same instant T")
    head = ("instances", "workers", "swept in (s)", "instances/s", "late p50 (s)", "late p95 (s)", "late max (s)",
            "all mail in (s)", "dup")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---:" for _ in head) + "|")
    for r in rows:
        assert r["woken"] == r["instances"] == r["mails"], r
        print(f"| {r['instances']} | {r['workers']} | {r['swept_s']:.1f} | {r['rate']:.0f} | {r['p50']:.2f} | "
              f"{r['p95']:.2f} | {r['max']:.2f} | {r['delivered_s']:.1f} | {r['duplicates']} |")


if __name__ == "__main__":
    main()
