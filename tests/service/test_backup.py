"""`nomflow backup` / `nomflow restore` as real processes (issue 13, point 10), on SQLite and PostgreSQL.

The backup runs while a thread keeps writing nominations, their files, audit rows and mails. The
restore goes into a fresh instance folder (and a fresh PostgreSQL database). Because one thread
writes, the restored history must be exactly a prefix of the source's: every row up to the
snapshot, each file with its hash, nothing half-written, and everything committed before the backup
started.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from service.core.config import ServiceConfig
from service.core.runtime import Runtime
from service.db.models import Attachment, AuditEvent, InboxRow, Nomination, OutboxMail
from service.usecases.nominations import add_attachment, create_draft, save_draft, submit
from service.usecases.tasks import complete_task
from tests.workflows.conftest import draft_data

from .helpers import HEAD, HIEN_NAM, STAFF, actor

NOMFLOW = str(Path(sys.executable).parent / "nomflow")


def nomflow(*args: str, instance: Path, database_url: str | None, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "NOMFLOW_INSTANCE_DIR": str(instance), "NOMFLOW_SCHEDULER": "0"}
    env.pop("NOMFLOW_SECRET_KEY", None)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    done = subprocess.run([NOMFLOW, *args], env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


class Writer(threading.Thread):
    """Nominations for a Giấy khen with a file each, a saved draft, a submission and the unit head's
    decision (which mails the unit)."""

    def __init__(self, config: ServiceConfig, clock: Any):
        super().__init__(daemon=True)
        self.runtime = Runtime(config, clock=clock)
        self.stop = threading.Event()
        self.written = 0
        self.error: BaseException | None = None

    def one(self) -> None:
        staff, head = actor(self.runtime, STAFF), actor(self.runtime, HEAD)
        nomination_id = create_draft(self.runtime, staff, HIEN_NAM, draft_data(award="giay_khen"))
        content = b"%PDF-1.7\n" + f"{nomination_id} {self.written}".encode() * 300
        add_attachment(self.runtime, staff, nomination_id, "to-trinh.pdf", content)
        save_draft(self.runtime, staff, nomination_id, {"achievement_summary": f"Bản {self.written} " * 5})
        submit(self.runtime, staff, nomination_id)
        with self.runtime.read() as uow:
            task_uuid = uow.session.scalars(select(InboxRow.id).where(
                InboxRow.nomination_id == nomination_id, InboxRow.task_id == "unit_head_review")).one()
        complete_task(self.runtime, head, task_uuid, {"decision": "submit", "submission_number": "12/TTr-UBND"})
        self.written += 1

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.one()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.runtime.db.dispose()


COMPARED = {
    "nomination": (Nomination.id, Nomination.status, Nomination.data, Nomination.instance_id),
    "audit": (AuditEvent.id, AuditEvent.kind, AuditEvent.nomination_id, AuditEvent.detail),
    "outbox": (OutboxMail.id, OutboxMail.message_id, OutboxMail.subject, OutboxMail.status),
    "attachment": (Attachment.id, Attachment.nomination_id, Attachment.sha256, Attachment.size),
}


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Each compared table's rows in id order, JSON columns as canonical text (comparable, hashable)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {table: [tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in row)
                            for row in conn.execute(select(*columns).order_by(columns[0]))]
                    for table, columns in COMPARED.items()}
    finally:
        engine.dispose()


def restored_url(request: pytest.FixtureRequest, database_url: str, instance: Path) -> str | None:
    if database_url.startswith("sqlite"):
        return None  # the default: instance/nomflow.sqlite3
    server = request.getfixturevalue("postgres_server")
    name = server.new_name("restored")
    url = server.create_database(name)
    request.addfinalizer(lambda: server.drop_later(name))
    return str(url)


def test_backup_under_load_restores_everything_committed(app, clock, tmp_path, database_url, request):
    config = app.extensions["nomflow"].config
    writer = Writer(config, clock)
    for _ in range(3):
        writer.one()
    before = rows(database_url)
    writer.start()
    backup_dir = tmp_path / "backup"
    try:
        nomflow("backup", str(backup_dir), instance=config.instance_dir, database_url=database_url)
        written_during = writer.written
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    source = rows(database_url)
    manifest = json.loads((backup_dir / "manifest.json").read_text())

    instance = tmp_path / "restored"
    url = restored_url(request, database_url, instance)
    done = nomflow("restore", str(backup_dir), instance=instance, database_url=url)
    assert "Đã khôi phục" in done.stdout

    restored = rows(url or f"sqlite:///{instance / 'nomflow.sqlite3'}")
    assert len(source["nomination"]) > len(before["nomination"]) + 1 and written_during >= 1
    for table, kept in restored.items():
        assert set(before[table]) <= set(kept), f"{table}: rows committed before the backup are missing"
        if table != "nomination":  # rows only added: one writer makes the snapshot a prefix of them
            assert kept == source[table][:len(kept)], f"{table}: not a prefix of the source"
    # A nomination's row changes; it must be as the source left it if its last event is in the copy.
    last_event = {row[2]: row[0] for row in source["audit"]}
    copied_up_to = restored["audit"][-1][0]
    by_id = {row[0]: row for row in source["nomination"]}
    for row in restored["nomination"]:
        if last_event[row[0]] <= copied_up_to:
            assert row == by_id[row[0]]
    assert manifest["counts"]["nomination"] == len(restored["nomination"])
    assert manifest["counts"]["audit_event"] == len(restored["audit"])
    assert manifest["counts"]["outbox_mail"] == len(restored["outbox"]) > 0
    restored_ids = {n[0] for n in restored["nomination"]}
    assert {a[1] for a in restored["attachment"]} <= restored_ids  # no file row without its nomination
    for _, _, sha256, size in restored["attachment"]:
        content = (instance / "attachments" / sha256[:2] / sha256).read_bytes()
        assert (hashlib.sha256(content).hexdigest(), len(content)) == (sha256, size)
    # The key the running instance signs sessions with (made on its first start) comes back with it.
    assert (instance / "secret_key").read_text() == (config.instance_dir / "secret_key").read_text()
    assert not list(instance.rglob("*.part"))
    # The restored instance is a working one: its schema is current and it serves its data.
    check = nomflow("init-db", instance=instance, database_url=url)
    assert "sẵn sàng" in check.stdout


def test_restore_refuses_a_target_with_data_unless_forced_and_a_changed_backup(app, tmp_path, database_url):
    config = app.extensions["nomflow"].config
    runtime = app.extensions["nomflow"]
    staff = actor(runtime, STAFF)
    nomination_id = create_draft(runtime, staff, HIEN_NAM, draft_data())
    add_attachment(runtime, staff, nomination_id, "a.pdf", b"%PDF-1.7\nabc")
    backup_dir = tmp_path / "backup"
    nomflow("backup", str(backup_dir), instance=config.instance_dir, database_url=database_url)
    assert nomflow("backup", str(backup_dir), instance=config.instance_dir, database_url=database_url,
                   check=False).returncode != 0  # never into a folder holding something

    refused = nomflow("restore", str(backup_dir), instance=config.instance_dir, database_url=database_url,
                      check=False)
    assert refused.returncode != 0 and "--force" in refused.stderr
    with runtime.uow() as uow:  # a change after the backup, which the forced restore must undo
        uow.session.execute(text("DELETE FROM attachment"))
        uow.commit()
    runtime.db.dispose()
    nomflow("restore", "--force", str(backup_dir), instance=config.instance_dir, database_url=database_url)
    assert [a[1] for a in rows(database_url)["attachment"]] == [nomination_id]

    [blob] = [p for p in (backup_dir / "attachments").rglob("*") if p.is_file()]
    blob.write_bytes(blob.read_bytes() + b"x")
    changed = nomflow("restore", "--force", str(backup_dir), instance=tmp_path / "other", database_url=database_url,
                      check=False)
    assert changed.returncode != 0 and "đã thay đổi" in changed.stderr
