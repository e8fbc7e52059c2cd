"""What a dossier file must be before it is stored: a clean name, and content of the type its name says.

A file is stored under its sha256 and served back, under the name the uploader gave it, to
reviewers in other departments. So the name may not carry anything that breaks a header or fools
the eye (line breaks, NUL, right-to-left overrides: "invoice\u202efdp.exe" reads as "invoiceexe.pdf"),
and the content must be what the extension claims: a PDF named .html is a script on our origin
for any browser that renders it, and "any zip" is not a Word document.

The allowed types are few and have fixed signatures, so detection is the signature table below plus
the Office Open XML structure (read with zipfile, bounded: a few kilobytes can declare gigabytes).

Accepted files are kept under their sha256 in the attachments folder (apart from the database) by
one function for every path that accepts an upload (the API's upload and the draft page), so each
gets the same space checks and the same clean-up.
"""

from __future__ import annotations

import hashlib
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path, PurePosixPath

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from service.core import filestore
from service.core.errors import InsufficientStorage, InvalidInput
from service.core.media_types import DOCX, JPEG, PDF, PNG, XLSX, ZIP
from service.core.runtime import Runtime
from service.db.models import Attachment
from service.usecases.audit import audit

SIGNATURES = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"PK\x03\x04", ZIP))
EXTENSIONS = {".pdf": PDF, ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".docx": DOCX, ".xlsx": XLSX}
TYPE_NAMES = {PDF: "PDF", PNG: "PNG", JPEG: "JPEG", DOCX: "DOCX", XLSX: "XLSX", ZIP: "ZIP"}
OFFICE_MAIN_PART = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml"}
# Unicode categories a file name may not hold: controls (NUL, CR, LF...), format characters (the
# bidi overrides and isolates U+202A-202E, U+2066-2069, zero-width joiners), surrogates, private use,
# and the line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
# A Word or Excel dossier is text and a few pictures: far below these. A zip bomb is not.
MAX_ZIP_ENTRIES = 2000
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
# Macro projects, ActiveX controls and their content types: an Office file with any of them is refused.
MACRO_MARKERS = ("vbaproject", "vbadata", "macroenabled", "activex", "ms-office.vbaproject")
# Stores of files queue on this (PostgreSQL; SQLite's BEGIN IMMEDIATE already does): the space and
# quota checks then see every file written before, and a failed store can take back what it wrote.
STORE_LOCK = 0x6E6F6D66  # "nomf"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    content_type: str
    size: int
    filename: str  # as stored and shown: NFC, without any folder part


@dataclass(frozen=True)
class NewFile:
    checked: StoredFile
    content: bytes
    slot: str | None = None  # the dossier field it fills, when uploaded through the draft page


def check_upload(filename: str, content: bytes, limit: int) -> StoredFile:
    """The file as it will be stored, or InvalidInput saying what is wrong with it."""
    name = clean_filename(filename)
    if not content:
        raise InvalidInput("Tệp rỗng")
    if len(content) > limit:
        raise InvalidInput(f"Tệp quá lớn: tối đa {limit // (1024 * 1024)} MB")
    claimed = EXTENSIONS.get(PurePosixPath(name).suffix.lower())
    if claimed is None:
        raise InvalidInput("Chỉ nhận tệp PDF, DOCX, XLSX hoặc ảnh PNG/JPEG")
    detected = next((kind for magic, kind in SIGNATURES if content.startswith(magic)), None)
    if detected == ZIP and claimed in OFFICE_MAIN_PART:
        detected = _office_type(content)
    if detected != claimed:
        found = TYPE_NAMES.get(detected or "", "không nhận ra")
        raise InvalidInput(f"Nội dung tệp không khớp với phần mở rộng: tên là {TYPE_NAMES[claimed]}, "
                           f"nội dung là {found}")
    return StoredFile(hashlib.sha256(content).hexdigest(), claimed, len(content), name)


def clean_filename(filename: str) -> str:
    """The name without a folder (old browsers send C:\\...\\a.pdf), in NFC (macOS sends NFD
    Vietnamese); refused when it holds a control, format or bidi character."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if any(unicodedata.category(ch) in REFUSED_CATEGORIES for ch in name):
        raise InvalidInput("Tên tệp chứa ký tự điều khiển hoặc ký tự đổi chiều văn bản; hãy đổi tên tệp")
    if not name or len(name) > 255:
        raise InvalidInput("Tên tệp cần 1–255 ký tự")
    return name


def safe_download_name(filename: str) -> str:
    """A stored name made fit for a Content-Disposition header, whatever older versions stored:
    every refused character becomes "_", so a bad row downloads instead of answering 500."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join("_" if unicodedata.category(ch) in REFUSED_CATEGORIES else ch for ch in name).strip()
    return name or "tep"


def _office_type(content: bytes) -> str | None:
    """DOCX or XLSX when the zip is one (its [Content_Types].xml and main part are there, no macro,
    no bomb); None when it is some other zip."""
    try:
        with zipfile.ZipFile(BytesIO(content)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise _bad("quá nhiều thành phần")
            unpacked = sum(e.file_size for e in entries)
            packed = max(sum(e.compress_size for e in entries), 1)
            if unpacked > MAX_UNCOMPRESSED_BYTES or unpacked > MAX_COMPRESSION_RATIO * packed:
                raise _bad("dung lượng khi giải nén bất thường")
            names = {e.filename for e in entries}
            kinds = [kind for kind, part in OFFICE_MAIN_PART.items() if part in names]
            if "[Content_Types].xml" not in names or len(kinds) != 1:
                return None
            types = archive.getinfo("[Content_Types].xml")
            if types.file_size > MAX_CONTENT_TYPES_BYTES:
                raise _bad("[Content_Types].xml quá lớn")
            declared = archive.read(types).decode("utf-8", "replace").lower()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, ValueError,
            OSError) as exc:
        raise _bad("tệp nén bị hỏng hoặc được mã hóa") from exc
    parts = " ".join(name.lower() for name in names)
    if any(marker in declared or marker in parts for marker in MACRO_MARKERS):
        raise InvalidInput("Không nhận tệp Office có macro hoặc điều khiển ActiveX; hãy lưu lại dạng .docx/.xlsx "
                           "thông thường")
    return kinds[0]


def _bad(reason: str) -> InvalidInput:
    return InvalidInput(f"Tệp DOCX/XLSX không hợp lệ: {reason}")


def attachment_path(runtime: Runtime, sha256: str) -> Path:
    return runtime.config.attachments_path / sha256[:2] / sha256


def check_file(runtime: Runtime, filename: str, content: bytes) -> StoredFile:
    return check_upload(filename, content, runtime.config.max_attachment_bytes)


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
    filestore.ensure_room(config, incoming)
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
        Attachment.filename == stored.filename)).first()
    if known is not None:
        return
    session.add(Attachment(nomination_id=nomination_id, sha256=stored.sha256, filename=stored.filename,
                           content_type=stored.content_type, size=stored.size, uploaded_by=actor_id,
                           uploaded_at=now))
    slot = {"slot": file.slot} if file.slot else {}
    audit(session, runtime, "attachment_added", actor_id=actor_id, nomination_id=nomination_id,
          filename=stored.filename, sha256=stored.sha256, size=stored.size, **slot)


def save_blob(runtime: Runtime, stored: StoredFile, content: bytes) -> None:
    """A checked file that is not a dossier attachment (a unit's signed report) under its hash, with
    the same reserve check; the caller's row names it."""
    path = attachment_path(runtime, stored.sha256)
    if not path.exists():
        filestore.ensure_room(runtime.config, stored.size)
        filestore.write_blob(path, content)
