"""Dossier files of a nomination: checked by their bytes, kept under their sha256 in the attachments
folder (apart from the database), and stored by one function for every path that accepts an upload
(the API's upload and the draft page), so each gets the same space checks and the same clean-up."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from service.core import filestore
from service.core.errors import InsufficientStorage, InvalidInput
from service.core.runtime import Runtime
from service.db.models import Attachment
from service.usecases.audit import audit

ALLOWED_TYPES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"PK\x03\x04": ("application/zip", ".docx/.xlsx"),  # Office Open XML files are zip archives
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
}
OFFICE_SUFFIXES = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                   ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# Stores of files queue on this (PostgreSQL; SQLite's BEGIN IMMEDIATE already does): the space and
# quota checks then see every file written before, and a failed store can take back what it wrote.
STORE_LOCK = 0x6E6F6D66  # "nomf"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    content_type: str
    size: int


@dataclass(frozen=True)
class NewFile:
    filename: str
    checked: StoredFile
    content: bytes
    slot: str | None = None  # the dossier field it fills, when uploaded through the draft page


def attachment_path(runtime: Runtime, sha256: str) -> Path:
    return runtime.config.attachments_path / sha256[:2] / sha256


def check_file(runtime: Runtime, filename: str, content: bytes) -> StoredFile:
    limit = runtime.config.max_attachment_bytes
    if not filename.strip() or len(filename) > 255:
        raise InvalidInput("Tên tệp cần 1–255 ký tự (file name length)")
    if not content:
        raise InvalidInput("Tệp rỗng (empty file)")
    if len(content) > limit:
        raise InvalidInput(f"Tệp quá lớn: tối đa {limit // (1024 * 1024)} MB (file too large)")
    suffix = Path(filename).suffix.lower()
    for magic, (content_type, _) in ALLOWED_TYPES.items():
        if content.startswith(magic):
            if content_type == "application/zip":
                if suffix not in OFFICE_SUFFIXES:
                    break
                content_type = OFFICE_SUFFIXES[suffix]
            return StoredFile(hashlib.sha256(content).hexdigest(), content_type, len(content))
    raise InvalidInput("Chỉ nhận tệp PDF, DOCX, XLSX hoặc ảnh PNG/JPEG (file type not allowed)")


def store_files(session: Session, runtime: Runtime, actor_id: int, nomination_id: str,
                files: Sequence[NewFile], now: datetime) -> None:
    """Write the files not on disk yet, then their rows and audit events, in the caller's transaction.

    Refused with 507 before any byte is written when the files would pass the quota or leave less than
    the reserve free. Files this call created are removed again if a later one fails, so a refused
    request keeps no space (a file already there belongs to someone else and stays).
    """
    if not files:
        return
    if not runtime.db.is_sqlite:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORE_LOCK})
    config = runtime.config
    new = {f.checked.sha256: f.checked.size for f in files
           if not attachment_path(runtime, f.checked.sha256).exists()}
    incoming = sum(new.values())
    quota = config.attachments_quota_mb * filestore.MB
    if quota and incoming and _stored_bytes(session) + incoming > quota:
        raise InsufficientStorage(filestore.quota_full(config.attachments_quota_mb))
    filestore.ensure_room(config.attachments_path, incoming, config.attachments_reserve_mb)
    created: list[Path] = []
    try:
        for file in files:
            path = attachment_path(runtime, file.checked.sha256)
            if filestore.write_blob(path, file.content):
                created.append(path)
    except BaseException:
        filestore.remove_blobs(created)
        raise
    for file in files:
        _record(session, runtime, actor_id, nomination_id, file, now)


def _stored_bytes(session: Session) -> int:
    """Bytes of the distinct files the rows name (a file attached twice is stored once)."""
    per_file = select(Attachment.sha256, func.max(Attachment.size).label("size")).group_by(Attachment.sha256)
    total = session.scalar(select(func.coalesce(func.sum(per_file.subquery().c.size), 0)))
    return int(total or 0)


def _record(session: Session, runtime: Runtime, actor_id: int, nomination_id: str, file: NewFile,
            now: datetime) -> None:
    stored = file.checked
    known = session.scalars(select(Attachment.id).where(
        Attachment.nomination_id == nomination_id, Attachment.sha256 == stored.sha256,
        Attachment.filename == file.filename)).first()
    if known is not None:
        return
    session.add(Attachment(nomination_id=nomination_id, sha256=stored.sha256, filename=file.filename,
                           content_type=stored.content_type, size=stored.size, uploaded_by=actor_id,
                           uploaded_at=now))
    slot = {"slot": file.slot} if file.slot else {}
    audit(session, runtime, "attachment_added", actor_id=actor_id, nomination_id=nomination_id,
          filename=file.filename, sha256=stored.sha256, size=stored.size, **slot)
