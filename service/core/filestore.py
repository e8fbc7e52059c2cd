"""Content-addressed files on disk (the dossiers): written whole or not at all, never left half
written, and refused up front when the disk would fill.

A file lives under its sha256, so a name always holds complete, checked bytes: it is written to a
`.part` file beside it and renamed into place. Whatever goes wrong while writing (ENOSPC, a quota,
an I/O error), the `.part` is removed before the error goes on, so a failure never keeps its space.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from service.core.errors import InsufficientStorage

MB = 1024 * 1024
OUT_OF_SPACE = {errno.ENOSPC, errno.EDQUOT}
PG_DISK_FULL = "53100"  # SQLSTATE disk_full
EARLY_CHECK_BYTES = MB
# Room for SQLite's WAL: it grows to about 4 MB (its default checkpoint point, 1000 pages of 4 KB)
# before a checkpoint starts it over; twice that, since a commit may overshoot it and a reader may
# hold a checkpoint back.
WAL_ALLOWANCE = 8 * MB

DISK_FULL = ("Máy chủ không còn đủ chỗ trống để lưu tệp này nên tệp chưa được lưu. "
             "Vui lòng báo quản trị hệ thống giải phóng dung lượng rồi thử lại.")
DATABASE_FULL = ("Máy chủ không còn đủ chỗ trống để ghi dữ liệu nên thay đổi chưa được lưu. "
                 "Vui lòng báo quản trị hệ thống giải phóng dung lượng rồi thử lại.")


def quota_full(quota_mb: int) -> str:
    return (f"Kho tệp hồ sơ đã dùng hết hạn mức {quota_mb} MB nên tệp chưa được lưu. "
            "Vui lòng báo quản trị hệ thống.")


def is_out_of_space(exc: BaseException | None) -> bool:
    """Whether an error (or what caused it: a DBAPI error wraps the driver's) means the disk is full."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError) and exc.errno in OUT_OF_SPACE:
            return True
        if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        if getattr(exc, "sqlstate", None) == PG_DISK_FULL:  # psycopg.errors.DiskFull
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__
        seen += 1
    return False


def free_bytes(directory: Path) -> int:
    """Space an unprivileged writer may still use on the disk holding `directory` (made or not yet)."""
    return shutil.disk_usage(_existing(directory)).free


def _existing(directory: Path) -> Path:
    """The directory, or its nearest ancestor that exists (on the disk it will be made on)."""
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return directory


def ensure_room(config: Any, incoming: int) -> None:
    """Refuse (507) before writing when `incoming` bytes would leave less than the reserve free."""
    if incoming > 0 and free_bytes(config.attachments_path) - incoming < reserve_bytes(config):
        raise InsufficientStorage(DISK_FULL)


def reserve_bytes(config: Any) -> int:
    """What uploads must leave free on the attachments' disk: the configured reserve, plus, when an
    SQLite database lives on that same disk (the default layout), the database's own size and room
    for its WAL. The database can then always grow to twice its size (a VACUUM, the rows of many more
    nominations) and fill its WAL whatever the uploads take: files never get the database's last
    bytes, and a reserve fixed in MB would shrink to nothing as the database grows."""
    reserve = config.attachments_reserve_mb * MB
    database = _sqlite_file(config.db_url)
    if database is None or not database.exists():
        return reserve
    if _device(database.parent) != _device(config.attachments_path):
        return reserve  # the files cannot take the database's space (NOMFLOW_ATTACHMENTS_DIR elsewhere)
    wal = database.with_name(database.name + "-wal")
    return reserve + database.stat().st_size + max(WAL_ALLOWANCE, wal.stat().st_size if wal.exists() else 0)


def _sqlite_file(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    from sqlalchemy import make_url

    path = make_url(url).database
    return Path(path) if path and path != ":memory:" and not path.startswith("file:") else None


def _device(directory: Path) -> int:
    return _existing(directory).stat().st_dev


def write_blob(path: Path, content: bytes) -> bool:
    """Write `content` to `path` unless it is there already; True when this call created it."""
    if path.exists():
        return False
    # A name of its own per writer: two requests storing the same file must not share a `.part`.
    partial = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())  # the row that names it commits next: the bytes must be on disk first
        partial.replace(path)
    except BaseException as exc:
        partial.unlink(missing_ok=True)
        if is_out_of_space(exc):
            raise InsufficientStorage(DISK_FULL) from exc
        raise
    return True


def remove_blobs(paths: list[Path]) -> None:
    """Take back files this request created when the request fails after writing them."""
    for path in paths:
        path.unlink(missing_ok=True)


def refuse_large_uploads_without_room(app: Any) -> None:
    """A large multipart body is refused (507) from its Content-Length, before it is read at all:
    the 20 MB would otherwise be received, spooled and checked only to be turned away."""
    from flask import request

    def check() -> None:
        length = request.content_length or 0
        if length >= EARLY_CHECK_BYTES and request.mimetype == "multipart/form-data":
            ensure_room(app.extensions["nomflow"].config, length)

    app.before_request(check)
