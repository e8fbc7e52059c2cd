"""How long `nomflow backup` and `nomflow restore` take for N nominations.

Run: .venv/bin/python bench/backup.py [--nominations N] [--backends sqlite,postgresql] [--file-kb K]

For each database: `init-db` + the demo organisation, a few real nominations driven by the use
cases (draft, dossier file, submission, the unit head's decision: real process state, audit rows
and a mail each), then bulk copies of those rows up to N nominations, each with a dossier file of
its own (K KB, default 8; real dossiers are larger, and their copy time grows with their bytes, so
the table shows the database's share of each time in brackets). Then the backup and a restore into
a fresh instance folder (and a fresh PostgreSQL database) are timed, in process, by the same
functions the commands call.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from sqlalchemy import insert, select, text  # noqa: E402

from service.core.config import ServiceConfig  # noqa: E402
from service.core.runtime import Runtime  # noqa: E402
from service.db.models import Attachment, AuditEvent, InboxRow, InstanceRow, Nomination, OutboxMail, User  # noqa: E402
from service.ops.backup import backup, restore  # noqa: E402
from service.security.access import Actor  # noqa: E402
from service.usecases.accounts import actor_for_user  # noqa: E402
from service.usecases.nominations import add_attachment, create_draft, submit  # noqa: E402
from service.usecases.setup import init_db, seed_demo  # noqa: E402
from service.usecases.tasks import complete_task  # noqa: E402

REAL = 4  # nominations driven through the use cases; the rest are copies of their rows
CHUNK = 2000


def columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def actor(runtime: Runtime, username: str) -> Actor:
    with runtime.read() as uow:
        user_id = uow.session.scalars(select(User.id).where(User.username == username)).one()
    found = actor_for_user(runtime, user_id)
    assert found is not None
    return found[0]


def drive_real(runtime: Runtime) -> list[str]:
    from tests.workflows.conftest import draft_data

    staff, head = actor(runtime, "canbo.hiennam"), actor(runtime, "chutich.hiennam")
    ids = []
    for i in range(REAL):
        nomination_id = create_draft(runtime, staff, "phuong-hien-nam", draft_data(award="giay_khen"))
        add_attachment(runtime, staff, nomination_id, "to-trinh.pdf", b"%PDF-1.7\n" + str(i).encode() * 100)
        submit(runtime, staff, nomination_id)
        with runtime.read() as uow:
            task = uow.session.scalars(select(InboxRow.id).where(InboxRow.nomination_id == nomination_id)).one()
        complete_task(runtime, head, task, {"decision": "submit", "submission_number": "12/TTr-UBND"})
        ids.append(nomination_id)
    return ids


def pad(runtime: Runtime, model_id: str, total: int, file_kb: int) -> None:
    """Copies of one real nomination's rows (instance state, audit trail, mail, file row) up to `total`."""
    with runtime.read() as uow:
        s = uow.session
        nomination = s.get(Nomination, model_id)
        assert nomination is not None and nomination.instance_id
        model = {
            "instance": columns(s.get(InstanceRow, nomination.instance_id)),
            "nomination": columns(nomination),
            "audit": [columns(a) for a in s.scalars(select(AuditEvent).where(AuditEvent.nomination_id == model_id))],
            "attachment": columns(s.scalars(select(Attachment).where(Attachment.nomination_id == model_id)).first()),
            "mail": columns(s.scalars(select(OutboxMail)).first()),
        }
        done = s.scalar(select(text("count(*)")).select_from(Nomination))
    folder = runtime.config.attachments_path
    filler = b"x" * (file_kb * 1024)
    for start in range(done, total, CHUNK):
        batch = range(start, min(total, start + CHUNK))
        instances, nominations, audits, files, mails = [], [], [], [], []
        for i in batch:
            instance_id, nomination_id = str(uuid.uuid4()), f"DNPAD{i:09d}"
            instances.append({**model["instance"], "id": instance_id})
            nominations.append({**model["nomination"], "id": nomination_id, "instance_id": instance_id})
            audits += [{**{k: v for k, v in a.items() if k != "id"}, "nomination_id": nomination_id,
                        "instance_id": instance_id} for a in model["audit"]]
            content = b"%PDF-1.7\n" + nomination_id.encode() + filler
            sha = hashlib.sha256(content).hexdigest()
            (folder / sha[:2]).mkdir(parents=True, exist_ok=True)
            (folder / sha[:2] / sha).write_bytes(content)
            files.append({**{k: v for k, v in model["attachment"].items() if k != "id"},
                          "nomination_id": nomination_id, "sha256": sha, "size": len(content)})
            mails.append({**{k: v for k, v in model["mail"].items() if k != "id"}, "message_id": f"<{uuid.uuid4()}@b>"})
        with runtime.uow() as uow:
            for table, rows in ((InstanceRow, instances), (Nomination, nominations), (AuditEvent, audits),
                                (Attachment, files), (OutboxMail, mails)):
                uow.session.execute(insert(table), rows)
            uow.commit()


def run(backend: str, url: str, restored_url: str, workdir: Path, count: int, file_kb: int) -> list[Any]:
    config = ServiceConfig(instance_dir=workdir / "instance", database_url=url, secret_key="bench",
                           scheduler_in_process=False, attachments_reserve_mb=0).with_secret()
    runtime = Runtime(config)
    init_db(runtime)
    seed_demo(runtime, "bench-password-1")
    started = time.perf_counter()
    ids = drive_real(runtime)
    pad(runtime, ids[0], count, file_kb)
    fill = time.perf_counter() - started
    done = backup(runtime, workdir / "backup")
    runtime.db.dispose()
    target = Runtime(ServiceConfig(instance_dir=workdir / "restored", database_url=restored_url,
                                   secret_key="other", scheduler_in_process=False))
    back = restore(target, workdir / "backup")
    target.db.dispose()
    files = done.manifest["files"]
    db_mb = sum(f["size"] for name, f in files.items() if name.startswith("database")) / 2**20
    att_mb = sum(f["size"] for name, f in files.items() if name.startswith("attachments/")) / 2**20
    counts = done.manifest["counts"]
    return [backend, counts["nomination"], counts["audit_event"], f"{db_mb:.1f}", f"{att_mb:.1f}",
            f"{fill:.1f}", f"{done.seconds:.1f} ({done.database_seconds:.1f})",
            f"{back.seconds:.1f} ({back.database_seconds:.1f})"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nominations", type=int, default=1000, help="100000 for the README's figure")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--file-kb", type=int, default=8)
    args = parser.parse_args()
    print(f"nomflow backup benchmark: Python {platform.python_version()}, {platform.platform()}, "
          f"cpus={os.cpu_count()}, {args.nominations} nominations, one {args.file_kb} KB file each")
    rows = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix=f"nomflow-backup-{backend}-") as tmp:
            workdir = Path(tmp)
            if backend == "sqlite":
                rows.append(run(backend, f"sqlite:///{workdir / 'nomflow.sqlite3'}",
                                f"sqlite:///{workdir / 'restored.sqlite3'}", workdir, args.nominations, args.file_kb))
                continue
            from tests.support.postgres import PostgresServer

            pg = PostgresServer.start()
            try:
                rows.append(run(backend, pg.create_database(pg.new_name("bench")),
                                pg.create_database(pg.new_name("restored")), workdir, args.nominations, args.file_kb))
            finally:
                pg.stop()
    headers = ["backend", "nominations", "audit rows", "db MB", "files MB", "fill s", "backup s (db)",
               "restore s (db)"]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    print()
    for row in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                                 strict=True))))


if __name__ == "__main__":
    main()
