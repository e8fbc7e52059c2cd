"""`nomflow backup DIR` / `nomflow restore DIR`: the database, the dossier files and the secret key,
taken together and consistently while the service runs, and put back only when every byte checks.

Consistency comes from one database snapshot: SQLite's online backup API copies the database in a
single read transaction (WAL readers never block writers, and the copy holds what the WAL held,
which a file copy would miss); PostgreSQL's `pg_dump` runs on a snapshot exported from a repeatable
read transaction, and the list of files is read in that same transaction. Only the files that
snapshot names are copied: each was written and synced before its row committed, and files are
never changed in place (their name is their sha256), so none can be missing or half written.
Each copied file is hashed on the way and must match its name.

A backup folder holds `manifest.json` (format, versions, time, row counts, sha256 and size of every
file), `database.sqlite3` or `database.pgdump`, `secret_key` and `attachments/ab/<sha256>`. The
manifest is written last: a folder without one is an unfinished backup.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, make_url

from service.core.runtime import Runtime

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
SECRET_FILE = "secret_key"
COUNTED = ("nomination", "attachment", "audit_event", "outbox_mail", "process_instance", "user_account")
PG_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in Vietnamese."""


@dataclass(frozen=True)
class Done:
    manifest: dict[str, Any]
    seconds: float
    database_seconds: float  # the database's part of `seconds`; the rest is mostly the files


def backup(runtime: Runtime, target: Path) -> Done:
    started = time.perf_counter()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"Thư mục sao lưu {target} không trống: hãy chọn một thư mục mới")
    target.mkdir(parents=True, exist_ok=True)
    with _snapshot(runtime, target) as (db_file, facts):
        database_seconds = time.perf_counter() - started
        files = {db_file.name: _digest(db_file)}
        for sha256 in facts.pop("sha256s"):
            rel = f"attachments/{sha256[:2]}/{sha256}"
            files[rel] = _copy_checked(runtime.config.attachments_path / sha256[:2] / sha256, target / rel, sha256)
    secret = target / SECRET_FILE
    secret.write_text(runtime.config.secret_key)
    secret.chmod(0o600)
    files[SECRET_FILE] = _digest(secret)
    manifest = {"format": FORMAT, "nomflow": _version(), "created_at": runtime.clock.now().isoformat(),
                "backend": "sqlite" if runtime.db.is_sqlite else "postgresql", **facts, "files": files}
    partial = target / f"{MANIFEST}.part"
    partial.write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    partial.replace(target / MANIFEST)
    return Done(manifest, time.perf_counter() - started, database_seconds)


def restore(runtime: Runtime, source: Path, force: bool = False) -> Done:
    started = time.perf_counter()
    manifest = verify(source)
    backend = "sqlite" if runtime.db.is_sqlite else "postgresql"
    if manifest["backend"] != backend:
        raise BackupError(f"Bản sao lưu là của {manifest['backend']}, còn nơi khôi phục dùng {backend}")
    attachments = runtime.config.attachments_path
    if not force:
        if _has_tables(runtime):
            raise BackupError("Cơ sở dữ liệu đích đã có dữ liệu: dùng --force để ghi đè")
        if attachments.exists() and any(p.is_file() for p in attachments.rglob("*")):
            raise BackupError(f"Thư mục tệp đính kèm {attachments} đã có tệp: dùng --force để ghi đè")
    runtime.db.dispose()
    database_started = time.perf_counter()
    if runtime.db.is_sqlite:
        _restore_sqlite(source / SQLITE_FILE, Path(str(runtime.db.engine.url.database)))
    else:
        _pg_run("pg_restore", ["--clean", "--if-exists", "--single-transaction", "--no-owner", "--no-privileges",
                               "--exit-on-error"], runtime.db.url, source / PG_FILE)
    database_seconds = time.perf_counter() - database_started
    for rel, expected in manifest["files"].items():
        if rel.startswith("attachments/"):
            _copy_checked(source / rel, attachments / rel.removeprefix("attachments/"), expected["sha256"])
    instance = runtime.config.instance_dir
    instance.mkdir(parents=True, exist_ok=True)
    key = instance / SECRET_FILE
    partial = instance / f"{SECRET_FILE}.part"
    partial.write_bytes((source / SECRET_FILE).read_bytes())
    partial.chmod(0o600)
    partial.replace(key)
    return Done(manifest, time.perf_counter() - started, database_seconds)


def verify(source: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is there with its size and sha256 (else BackupError)."""
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"Không đọc được {source / MANIFEST}: bản sao lưu chưa xong hoặc bị hỏng") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Định dạng sao lưu {manifest.get('format')} không được hỗ trợ (cần {FORMAT})")
    for rel, expected in manifest["files"].items():
        path = source / rel
        if not path.is_file() or _digest(path) != expected:
            raise BackupError(f"Tệp {rel} trong bản sao lưu bị thiếu hoặc đã thay đổi: không khôi phục")
    return manifest


# --- the database snapshot --------------------------------------------------------------------------

@contextmanager
def _snapshot(runtime: Runtime, target: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The database copied into `target`, with facts read from that very copy: the schema revision,
    row counts and the sha256 of every file its rows name. Open while the files are copied."""
    if runtime.db.is_sqlite:
        copy = target / SQLITE_FILE
        source = sqlite3.connect(str(runtime.db.engine.url.database), timeout=30)
        destination = sqlite3.connect(copy, isolation_level=None)
        try:
            source.backup(destination)  # pages=-1: one step, one read transaction, one consistent copy
            destination.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            if destination.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError("Bản sao cơ sở dữ liệu không qua được kiểm tra toàn vẹn "
                                  "PRAGMA quick_check của SQLite")
            facts = _facts(lambda sql: destination.execute(sql).fetchall())
        finally:
            source.close()
            destination.close()
        yield copy, facts
        return
    copy = target / PG_FILE
    with runtime.db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        conn.execute(text("SET TRANSACTION READ ONLY"))
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        facts = _facts(lambda sql: _rows(conn, sql))
        _pg_run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                            f"--file={copy}"], runtime.db.url)
        yield copy, facts
        conn.rollback()


def _rows(conn: Connection, sql: str) -> list[Any]:
    return list(conn.execute(text(sql)).all())


def _facts(query: Any) -> dict[str, Any]:
    revision = query("SELECT version_num FROM alembic_version")
    counts = {table: int(query(f"SELECT count(*) FROM {table}")[0][0]) for table in COUNTED}
    sha256s = [row[0] for row in query("SELECT DISTINCT sha256 FROM attachment ORDER BY sha256")]
    return {"schema_revision": revision[0][0] if revision else None, "counts": counts, "sha256s": sha256s}


def _has_tables(runtime: Runtime) -> bool:
    with runtime.db.engine.connect() as conn:
        if runtime.db.is_sqlite:
            found = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")).scalar()
        else:
            found = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")).scalar()
        conn.rollback()
    return bool(found)


def _restore_sqlite(copy: Path, database: Path) -> None:
    """Through the backup API as well: the target's own WAL and locks are handled by SQLite."""
    database.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    destination = sqlite3.connect(database, isolation_level=None, timeout=30)
    try:
        source.backup(destination)
        destination.execute("PRAGMA journal_mode=WAL")
    finally:
        source.close()
        destination.close()


# --- PostgreSQL's client programs ----------------------------------------------------------------------

def pg_program(name: str) -> Path:
    """pg_dump / pg_restore of the newest PostgreSQL installed (a dump needs a client at least as new
    as the server): NOMFLOW_PG_BINDIR, then Debian's /usr/lib/postgresql/<major>/bin, then PATH."""
    candidates = [Path(os.environ["NOMFLOW_PG_BINDIR"])] if os.environ.get("NOMFLOW_PG_BINDIR") else []
    for pattern in PG_SEARCH:
        found = [Path(p) for p in glob.glob(pattern)]
        candidates += sorted(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    on_path = shutil.which(name)
    candidates += [Path(on_path).parent] if on_path else []
    for directory in candidates:
        if (directory / name).is_file():
            return directory / name
    raise BackupError(f"Không tìm thấy {name}: cài gói postgresql-client (apt-get install postgresql-client) "
                      "hoặc đặt NOMFLOW_PG_BINDIR")


def _pg_run(name: str, args: list[str], database_url: str, *rest: Path) -> None:
    url: URL = make_url(database_url)
    # The password goes through the environment, never the command line (visible to every user in ps).
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run([str(pg_program(name)), *args, f"--dbname={dsn}", *map(str, rest)], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{name} thất bại (mã {done.returncode}): {done.stderr.strip()[-2000:]}")


# --- files ---------------------------------------------------------------------------------------------

def _digest(path: Path) -> dict[str, Any]:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return {"sha256": sha.hexdigest(), "size": size}


def _copy_checked(source: Path, target: Path, sha256: str) -> dict[str, Any]:
    """Copy a content-addressed file, hashing it on the way: its bytes must still match its name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.part")
    sha, size = hashlib.sha256(), 0
    try:
        with source.open("rb") as reader, partial.open("wb") as writer:
            while chunk := reader.read(CHUNK):
                sha.update(chunk)
                size += len(chunk)
                writer.write(chunk)
        if sha.hexdigest() != sha256:
            raise BackupError(f"Tệp {source} không còn khớp mã sha256 của nó: tệp đã hỏng")
        partial.replace(target)
    except FileNotFoundError as exc:
        raise BackupError(f"Thiếu tệp đính kèm {source} mà cơ sở dữ liệu có ghi") from exc
    finally:
        partial.unlink(missing_ok=True)
    return {"sha256": sha256, "size": size}


def _version() -> str:
    try:
        return version("nomflow")
    except PackageNotFoundError:
        return "unknown"
