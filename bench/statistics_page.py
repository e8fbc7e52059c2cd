"""The statistics page and the full .xlsx export over real HTTP, with 100,000 nominations stored.

Run: .venv/bin/python bench/statistics_page.py [--small] [--backends sqlite,postgresql]
(Named statistics_page, not statistics: a bench/statistics.py would shadow the standard library for
every script run from bench/.)

For each database (a SQLite file, and a PostgreSQL server started for the run on loopback):
1. `nomflow init-db` + `seed-demo`, then `nomflow serve` (gunicorn, one process, threads) on
   127.0.0.1, scheduler off (bench/service.py's `server`).
2. Bulk-inserted: 2,000 units taking part in the 2026 movement, 100,000 nominations spread over units,
   nominee kinds, awards and statuses, an open task (some overdue, some claimed) for each one still in
   progress, and ~4 desk-time rows per nomination (what the completions of its past steps wrote).
   `--small`: 200 units and 5,000 nominations (the CI size).
3. Timed at the client: the floor (GET /api/v1/me: HTTP + token auth, no work), GET /statistics for
   an admin (every nomination) and for the DOST lead (province scope), and the full export
   GET /statistics/nominations.xlsx: its time, its size, and the server worker's peak resident memory
   (VmHWM) before and after, which shows whether memory grows with the rows.
Targets (DESIGN/issue 15): statistics page p95 <= 300 ms, full export of 100,000 rows <= 10 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from sqlalchemy import insert, select, text  # noqa: E402

from service.app import create_app  # noqa: E402
from service.core.config import ServiceConfig  # noqa: E402
from service.db.models import DeskTime, InboxRow, Movement, MovementUnit, Nomination, Unit, User  # noqa: E402

_spec = importlib.util.spec_from_file_location("service_bench", ROOT / "bench" / "service.py")
assert _spec and _spec.loader
service_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(service_bench)  # its server, HTTP client and percentiles

KINDS = ["co_quan_don_vi", "mat_tran_to_chuc", "doanh_nghiep", "ca_nhan"]
UNIT_KINDS = ["provincial_agency", "commune_ward", "front_organisation", "enterprise"]
# Statuses with their weight, and the desk of the open task of those still in progress.
STATUSES = {"draft": (8, "unit_staff"), "unit_review": (10, "unit_head"), "dost_review": (12, "dost_officer"),
            "dost_selection": (8, "dost_lead"), "home_affairs_review": (8, "home_affairs_officer"),
            "home_affairs_appraisal": (8, "home_affairs_officer"), "awaiting_decision": (6, None),
            "awarded": (20, None), "unit_certificate": (10, None), "not_awarded": (10, None)}
PATH = ["unit_staff", "unit_head", "dost_officer", "dost_lead", "home_affairs_officer", "home_affairs_officer"]
CHUNK = 5000


def load(workdir: Path, database_url: str, units: int, nominations: int) -> tuple[int, float]:
    """Bulk rows as the service would have written them; returns the movement id and seconds taken."""
    started = time.perf_counter()
    app = create_app(ServiceConfig(instance_dir=workdir, database_url=database_url, secret_key="bench",
                                   scheduler_in_process=False))
    runtime = app.extensions["nomflow"]
    rng = random.Random(15)
    now = datetime.now(UTC)
    with runtime.uow() as uow:
        session = uow.session
        movement_id = session.scalars(select(Movement.id).where(Movement.year == 2026)).one()
        creator = session.scalars(select(User.id)).first()
        people = list(session.scalars(select(User.id)))
        unit_ids = [f"bench-unit-{i:04d}" for i in range(units)]
        session.execute(insert(Unit), [{"id": u, "name": f"Đơn vị thử nghiệm số {i}", "kind": UNIT_KINDS[i % 4]}
                                       for i, u in enumerate(unit_ids)])
        session.execute(insert(MovementUnit), [{"movement_id": movement_id, "unit_id": u} for u in unit_ids])
        statuses = list(STATUSES)
        weights = [STATUSES[s][0] for s in statuses]
        for chunk in range(0, nominations, CHUNK):
            rows, tasks, desks = [], [], []
            for i in range(chunk, min(nominations, chunk + CHUNK)):
                status = rng.choices(statuses, weights)[0]
                unit = unit_ids[rng.randrange(units)]
                kind = KINDS[i % 4]
                created = now - timedelta(days=rng.randrange(200))
                nid = f"DN{i:010d}"
                rows.append({"id": nid, "unit_id": unit, "movement_id": movement_id, "nominee_kind": kind,
                             "nominee_name": f"Tập thể thử nghiệm {i}", "status": status, "data": {},
                             "award": "giay_khen" if status == "unit_certificate" or i % 5 == 0 else "bang_khen",
                             "created_by": creator, "created_at": created, "updated_at": created})
                desk = STATUSES[status][1]
                if desk is not None:
                    tasks.append({"id": str(uuid.uuid4()), "instance_id": None, "process_id": "nomination",
                                  "task_id": "bench", "name": "Việc thử nghiệm", "role": desk,
                                  "unit_id": unit if desk.startswith("unit_") else None, "opened_at": created,
                                  "due_at": now + timedelta(days=rng.randrange(-20, 20)), "nomination_id": nid,
                                  "assignee_id": rng.choice(people) if i % 3 == 0 else None,
                                  "nominee_name": rows[-1]["nominee_name"], "nominee_kind": kind})
                for step in range(4 if desk is None else statuses.index(status) % 6):
                    desks.append({"task_uuid": str(uuid.uuid4()), "instance_id": nid, "nomination_id": nid,
                                  "movement_id": movement_id, "unit_id": unit, "role": PATH[step],
                                  "opened_at": created, "completed_at": created, "working_days": rng.randrange(15)})
            session.execute(insert(Nomination), rows)
            if tasks:
                _insert_tasks(session, tasks)
            session.execute(insert(DeskTime), desks)
        uow.commit()
    with runtime.db.engine.connect() as connection:
        connection.execute(text("ANALYZE"))  # what autovacuum does within a minute of a bulk load
        connection.commit()
    runtime.db.dispose()
    return movement_id, time.perf_counter() - started


def _insert_tasks(session: Any, tasks: list[dict[str, Any]]) -> None:
    # Open tasks belong to an instance (a foreign key): one placeholder instance row per task.
    from service.db.models import InstanceRow, ProcessVersion

    version_id = session.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == "nomination")).first()
    now = datetime.now(UTC)
    instances = [{"id": str(uuid.uuid4()), "process_version_id": version_id, "process_id": "nomination", "state": {},
                  "serializer_version": "1.5", "status": "running", "version": 1, "created_at": now,
                  "updated_at": now, "next_wake_at": None} for _ in tasks]
    session.execute(insert(InstanceRow), instances)
    for task, instance in zip(tasks, instances, strict=True):
        task["instance_id"] = instance["id"]
    session.execute(insert(InboxRow), tasks)


def worker_peak_kib(pid: int) -> int:
    """Peak resident memory (VmHWM) of gunicorn's worker, the child of the process started."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    status = Path(f"/proc/{children[0]}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


class Rows(list[list[Any]]):
    def append(self, row: list[Any]) -> None:
        print("  ".join(map(str, row)), flush=True)
        super().append(row)


def run_backend(name: str, database_url: str, workdir: Path, units: int, nominations: int,
                rounds: int) -> list[list[Any]]:
    rows: list[list[Any]] = Rows()
    port = service_bench.free_port()
    with service_bench.server(workdir, database_url, port) as (tokens, pid):
        movement_id, seconds = load(workdir, database_url, units, nominations)
        rows.append([name, "load", f"{units:,} units, {nominations:,} nominations", "", f"{seconds:.1f} s", ""])
        client = service_bench.Client(port)
        admin, lead = tokens["quantri"], tokens["lanhdao.khcn"]
        for _ in range(3):  # warm-up: imports, first queries, page cache
            client.call("GET", f"/statistics?movement={movement_id}", admin)
        me = [client.call("GET", "/api/v1/me", admin)[2] for _ in range(rounds * 2)]
        rows.append([name, "floor", "GET /api/v1/me (HTTP + token auth)", len(me),
                     f"{service_bench.pct(me, 0.5):.1f}", f"{service_bench.pct(me, 0.95):.1f}"])
        for who, token in (("admin", admin), ("DOST lead", lead)):
            times = [client.call("GET", f"/statistics?movement={movement_id}", token)[2] for _ in range(rounds)]
            rows.append([name, "statistics", f"GET /statistics ({who})", len(times),
                         f"{service_bench.pct(times, 0.5):.1f}", f"{service_bench.pct(times, 0.95):.1f}"])
        before = worker_peak_kib(pid)
        client.conn.timeout = 900  # a slow machine must not cut the export short
        client.conn.close()
        _, body, ms = client.call("GET", f"/statistics/nominations.xlsx?movement={movement_id}", admin)
        after = worker_peak_kib(pid)
        rows.append([name, "export", f"nominations.xlsx: {nominations:,} rows, {len(body) / 1e6:.1f} MB", 1,
                     f"{ms / 1000:.2f} s", f"peak RSS {before / 1024:.0f} -> {after / 1024:.0f} MiB"])
        _, body, ms = client.call("GET", f"/statistics/export.xlsx?movement={movement_id}", admin)
        rows.append([name, "export", f"export.xlsx: every table ({len(body) / 1e3:.0f} kB)", 1, f"{ms:.0f}", ""])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="200 units, 5,000 nominations (CI size)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    units, nominations, rounds = (200, 5_000, 20) if args.small else (2_000, 100_000, 40)
    print("nomflow statistics benchmark (real HTTP, gunicorn on 127.0.0.1)")
    print(f"Python {platform.python_version()}, {platform.platform()}, cpus={os.cpu_count()}")
    rows: list[list[Any]] = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix=f"nomflow-bench-stats-{backend}-") as tmp:
            workdir = Path(tmp)
            if backend == "sqlite":
                rows += run_backend("sqlite", f"sqlite:///{workdir / 'bench.sqlite3'}", workdir, units, nominations,
                                    rounds)
            else:
                from tests.support.postgres import PostgresServer

                pg = PostgresServer.start()
                try:
                    url = pg.create_database(pg.new_name("bench"))
                    rows += run_backend("postgresql", url, workdir, units, nominations, rounds)
                finally:
                    pg.stop()
    headers = ["backend", "what", "operation", "n", "p50 ms", "p95 ms"]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    print()
    for row in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))))


if __name__ == "__main__":
    main()
