"""Reporting rounds: the follow-up board and its Excel export with many units; prints a table.

2,000 units taking part in the movement, 3 rounds opened (one report and one instance per unit
each), then the board of one round read N times (p50, p95) and its .xlsx written, on SQLite (and
PostgreSQL with --backends sqlite,postgresql; the server of NOMFLOW_TEST_PG_URL or a throwaway one).

.venv/bin/python bench/rounds.py [--units 2000] [--rounds 3] [--reads 30] [--backends sqlite]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from sqlalchemy import insert, select  # noqa: E402

from service.core.config import ServiceConfig  # noqa: E402
from service.core.runtime import Runtime  # noqa: E402
from service.db.models import Movement, MovementUnit, Unit, User  # noqa: E402
from service.reads.reports import board  # noqa: E402
from service.reads.summary import board_xlsx  # noqa: E402
from service.usecases.accounts import actor_for_user  # noqa: E402
from service.usecases.reports import open_round  # noqa: E402
from service.usecases.setup import init_db, seed_demo  # noqa: E402
from workflows.clock import FixedClock  # noqa: E402

VN = timezone(timedelta(hours=7))


def run(url: str, folder: Path, units: int, rounds: int, reads: int) -> dict[str, float]:
    clock = FixedClock(datetime(2026, 4, 13, 9, 0, tzinfo=VN))
    runtime = Runtime(ServiceConfig(instance_dir=folder, database_url=url, testing=True, secret_key="bench",
                                    scheduler_in_process=False), clock=clock)
    init_db(runtime)
    seed_demo(runtime, "bench-password-1")
    with runtime.uow() as uow:
        movement_id = uow.session.scalars(select(Movement.id)).one()
        uow.session.execute(insert(Unit), [{"id": f"u{i:05d}", "name": f"Ủy ban nhân dân xã số {i}",
                                            "kind": "commune_ward"} for i in range(units)])
        uow.session.execute(insert(MovementUnit), [{"movement_id": movement_id, "unit_id": f"u{i:05d}"}
                                                   for i in range(units)])
        officer = uow.session.scalars(select(User.id).where(User.username == "chuyenvien.khcn")).one()
        uow.commit()
    found = actor_for_user(runtime, officer)
    assert found is not None
    actor = found[0]
    started = time.perf_counter()
    ids = [open_round(runtime, actor, "results", f"Báo cáo kết quả đợt {n + 1}", 2026, 10) for n in range(rounds)]
    opened = (time.perf_counter() - started) / rounds
    clock.set(datetime(2026, 5, 4, 9, 0, tzinfo=VN))  # past the due date: every row is late
    times = []
    for _ in range(reads):
        began = time.perf_counter()
        _, rows = board(runtime, actor, ids[-1])
        times.append((time.perf_counter() - began) * 1000)
    began = time.perf_counter()
    board_xlsx(runtime, actor, ids[-1])
    export = time.perf_counter() - began
    runtime.db.dispose()
    times.sort()
    return {"rows": len(rows), "open_s": opened, "p50_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))], "xlsx_s": export}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reads", type=int, default=30)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    print("| backend | reports/round | open a round (s) | board p50 (ms) | board p95 (ms) | board .xlsx (s) |")
    print("|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if backend == "sqlite":
                url = f"sqlite:///{folder / 'bench.sqlite3'}"
                result = run(url, folder, args.units, args.rounds, args.reads)
            else:
                from tests.support.postgres import server_for_tests

                server = server_for_tests()
                try:
                    name = server.new_name("rounds")
                    result = run(server.create_database(name), folder, args.units, args.rounds, args.reads)
                finally:
                    server.stop()
            print(f"| {backend} | {result['rows']} | {result['open_s']:.1f} | {result['p50_ms']:.0f} | "
                  f"{result['p95_ms']:.0f} | {result['xlsx_s']:.2f} |")


if __name__ == "__main__":
    main()
