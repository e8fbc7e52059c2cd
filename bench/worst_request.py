"""The worst requests a signed-in user can send, and what each costs the server in CPU.

Run: .venv/bin/python bench/worst_request.py [--repeat N]

Starts `nomflow serve` (gunicorn: a master and one worker) on a fresh SQLite database with the demo
organisation, then sends, with the demo users' API tokens, to every write endpoint of the published
OpenAPI document (path parameters filled with ids the caller may act on, so that access passes and the
body is what the server has to deal with):
  big arrays (just under and far over the JSON body limit), deep nesting (30 and 50,000 levels), long
  strings, many fields, many invalid fields, huge integers, control characters;
plus the largest upload (a refused 20 MB file) and the largest diagram an admin may send. Each endpoint
is first called once with an empty object, so that one-time costs (a diagram's first parse) are not counted.
Server CPU per request = utime + stime of the gunicorn processes (/proc/<pid>/stat) after minus before,
so it counts what the server spent, not the network or this client. Target (docs/performance.md and
issue 14): <= 100 ms of CPU for the worst request.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def _service_bench() -> Any:
    """bench/service.py (its server and port helpers), loaded by path: `service` is the app's package."""
    spec = importlib.util.spec_from_file_location("service_bench", ROOT / "bench" / "service.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TARGET_MS = 100.0
TICKS = os.sysconf("SC_CLK_TCK")
JSON_LIMIT = 256 * 1024


def process_tree(root: int) -> list[int]:
    """The server's processes: the gunicorn master and its workers."""
    pids = [root]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == root:
                pids.append(int(entry.name))
    return pids


def cpu_ms(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total * 1000 / TICKS


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def hostile_bodies() -> list[tuple[str, bytes]]:
    """(label, raw JSON body): each shaped to cost the server as much as a body may."""
    under = JSON_LIMIT - 1024
    return [
        ("array just under the limit", json.dumps({"data": {"criteria": [1] * (under // 3)}}).encode()),
        ("array 100,000 (the sweep's)", json.dumps({"data": {"criteria": [1] * 100_000}}).encode()),
        ("array of objects", json.dumps({"data": {"excluded": [{"nomination_id": "x", "reason": ""}] * 6000,
                                                  "nomination_ids": [{}] * 2000}}).encode()),
        ("long string", json.dumps({"data": {"nominee_name": "x" * under}, "name": "x" * under}).encode()),
        ("many fields", json.dumps({"data": {f"f{i}": i for i in range(under // 12)}}).encode()),
        ("many bad fields", json.dumps({"data": {"criteria": ["zz"] * 19, "nominee_kind": 1, "award": [],
                                                 **{f"f{i}": {"x": [1]} for i in range(199)}}}).encode()),
        ("nesting 30", ('{"data": {"criteria": ' + deep(30) + "}}").encode()),
        ("nesting 50,000", ('{"data": {"criteria": ' + deep(50_000) + "}}").encode()),
        ("huge integers", json.dumps({"user_id": 2**64, "version": 10**4000 // 10**3990, "to_version": 2**63,
                                      "revision": 2**63}).encode()),
        ("NUL and controls", json.dumps({"data": {"nominee_name": "a\x00\n" * 1000}, "name": "\x00"}).encode()),
        ("far over the limit", json.dumps({"data": {"criteria": [1] * 1_000_000}}).encode()),
    ]


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def send(self, method: str, path: str, token: str, body: bytes | None,
             content_type: str = "application/json") -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # gunicorn closes the connection after a refused large body; send again on a new one.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, token: str, body: Any = None) -> Any:
        status, data = self.send(method, path, token, json.dumps(body).encode() if body is not None else None)
        assert status < 400, (method, path, status, data[:300])
        return json.loads(data) if data else None


def targets(client: Client, tokens: dict[str, str]) -> list[tuple[str, str, str]]:
    """(method, concrete path, user) for every write operation, with ids the user may act on."""
    spec = client.json("GET", "/api/openapi.json", tokens["quantri"])
    staff = tokens["canbo.hiennam"]
    nomination = client.json("POST", "/api/v1/nominations", staff, {"unit_id": "phuong-hien-nam", "data": {}})["id"]
    task = client.json("GET", f"/api/v1/nominations/{nomination}", staff)["tasks"][0]["id"]
    ids = {"nomination_id": nomination, "task_id": task, "process_id": "nomination", "version": "1",
           "draft_id": "1", "user_id": "1", "token_id": "1", "batch_id": "X", "sha256": "0" * 64}
    found = []
    for path, operations in spec["paths"].items():
        for method in operations:
            if method not in ("post", "put", "patch"):
                continue
            concrete = path
            for name, value in ids.items():
                concrete = concrete.replace("{" + name + "}", value)
            user = "quantri" if "/admin/" in path or path.endswith(("/units", "/users", "/roles")) else "canbo.hiennam"
            if path.startswith("/api/v1/batches"):
                user = "lanhdao.noivu"
            found.append((method.upper(), concrete, user))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1, help="send each request this many times, keep the max")
    args = parser.parse_args()
    print("nomflow worst-request benchmark (real HTTP, gunicorn on 127.0.0.1, SQLite)")
    print(f"Python {platform.python_version()}, {platform.platform()}, cpus={os.cpu_count()}; "
          f"target <= {TARGET_MS:.0f} ms server CPU per request")
    rows: list[tuple[float, int, int, str]] = []
    bench = _service_bench()
    with tempfile.TemporaryDirectory(prefix="nomflow-worst-") as tmp:
        workdir, port = Path(tmp), bench.free_port()
        with bench.server(workdir, f"sqlite:///{workdir / 'worst.sqlite3'}", port) as (tokens, pid):
            client = Client(port)
            pids = process_tree(pid)
            cases = [(m, p, u, label, body, "application/json")
                     for m, p, u in targets(client, tokens) for label, body in hostile_bodies()]
            cases += uploads(client, tokens)
            for method, path, user, *_ in cases:  # warm up: first parses of diagrams and forms are not the body's
                client.send(method, path, tokens[user], b"{}")
            for method, path, user, label, body, content_type in cases:
                worst, status, size = 0.0, 0, 0
                for _ in range(args.repeat):
                    before = cpu_ms(pids)
                    status, data = client.send(method, path, tokens[user], body, content_type)
                    time.sleep(0.005)  # let the worker finish its accounting (access log, teardown)
                    worst, size = max(worst, cpu_ms(pids) - before), len(data)
                rows.append((worst, status, size, f"{method} {path} [{label}, {len(body or b''):,} B]"))
    rows.sort(reverse=True)
    print(f"\n{'cpu ms':>7}  {'status':>6}  {'answer B':>9}  request")
    for cpu, status, size, what in rows:
        mark = "  OVER" if cpu > TARGET_MS else ""
        print(f"{cpu:7.1f}  {status:>6}  {size:9,}  {what}{mark}")
    errors = [r for r in rows if r[1] >= 500]
    print(f"\n{len(rows)} requests; worst {rows[0][0]:.1f} ms CPU ({rows[0][3]}); "
          f"{sum(r[0] > TARGET_MS for r in rows)} over {TARGET_MS:.0f} ms; {len(errors)} answered 5xx. "
          f"CPU is counted in clock ticks of {1000 / TICKS:.0f} ms.")


def uploads(client: Client, tokens: dict[str, str]) -> list[tuple[str, str, str, str, bytes, str]]:
    """The largest multipart upload (refused: not a known file type) and the largest diagram."""
    staff = tokens["canbo.hiennam"]
    nomination = client.json("POST", "/api/v1/nominations", staff, {"unit_id": "phuong-hien-nam", "data": {}})["id"]
    boundary = uuid.uuid4().hex
    file = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + b"\0" * (20 * 1024 * 1024) \
        + f"\r\n--{boundary}--\r\n".encode()
    bpmn = (ROOT / "bpmn" / "nomination.bpmn").read_bytes() if (ROOT / "bpmn" / "nomination.bpmn").exists() else b""
    padded = bpmn.replace(b"</bpmn:definitions>", b"<!--" + b"x" * (1_900_000 - len(bpmn)) + b"-->"
                          b"</bpmn:definitions>") if bpmn else b"<x/>"
    return [
        ("POST", f"/api/v1/nominations/{nomination}/attachments", "canbo.hiennam", "20 MB upload, refused type",
         file, f"multipart/form-data; boundary={boundary}"),
        ("POST", "/api/v1/admin/processes/validate", "quantri", "1.9 MB diagram (admin)", padded,
         "application/xml"),
        ("POST", "/api/v1/admin/processes/validate", "canbo.hiennam", "1.9 MB diagram (not admin)", padded,
         "application/xml"),
    ]


if __name__ == "__main__":
    main()
