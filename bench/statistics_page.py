"""The statistics page, the follow-up boards and the full .xlsx export over real HTTP, with 100,000
nominations and 2,000 units x 3 reporting rounds stored.

Run: .venv/bin/python bench/statistics_page.py [--small] [--backends sqlite,postgresql]
         [--pages statistics,follow-up] [--no-export | --export-only] [--save-export DIR] [--requests 30]
(Named statistics_page, not statistics: a bench/statistics.py would shadow the standard library for
every script run from bench/.)

For each database (a SQLite file, and a PostgreSQL server started for the run on loopback):
1. `nomflow init-db` + `seed-demo`, then bulk-inserted: 2,000 units taking part in the 2026 movement,
   100,000 nominations spread over units, nominee kinds, awards and statuses, an open task (some
   overdue, some claimed) for each one still in progress, ~4 desk-time rows per nomination (what the
   completions of its past steps wrote), and 3 results rounds of 2,000 unit reports each (sent, sent
   late, still being written: an open, often overdue, task each). `--small`: 200 units, 5,000.
   The seeded database is kept in $NOMFLOW_BENCH_CACHE (default /tmp/nomflow-bench-cache), keyed by
   the sizes: the next run copies it (SQLite) or restores it (pg_restore) and migrates it to the head.
2. `nomflow serve` (gunicorn, one process, threads) on 127.0.0.1, scheduler off.
3. Timed at the client, same server process: the floor (GET /healthz: HTTP, no work), GET
   /statistics for an admin (every nomination) and for the DOST lead (province scope), the DOST
   officer's follow-up page (/follow-up: the units' late tasks) and the board of the last round
   (/rounds/<id>), and the full export GET /statistics/nominations.xlsx: its time and the server
   worker's peak resident memory during it (VmHWM, reset just before through /proc/<pid>/clear_refs).
   Beside the wall times: the server worker's CPU per request, and on PostgreSQL the database server's
   (the postmaster's processes, parallel workers included): on a shared machine the wall time is
   mostly waiting for a core, the CPU times are what a request costs.
Targets (DESIGN/issue 15): pages p95 <= 300 ms, full export of 100,000 rows <= 10 s, memory flat.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from service.app import create_app  # noqa: E402
from service.core.config import ServiceConfig  # noqa: E402
from service.db.models import (  # noqa: E402
    DeskTime,
    InboxRow,
    Movement,
    MovementUnit,
    Nomination,
    ReportRound,
    Unit,
    UnitReport,
    User,
)

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
ROUNDS = 3
SEED_VERSION = 2  # bump when load() changes: the kept copies are keyed by it
CACHE = Path(os.environ.get("NOMFLOW_BENCH_CACHE", Path(tempfile.gettempdir()) / "nomflow-bench-cache"))


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
                                  "nominee_name": rows[-1]["nominee_name"], "nominee_kind": kind,
                                  "movement_id": movement_id})
                for step in range(4 if desk is None else statuses.index(status) % 6):
                    desks.append({"task_uuid": str(uuid.uuid4()), "instance_id": nid, "nomination_id": nid,
                                  "movement_id": movement_id, "unit_id": unit, "role": PATH[step],
                                  "opened_at": created, "completed_at": created, "working_days": rng.randrange(15)})
            session.execute(insert(Nomination), rows)
            if tasks:
                _insert_tasks(session, tasks)
            session.execute(insert(DeskTime), desks)
        _load_rounds(session, rng, movement_id, creator, unit_ids, now)
        uow.commit()
    with runtime.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # What autovacuum does within a minute of a bulk load: statistics (and on PostgreSQL the
        # visibility map, without which an index-only scan visits the table anyway).
        connection.execute(text("ANALYZE" if database_url.startswith("sqlite") else "VACUUM ANALYZE"))
    runtime.db.dispose()
    return movement_id, time.perf_counter() - started


def _load_rounds(session: Any, rng: random.Random, movement_id: int, creator: int, unit_ids: list[str],
                 now: datetime) -> None:
    """ROUNDS results rounds, due 60, 20 and -10 days from now: each unit's report sent (on time or
    late) or still being written, with its open task at the unit's desk."""
    tasks = []
    for n in range(ROUNDS):
        due = now - timedelta(days=60 - 35 * n)
        round_id = uuid.uuid4().hex
        session.execute(insert(ReportRound), [{
            "id": round_id, "kind": "results", "title": f"Báo cáo kết quả đợt {n + 1}", "year": 2026,
            "movement_id": movement_id, "due_at": due, "remind_at": due - timedelta(days=3), "opened_by": creator,
            "opened_at": due - timedelta(days=14)}])
        reports = []
        for unit in unit_ids:
            status = rng.choices(["accepted", "submitted", "drafting", "not_started"], [4, 3, 2, 1])[0]
            sent = status in ("accepted", "submitted")
            late = sent and rng.random() < 0.2
            reports.append({"id": uuid.uuid4().hex, "round_id": round_id, "unit_id": unit, "instance_id": None,
                            "status": status, "data": {}, "late": late, "updated_at": due, "version": 1,
                            "submitted_at": due + timedelta(days=2 if late else -2) if sent else None,
                            "accepted_at": due if status == "accepted" else None})
            if not sent:
                tasks.append({"id": str(uuid.uuid4()), "instance_id": None, "process_id": "unit_report",
                              "task_id": "bench_report", "name": "Lập báo cáo kết quả", "role": "unit_staff",
                              "unit_id": unit, "opened_at": due - timedelta(days=14), "due_at": due})
        session.execute(insert(UnitReport), reports)
    _insert_tasks(session, tasks, "unit_report")


def _insert_tasks(session: Any, tasks: list[dict[str, Any]], process_id: str = "nomination") -> None:
    # Open tasks belong to an instance (a foreign key): one placeholder instance row per task.
    from service.db.models import InstanceRow, ProcessVersion

    version_id = session.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == process_id)).first()
    now = datetime.now(UTC)
    instances = [{"id": str(uuid.uuid4()), "process_version_id": version_id, "process_id": process_id, "state": {},
                  "serializer_version": "1.5", "status": "running", "version": 1, "created_at": now,
                  "updated_at": now, "next_wake_at": None} for _ in tasks]
    session.execute(insert(InstanceRow), instances)
    for task, instance in zip(tasks, instances, strict=True):
        task["instance_id"] = instance["id"]
    session.execute(insert(InboxRow), tasks)


def worker_pid(pid: int) -> int:
    """gunicorn's worker: the child of the process started."""
    return int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])


def peak_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := the current resident size


class Rows(list[list[Any]]):
    def append(self, row: list[Any]) -> None:
        print("  ".join(map(str, row)), flush=True)
        super().append(row)


def cache_key(units: int, nominations: int) -> str:
    # A kept copy is migrated to the head when the server starts (init-db), but only along the chain
    # it was made with: merged branches re-chain (rename) revisions, and a copy stamped with a revision
    # that no longer exists cannot be migrated. So the migration files are part of the key.
    chain = ",".join(sorted(path.name for path in (ROOT / "service" / "migrations" / "versions").glob("*.py")))
    return hashlib.sha256(f"{SEED_VERSION}/{units}/{nominations}/{ROUNDS}/{chain}".encode()).hexdigest()[:16]


@contextmanager
def prepared(backend: str, workdir: Path, units: int,
             nominations: int) -> Iterator[tuple[str, Path | None, Callable[[], float]]]:
    """A database for the run, the file to keep it in when it is not kept yet (None: restored from it),
    and the CPU seconds the database server has used so far (0 for SQLite: it runs in the worker)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    kept = CACHE / f"stats-{backend}-{cache_key(units, nominations)}.{'sqlite3' if backend == 'sqlite' else 'pgdump'}"
    if backend == "sqlite":
        target = workdir / "bench.sqlite3"
        if kept.exists():
            shutil.copyfile(kept, target)
        yield f"sqlite:///{target}", None if kept.exists() else kept, lambda: 0.0
        return
    from tests.support.postgres import PostgresServer, find_bindir

    pg = PostgresServer.start()
    assert pg._owned_dir is not None
    postmaster = int((pg._owned_dir / "data" / "postmaster.pid").read_text().split()[0])
    try:
        url = pg.create_database(pg.new_name("bench"))
        if kept.exists():
            subprocess.run([str(find_bindir() / "pg_restore"), "--no-owner", "-j", "2", "-d", libpq(url), str(kept)],
                           check=True, capture_output=True)
            # What autovacuum does within a minute of a bulk load (PostgreSQL >= 13 vacuums after inserts
            # too): statistics, and the visibility map that lets the covering indexes answer alone.
            subprocess.run([str(find_bindir() / "psql"), "-q", "-d", libpq(url), "-c", "VACUUM ANALYZE"], check=True)
            yield url, None, lambda: server_cpu_seconds(postmaster)
        else:
            yield url, kept, lambda: server_cpu_seconds(postmaster)
    finally:
        pg.stop()


def server_cpu_seconds(postmaster: int) -> float:
    """The PostgreSQL server's CPU so far: the postmaster with its children that ended (parallel workers
    come and go) and those still running (the connections' backends)."""
    def fields(pid: int) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    own = fields(postmaster)
    ticks = sum(int(own[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
    for child in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # ended: in the postmaster's cutime
            ticks += sum(int(x) for x in fields(int(child))[11:13])
    return ticks / os.sysconf("SC_CLK_TCK")


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def keep(database_url: str, kept: Path) -> None:
    partial = kept.with_suffix(".partial")
    if database_url.startswith("sqlite"):
        source = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        copy = sqlite3.connect(partial)
        source.backup(copy)
        copy.close()
        source.close()
    else:
        from tests.support.postgres import find_bindir

        subprocess.run([str(find_bindir() / "pg_dump"), "-Fc", "-Z", "1", "-f", str(partial), libpq(database_url)],
                       check=True, capture_output=True)
    partial.replace(kept)


def first(database_url: str, query: Any) -> Any:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(query).scalars().first()
    finally:
        engine.dispose()


def timed(client: Any, path: str, token: str, count: int) -> list[float]:
    return [client.call("GET", path, token)[2] for _ in range(count)]


def run_backend(name: str, workdir: Path, units: int, nominations: int, rounds: int,
                only: set[str] | None = None, export: bool = True,
                save_export: Path | None = None) -> list[list[Any]]:
    rows: list[list[Any]] = Rows()
    port = service_bench.free_port()
    with prepared(name, workdir, units, nominations) as (database_url, kept, db_cpu), \
            service_bench.server(workdir, database_url, port, seeded=kept is None) as (tokens, pid):
        if kept is not None:
            movement_id, seconds = load(workdir, database_url, units, nominations)
            keep(database_url, kept)
            rows.append([name, "load", f"{units:,} units, {nominations:,} nominations, {ROUNDS} rounds (kept)", "",
                         f"{seconds:.1f} s", "", "", ""])
        else:
            movement_id = first(database_url, select(Movement.id).where(Movement.year == 2026))
            rows.append([name, "load", f"{units:,} units, {nominations:,} nominations, {ROUNDS} rounds (copy)",
                         "", "", "", "", ""])
        last_round = first(database_url, select(ReportRound.id).order_by(ReportRound.due_at.desc()))
        client = service_bench.Client(port)
        admin, lead, officer = tokens["quantri"], tokens["lanhdao.khcn"], tokens["chuyenvien.khcn"]
        pages = [("statistics", "GET /statistics (admin)", f"/statistics?movement={movement_id}", admin),
                 ("statistics", "GET /statistics (DOST lead)", f"/statistics?movement={movement_id}", lead),
                 ("follow-up", "GET /follow-up (DOST officer)", "/follow-up", officer),
                 ("follow-up", "GET /rounds/<last round> (DOST officer)", f"/rounds/{last_round}", officer)]
        pages = [page for page in pages if only is None or page[0] in only]
        for _, _, path, token in pages:  # warm-up: imports, first queries, page cache
            timed(client, path, token, 2)
        worker = worker_pid(pid)
        # The server's CPU per request beside the wall times: on a shared machine the wall time
        # includes waiting for a core, the CPU time is what the request costs.
        for what, label, path, token in [("floor", "GET /healthz (HTTP, no work)", "/healthz", admin), *pages]:
            cpu, database = cpu_seconds(worker), db_cpu()
            times = timed(client, path, token, rounds)
            cpu = (cpu_seconds(worker) - cpu) / len(times) * 1000
            database = (db_cpu() - database) / len(times) * 1000
            rows.append([name, what, label, len(times), f"{service_bench.pct(times, 0.5):.1f}",
                         f"{service_bench.pct(times, 0.95):.1f}", f"{cpu:.0f}",
                         f"{database:.0f}" if name == "postgresql" else ""])
        if not export:
            return rows
        before = peak_kib(worker)
        reset_peak(worker)
        client.conn.timeout = 900  # a slow machine must not cut the export short
        client.conn.close()
        cpu = cpu_seconds(worker)
        _, body, ms = client.call("GET", f"/statistics/nominations.xlsx?movement={movement_id}", admin)
        cpu = cpu_seconds(worker) - cpu
        after = peak_kib(worker)
        if save_export is not None:
            (save_export / f"nominations-{name}.xlsx").write_bytes(body)
        rows.append([name, "export", f"nominations.xlsx: {nominations:,} rows, {len(body) / 1e6:.1f} MB", 1,
                     f"{ms / 1000:.2f} s", f"peak RSS {after / 1024:.0f} MiB (before: {before / 1024:.0f})",
                     f"{cpu * 1000:.0f}", ""])
        _, body, ms = client.call("GET", f"/statistics/export.xlsx?movement={movement_id}", admin)
        rows.append([name, "export", f"export.xlsx: every table ({len(body) / 1e3:.0f} kB)", 1, f"{ms:.0f}", "", "",
                     ""])
    return rows


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="200 units, 5,000 nominations (CI size)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=30, help="requests per page")
    parser.add_argument("--pages", help="only these pages: statistics, follow-up (default: both)")
    parser.add_argument("--no-export", action="store_true", help="skip the two .xlsx exports")
    parser.add_argument("--export-only", action="store_true", help="only the two exports, not the pages")
    parser.add_argument("--save-export", type=Path, help="keep the full export in this folder, to look at")
    args = parser.parse_args()
    only = set() if args.export_only else set(args.pages.split(",")) if args.pages else None
    units, nominations = (200, 5_000) if args.small else (2_000, 100_000)
    print("nomflow statistics benchmark (real HTTP, gunicorn on 127.0.0.1)")
    print(f"Python {platform.python_version()}, {platform.platform()}, cpus={os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    rows: list[list[Any]] = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix=f"nomflow-bench-stats-{backend}-") as tmp:
            rows += run_backend(backend, Path(tmp), units, nominations, args.requests, only, not args.no_export,
                                args.save_export)
    headers = ["backend", "what", "operation", "n", "p50 ms", "p95 ms", "server CPU ms/request",
               "database CPU ms/request"]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    for row in [headers, ["-" * w for w in widths], *rows]:
        print("| " + " | ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w)
                                for i, (c, w) in enumerate(zip(row, widths, strict=True))) + " |")


if __name__ == "__main__":
    main()
