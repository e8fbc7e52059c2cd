"""Mail latency under write load: how long a mail enqueued by a task completion waits for the SMTP server.

Run: .venv/bin/python bench/mail_latency.py [--seconds 30] [--clients 1 8 16] [--setups embedded worker]
     [--backend sqlite|postgresql]

Per case: a fresh instance directory (`nomflow init-db` + `seed-demo`), an aiosmtpd sink in its own
process writing the arrival time of every Message-ID (bench/timers.py's SINK), and the real server on
loopback:
- embedded: `nomflow serve` as shipped (NOMFLOW_SCHEDULER=1: the jobs run on the same machine);
- worker: `nomflow serve --no-scheduler` plus one `nomflow worker` process.
N client threads drive nominations over HTTP for the given seconds, one Giấy khen (create, upload,
submit, unit head signs: two mails) then one Bằng khen (six writes up to Home Affairs, no mail).
Then the outbox drains. Mail latency = arrival at the sink − the mail's `created_at` (the clock of the
enqueueing request, same machine); write latency = client-side time of POST /tasks/<id>/complete.
Both over the load window only.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from sqlalchemy import func, select  # noqa: E402
from timers import SINK  # noqa: E402  (bench/timers.py)

from service.core.config import ServiceConfig  # noqa: E402
from service.core.runtime import Runtime  # noqa: E402
from service.db.models import OutboxMail  # noqa: E402
from tests.support.postgres import PostgresServer, free_port  # noqa: E402

PASSWORD = "bench-password-1"


def _service_bench() -> Any:
    """bench/service.py, whose module name the `service` package shadows."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("service_bench", ROOT / "bench" / "service.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


service_bench = _service_bench()
make_tokens, pct, multipart = service_bench.make_tokens, service_bench.pct, service_bench.multipart
STEPS = service_bench.engine_bench.STEPS
USERS = ["canbo.hiennam", "chutich.hiennam", "chuyenvien.khcn", "lanhdao.khcn", "chuyenvien.noivu", "chuyenvien.noivu"]


def drive(client: Any, tokens: dict[str, str], award: str, timings: list[float]) -> None:
    """One nomination over HTTP. A Giấy khen ends at the unit head, who signs it: the unit's staff and
    head get a mail each. A Bằng khen goes on to Home Affairs' appraisal: six writes, no mail."""
    staff = tokens["canbo.hiennam"]
    _, created, _ = client.call("POST", "/api/v1/nominations", staff, {"unit_id": "phuong-hien-nam", "data": {}})
    nid = created["id"]
    body, ctype = multipart("to_trinh.pdf", b"%PDF-1.4\n% bench\n" + uuid.uuid4().bytes)
    _, stored, _ = client.call("POST", f"/api/v1/nominations/{nid}/attachments", staff, raw=body, content_type=ctype)
    sha = stored["sha256"]
    steps = list(zip(STEPS, USERS, strict=True))[:2 if award == "giay_khen" else 6]
    for (task_id, data), user in steps:
        if task_id == "draft_nomination":
            data = {**data, "award": award, "dossier": dict.fromkeys(data["dossier"], sha)}
        _, detail, _ = client.call("GET", f"/api/v1/nominations/{nid}", tokens[user])
        task = next(t for t in detail["tasks"] if t["task_id"] == task_id)
        _, _, ms = client.call("POST", f"/api/v1/tasks/{task['id']}/complete", tokens[user], {"data": data})
        timings.append(ms)


def nomflow(*args: str) -> list[str]:
    return [sys.executable, "-c", "from service.cli import main; main()", *args]


@contextmanager
def running(setup: str, work: Path, url: str, http_port: int, smtp_port: int) -> Iterator[dict[str, str]]:
    env = {**os.environ, "NOMFLOW_INSTANCE_DIR": str(work), "DATABASE_URL": url, "NOMFLOW_SECRET_KEY": "bench",
           "NOMFLOW_SMTP_HOST": "127.0.0.1", "NOMFLOW_SMTP_PORT": str(smtp_port), "NOMFLOW_SMTP_SECURITY": "none",
           "NOMFLOW_SCHEDULER": "1" if setup == "embedded" else "0"}
    subprocess.run(nomflow("init-db"), env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(nomflow("seed-demo", "--password", PASSWORD), env=env, cwd=ROOT, check=True, capture_output=True)
    tokens = make_tokens(work, url)
    log = (work / "server.log").open("w")
    procs = [subprocess.Popen(nomflow("serve", "--port", str(http_port)), env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=log)]
    if setup == "worker":
        procs.append(subprocess.Popen(nomflow("worker", "--digest-at", "23:59"), env=env, cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=log))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=2)
                conn.request("GET", "/login")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start; see {work}/server.log") from None
                time.sleep(0.2)
        yield tokens
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


def load(port: int, tokens: dict[str, str], clients: int, seconds: float) -> tuple[list[float], int, int]:
    """N clients driving nominations until time is up; completion times (ms), completions, errors."""
    Client = service_bench.Client  # noqa: N806

    stop = threading.Event()
    timings: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client() -> None:
        connection = Client(port)
        rounds = 0
        while not stop.is_set():
            mine: list[float] = []
            rounds += 1
            try:
                drive(connection, tokens, "giay_khen" if rounds % 2 else "bang_khen", mine)
            except Exception:  # noqa: BLE001 - counted; a bench goes on
                with lock:
                    errors[0] += 1
                connection = Client(port)
            with lock:
                timings.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    return timings, len(timings), errors[0]


def run_case(setup: str, backend: str, clients: int, seconds: float, pg: PostgresServer | None) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix=f"nomflow-mail-{setup}-{clients}-"))
    url = pg.create_database(pg.new_name("mail")) if pg else f"sqlite:///{work / 'nomflow.sqlite3'}"
    smtp_port, http_port = free_port(), free_port()
    arrivals = work / "arrivals.tsv"
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(smtp_port), str(arrivals)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    runtime = Runtime(ServiceConfig(instance_dir=work, database_url=url, secret_key="bench"))
    try:
        with running(setup, work, url, http_port, smtp_port) as tokens:
            started = time.time()
            timings, completions, errors = load(http_port, tokens, clients, seconds)
            ended = time.time()
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                with runtime.read() as uow:
                    unsent = uow.session.scalar(select(func.count()).select_from(OutboxMail)
                                                .where(OutboxMail.status.in_(("pending", "sending"))))
                if not unsent:
                    break
                time.sleep(0.5)
    finally:
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(timeout=30)
    with runtime.read() as uow:
        enqueued = {m: at.timestamp() for m, at in uow.session.execute(select(OutboxMail.message_id,
                                                                              OutboxMail.created_at))}
    runtime.db.dispose()
    arrived: dict[str, float] = {}
    for line in arrivals.read_text().splitlines():
        message_id, at = line.split("\t")
        arrived.setdefault(message_id, float(at))
    window = [m for m, at in enqueued.items() if started <= at <= ended]
    lateness = [arrived[m] - enqueued[m] for m in window if m in arrived]
    return {"setup": setup, "backend": backend, "clients": clients, "completions": completions, "errors": errors,
            "write_p50": pct(timings, 0.5), "write_p99": pct(timings, 0.99), "mails": len(window),
            "lost": len(window) - len(lateness), "p50": pct(lateness, 0.5), "p95": pct(lateness, 0.95),
            "max": max(lateness, default=float("nan"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--setups", nargs="+", default=["embedded"], choices=["embedded", "worker"])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    pg = PostgresServer.start() if args.backend == "postgresql" else None
    rows = []
    try:
        for setup in args.setups:
            for clients in args.clients:
                print(f"… {setup}, {args.backend}, {clients} client(s), {args.seconds:.0f} s", file=sys.stderr,
                      flush=True)
                rows.append(run_case(setup, args.backend, clients, args.seconds, pg))
    finally:
        if pg:
            pg.stop()
    load_avg = os.getloadavg()
    print(f"\nMail latency under load: {args.seconds:.0f} s of load per case, {os.cpu_count()} CPUs "
          f"(load average after: {load_avg[0]:.1f}), Python {platform.python_version()}"
          f"{', PostgreSQL fsync off' if pg else ', SQLite WAL'}")
    head = ("setup", "db", "clients", "completions", "errors", "write p50 ms", "write p99 ms", "mails", "lost",
            "mail p50 s", "mail p95 s", "mail max s")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|")
    for r in rows:
        print(f"| {r['setup']} | {r['backend']} | {r['clients']} | {r['completions']} | {r['errors']} | "
              f"{r['write_p50']:.0f} | {r['write_p99']:.0f} | {r['mails']} | {r['lost']} | {r['p50']:.2f} | "
              f"{r['p95']:.2f} | {r['max']:.2f} |")


if __name__ == "__main__":
    main()
