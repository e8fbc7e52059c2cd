"""The service over real HTTP: what a task completion costs next to the raw engine step.

Run: .venv/bin/python bench/service.py [--quick] [--backends sqlite,postgresql] [--nominations N]

For each database (a SQLite file, and a PostgreSQL server started for the run on loopback):
1. `nomflow init-db` + `seed-demo`, then `nomflow serve` (gunicorn, one process, threads) as a child
   process on 127.0.0.1, scheduler off.
2. N nominations driven through the whole path over HTTP with the demo users' API tokens: create,
   upload the dossier, submit, unit head, DOST officer and lead, Home Affairs check and appraisal;
   then one batch prepared and signed by the Chairman. Every POST /tasks/<id>/complete is timed
   at the client, so the number includes HTTP, auth, the transaction and the projections.
3. The same again after the tables are padded to 100,000 stored instances and 100,000 open tasks
   (bulk-inserted filler spread over roles and units), to show whether cost depends on table size.
4. The inbox query (GET /api/v1/tasks?scope=queue, 50 rows) p95 with those 100,000 open tasks.
The raw SpiffWorkflow step (bench/engine.py's in-memory reference) is measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import engine as engine_bench  # noqa: E402  (bench/engine.py: the raw SpiffWorkflow reference)
from sqlalchemy import insert, select, text, update  # noqa: E402

from service.app import create_app  # noqa: E402
from service.core.config import ServiceConfig  # noqa: E402
from service.db.models import InboxRow, InstanceRow, ProcessVersion, User  # noqa: E402
from service.usecases.accounts import actor_for_user, create_token  # noqa: E402

PASSWORD = "bench-password-1"
PDF = b"%PDF-1.4\n% nomflow bench dossier\n"
ROLES = ["unit_staff", "unit_head", "dost_officer", "dost_lead", "home_affairs_officer", "home_affairs_lead"]
UNITS = ["phuong-hien-nam", "so-tai-chinh", "cty-hung-yen-digital", "xa-nghia-tru", "so-y-te"]
FILLER = 100_000


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else float("nan")


class Client:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, token: str, body: Any = None,
             raw: bytes | None = None, content_type: str = "application/json") -> tuple[int, Any, float]:
        headers = {"Authorization": f"Bearer {token}"}
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if payload is not None:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=payload, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            # gunicorn closes idle keep-alive connections; nothing was processed, so send again.
            self.conn.close()
            started = time.perf_counter()
            self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        parsed = json.loads(data) if data and response.getheader("Content-Type", "").endswith("json") else data
        if response.status >= 400:
            raise RuntimeError(f"{method} {path} -> {response.status}: {parsed}")
        return response.status, parsed, elapsed


def multipart(filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@contextmanager
def server(workdir: Path, database_url: str, port: int) -> Iterator[tuple[dict[str, str], int]]:
    """Yields the demo users' tokens and the server's pid (bench/worst_request.py reads its CPU time)."""
    env = {**os.environ, "NOMFLOW_INSTANCE_DIR": str(workdir), "DATABASE_URL": database_url,
           "NOMFLOW_SCHEDULER": "0", "NOMFLOW_SECRET_KEY": "bench"}
    nomflow = str(Path(sys.executable).parent / "nomflow")
    subprocess.run([nomflow, "init-db"], env=env, check=True, capture_output=True)
    subprocess.run([nomflow, "seed-demo", "--password", PASSWORD], env=env, check=True, capture_output=True)
    tokens = make_tokens(workdir, database_url)
    process = subprocess.Popen([nomflow, "serve", "--port", str(port), "--threads", "4", "--no-scheduler"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/login")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start")
        yield tokens, process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


def make_tokens(workdir: Path, database_url: str) -> dict[str, str]:
    app = create_app(ServiceConfig(instance_dir=workdir, database_url=database_url, secret_key="bench",
                                   scheduler_in_process=False))
    runtime = app.extensions["nomflow"]
    tokens = {}
    with runtime.uow() as uow:
        users = list(uow.session.scalars(select(User)))
    for user in users:
        found = actor_for_user(runtime, user.id)
        assert found is not None
        tokens[user.username] = create_token(runtime, found[0], "bench")
    runtime.db.dispose()
    return tokens


def drive(client: Client, tokens: dict[str, str], count: int, timings: dict[str, list[float]]) -> list[str]:
    """count nominations from draft to awaiting the decision; returns their ids."""
    ids = []
    for _ in range(count):
        _, created, _ = client.call("POST", "/api/v1/nominations", tokens["canbo.hiennam"],
                                    {"unit_id": "phuong-hien-nam", "data": {}})
        nid = created["id"]
        body, ctype = multipart("to_trinh.pdf", PDF + uuid.uuid4().bytes)
        _, stored, _ = client.call("POST", f"/api/v1/nominations/{nid}/attachments", tokens["canbo.hiennam"],
                                   raw=body, content_type=ctype)
        sha = stored["sha256"]
        draft = {**engine_bench.DRAFT, "dossier": {"to_trinh": sha, "bien_ban_hoi_dong": sha,
                                                   "bao_cao_thanh_tich": sha}}
        steps = [("draft_nomination", "canbo.hiennam", draft)] + [
            (task_id, user, data) for (task_id, data), user in zip(engine_bench.STEPS[1:], [
                "chutich.hiennam", "chuyenvien.khcn", "lanhdao.khcn", "chuyenvien.noivu", "chuyenvien.noivu"],
                strict=True)]
        for task_id, user, data in steps:
            _, detail, _ = client.call("GET", f"/api/v1/nominations/{nid}", tokens[user])
            task = next(t for t in detail["tasks"] if t["task_id"] == task_id)
            _, _, ms = client.call("POST", f"/api/v1/tasks/{task['id']}/complete", tokens[user], {"data": data})
            timings[task_id].append(ms)
        ids.append(nid)
    return ids


def decide(client: Client, tokens: dict[str, str], ids: list[str], timings: dict[str, list[float]]) -> None:
    lead, chairman = tokens["lanhdao.noivu"], tokens["chutich.tinh"]
    _, batch, _ = client.call("POST", "/api/v1/batches", lead, {})
    _, detail, _ = client.call("GET", f"/api/v1/batches/{batch['id']}", lead)
    prepare = detail["tasks"][0]["id"] if detail.get("tasks") else detail["task"]["id"]
    _, _, ms = client.call("POST", f"/api/v1/tasks/{prepare}/complete", lead, {"data": {
        "nomination_ids": ids, "decision_title": "Khen thưởng phong trào thi đua 2026",
        "decision_draft": "Tặng Bằng khen của Chủ tịch UBND tỉnh cho các tập thể, cá nhân."}})
    timings["prepare_batch"].append(ms)
    _, detail, _ = client.call("GET", f"/api/v1/batches/{batch['id']}", chairman)
    sign = detail["tasks"][0]["id"] if detail.get("tasks") else detail["task"]["id"]
    # Signing needs a digital signature now (bench/documents.py times it); the task API only sends back.
    _, _, ms = client.call("POST", f"/api/v1/tasks/{sign}/complete", chairman, {"data": {
        "decision": "send_back", "reason": "Bổ sung danh sách trước khi ký quyết định."}})
    timings[f"sign_decision, sent back ({len(ids)} nominations)"].append(ms)


def pad_tables(workdir: Path, database_url: str) -> float:
    """Filler rows up to FILLER stored instances and open tasks; returns seconds taken."""
    started = time.perf_counter()
    app = create_app(ServiceConfig(instance_dir=workdir, database_url=database_url, secret_key="bench",
                                   scheduler_in_process=False))
    runtime = app.extensions["nomflow"]
    now = datetime.now(UTC)
    with runtime.uow() as uow:
        session = uow.session
        version_id = session.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == "nomination",
                                                                     ProcessVersion.active)).one()
        existing = session.query(InstanceRow).count()
        for chunk in range(0, FILLER - existing, 5000):
            n = min(5000, FILLER - existing - chunk)
            instances = [{"id": str(uuid.uuid4()), "process_version_id": version_id, "process_id": "nomination",
                          "state": {}, "serializer_version": "1.5", "status": "completed", "version": 1,
                          "created_at": now, "updated_at": now, "next_wake_at": None} for _ in range(n)]
            session.execute(insert(InstanceRow), instances)
            session.execute(insert(InboxRow), [{
                "id": str(uuid.uuid4()), "instance_id": row["id"], "process_id": "nomination",
                "task_id": "dost_check_dossier", "name": "Kiểm tra hồ sơ", "role": ROLES[i % len(ROLES)],
                "unit_id": UNITS[i % len(UNITS)] if ROLES[i % len(ROLES)].startswith("unit_") else None,
                "form": "dost_check_dossier.schema.json", "due_at": now + timedelta(hours=i % 500),
                "opened_at": now, "nominee_name": f"Hồ sơ đệm {chunk + i}", "nominee_kind": "co_quan_don_vi",
            } for i, row in enumerate(instances)])
        uow.commit()
    with runtime.db.engine.connect() as connection:
        # What autovacuum does within a minute of a bulk load in production: without statistics the
        # planner takes the 100,000 filler rows for an empty table and sorts them all.
        connection.execute(text("ANALYZE"))
        connection.commit()
    runtime.db.dispose()
    return time.perf_counter() - started


def inbox_p95(client: Client, tokens: dict[str, str], rounds: int) -> dict[str, tuple[float, float]]:
    results = {}
    for user in ("chuyenvien.khcn", "canbo.hiennam", "lanhdao.noivu"):
        times = [client.call("GET", "/api/v1/tasks?scope=queue&limit=50", tokens[user])[2] for _ in range(rounds)]
        results[user] = (pct(times, 0.5), pct(times, 0.95))
    return results


def raw_step_us(lifecycles: int, persisted: bool = False) -> tuple[float, float]:
    spec, subprocess_specs = engine_bench.raw_parse(engine_bench.BPMN.read_bytes())
    steps: engine_bench.PerStep = defaultdict(lambda: defaultdict(list))
    for _ in range(lifecycles):
        if persisted:
            engine_bench.raw_persisted_steps(spec, subprocess_specs, steps)
        else:
            engine_bench.raw_lifecycle(spec, subprocess_specs, steps)
    samples = [ns / 1000 for parts in steps.values() for ns in parts["total"]]
    return pct(samples, 0.5), pct(samples, 0.95)


def floors(client: Client, tokens: dict[str, str], workdir: Path, database_url: str,
           rounds: int) -> list[list[Any]]:
    """What any completion pays before doing anything: an authenticated request that does no work
    (GET /me) and one durable commit of a one-row write on the same database."""
    token = tokens["chutich.hiennam"]
    requests = [client.call("GET", "/api/v1/me", token)[2] for _ in range(rounds)]
    app = create_app(ServiceConfig(instance_dir=workdir, database_url=database_url, secret_key="bench",
                                   scheduler_in_process=False))
    runtime = app.extensions["nomflow"]
    commits = []
    for _ in range(rounds):
        started = time.perf_counter()
        with runtime.uow() as uow:
            uow.session.execute(update(User).where(User.username == "chutich.hiennam").values(language="vi"))
            uow.commit()
        commits.append((time.perf_counter() - started) * 1000)
    runtime.db.dispose()
    return [["floor", "", "GET /api/v1/me (HTTP + token auth)", rounds, f"{pct(requests, 0.5):.2f}",
             f"{pct(requests, 0.95):.2f}"],
            ["floor", "", "one-row UPDATE + commit" + (" (fsync on)" if runtime.db.is_sqlite else " (fsync off)"),
             rounds, f"{pct(commits, 0.5):.2f}",
             f"{pct(commits, 0.95):.2f}"]]


def run_backend(name: str, database_url: str, workdir: Path, port: int, count: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    with server(workdir, database_url, port) as (tokens, _):
        client = Client(port)
        drive(client, tokens, 3, defaultdict(list))  # warm-up
        rows += [[name, *row[1:]] for row in floors(client, tokens, workdir, database_url, 200)]
        for phase in ("~100 stored", f"{FILLER:,} stored"):
            if phase != "~100 stored":
                rows.append([name, "padding", f"{pad_tables(workdir, database_url):.1f} s", "", "", ""])
            timings: dict[str, list[float]] = defaultdict(list)
            ids = drive(client, tokens, count, timings)
            decide(client, tokens, ids, timings)
            steps = [ms for key, values in timings.items() if not key.startswith(("prepare", "sign")) for ms in values]
            rows.append([name, phase, "task completion", len(steps), f"{pct(steps, 0.5):.1f}",
                         f"{pct(steps, 0.95):.1f}"])
            for key, values in timings.items():
                if key.startswith(("prepare", "sign")):
                    rows.append([name, phase, key, len(values), f"{pct(values, 0.5):.1f}", f"{pct(values, 0.95):.1f}"])
        for user, (p50, p95) in inbox_p95(client, tokens, 50 if count < 20 else 200).items():
            rows.append([name, f"{FILLER:,} open tasks", f"inbox queue ({user})", "", f"{p50:.1f}", f"{p95:.1f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--nominations", type=int, default=None)
    args = parser.parse_args()
    count = args.nominations or (5 if args.quick else 30)
    print("nomflow service benchmark (real HTTP, gunicorn on 127.0.0.1)")
    print(f"Python {platform.python_version()}, {platform.platform()}, cpus={os.cpu_count()}, "
          f"nominations per phase={count}")
    gc.collect()
    raw_p50, raw_p95 = raw_step_us(20 if args.quick else 100)
    stored_p50, stored_p95 = raw_step_us(10 if args.quick else 50, persisted=True)
    rows: list[list[Any]] = [["raw SpiffWorkflow", "in memory", "engine step", "", f"{raw_p50 / 1000:.2f}",
                              f"{raw_p95 / 1000:.2f}"],
                             ["raw SpiffWorkflow", "its JSON", "deserialize + step + serialize", "",
                              f"{stored_p50 / 1000:.2f}", f"{stored_p95 / 1000:.2f}"]]
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix=f"nomflow-bench-{backend}-") as tmp:
            workdir = Path(tmp)
            if backend == "sqlite":
                rows += run_backend("sqlite", f"sqlite:///{workdir / 'bench.sqlite3'}", workdir, free_port(), count)
            else:
                from tests.support.postgres import PostgresServer

                pg = PostgresServer.start()
                try:
                    url = pg.create_database(pg.new_name("bench"))
                    rows += run_backend("postgresql", url, workdir, free_port(), count)
                finally:
                    pg.stop()
    headers = ["backend", "stored", "operation", "n", "p50 ms", "p95 ms"]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    print()
    for row in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                                     strict=True))))
    completions = [float(r[4]) for r in rows if r[2] == "task completion"]
    if completions:
        print(f"\ntask completion p50 / raw engine step p50: "
              f"{min(completions) / (raw_p50 / 1000):.1f}x to {max(completions) / (raw_p50 / 1000):.1f}x; "
              f"/ raw step with SpiffWorkflow's own JSON: {min(completions) / (stored_p50 / 1000):.1f}x to "
              f"{max(completions) / (stored_p50 / 1000):.1f}x")


if __name__ == "__main__":
    main()
