"""Hostile uploads: file names that break headers or fool the eye, content that is not what the
name says, Office files with macros, zip bombs; and how stored files are served back."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import quote

import pytest
from sqlalchemy import update

from service.db.models import Attachment

from .helpers import ADMIN, STAFF, assert_problem, create_nomination, detail
from .test_auth_pages import PASSWORD, login

PDF = b"%PDF-1.7\n" + b"x" * 200
PDF_HTML = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n"
PNG_SVG = b"\x89PNG\r\n\x1a\n" + b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
DOCX_TYPES = ('<Types><Override PartName="/word/document.xml" ContentType="application/'
              'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')


def zipped(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx(**extra: bytes | str) -> bytes:
    return zipped({"[Content_Types].xml": DOCX_TYPES, "word/document.xml": "<w:document/>", **extra})


def xlsx() -> bytes:
    return zipped({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})


def upload_named(client, auth, nomination_id: str, filename: str, content: bytes, user: str = STAFF):
    """A multipart upload whose name travels as RFC 2231 `filename*=`, as a hostile client sends it:
    any byte, CR, LF and NUL included, reaches the server."""
    head = (f"--B\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''{quote(filename, safe='')}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return client.post(f"/api/v1/nominations/{nomination_id}/attachments", headers=auth(user),
                       data=head + content + b"\r\n--B--\r\n", content_type="multipart/form-data; boundary=B")


@pytest.mark.parametrize("filename", [
    "to-trinh\x00.pdf", "to-trinh\r\n.pdf", "to\ntrinh.pdf", "bao-cao\t.pdf",
    "invoice\u202efdp.pdf",  # right-to-left override: shows as "invoicefdp.pdf" reversed
    "invoice\u202efdp.exe", "a\u2066b\u2069.pdf", "a\u200fb.pdf", "a\u2028b.pdf", "a\u200bb.pdf", "\x7f.pdf",
])
def test_names_with_control_or_bidi_characters_are_refused(client, auth, filename):
    nomination_id = create_nomination(client, auth)
    body = assert_problem(upload_named(client, auth, nomination_id, filename, PDF), 422)
    assert "Tên tệp" in body["detail"] or "phần mở rộng" in body["detail"]
    assert detail(client, auth, nomination_id)["attachments"] == []


def test_names_are_stored_in_nfc_without_a_folder(client, auth):
    nomination_id = create_nomination(client, auth)
    decomposed = "Tờ trình.pdf".replace("ờ", "o\u031b\u0300")  # as macOS sends it
    assert upload_named(client, auth, nomination_id, decomposed, PDF).status_code == 201
    assert upload_named(client, auth, nomination_id, "C:\\Users\\hoa\\bao-cao.pdf", PDF + b"2").status_code == 201
    assert sorted(a["filename"] for a in detail(client, auth, nomination_id)["attachments"]) == [
        "Tờ trình.pdf", "bao-cao.pdf"]


@pytest.mark.parametrize("filename,content", [
    ("evil.html", PDF_HTML),  # a PDF/HTML polyglot
    ("evil.svg", PNG_SVG),  # PNG bytes with an SVG script after them
    ("evil.htm", PDF), ("anh.png", PDF), ("to-trinh.pdf", JPEG), ("anh.jpg", PDF),
    ("bao-cao.docx", zipped({"a.txt": "not office"})),  # any zip
    ("bao-cao.docx", zipped({"[Content_Types].xml": "<Types/>", "a.txt": "x"})),
    ("bao-cao.docx", xlsx()),  # a workbook named as a document
    ("bang.xlsx", docx()),
    ("bao-cao.docx", PDF), ("to-trinh.pdf", docx()),
    ("bao-cao.docx", b"PK\x03\x04" + b"\x00" * 100),  # a broken zip
    ("to-trinh", PDF), ("to-trinh.PDF.exe", PDF),
])
def test_the_extension_must_match_the_content(client, auth, filename, content):
    nomination_id = create_nomination(client, auth)
    assert_problem(upload_named(client, auth, nomination_id, filename, content), 422)
    assert detail(client, auth, nomination_id)["attachments"] == []


@pytest.mark.parametrize("content", [
    docx(**{"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}),
    zipped({"[Content_Types].xml": DOCX_TYPES.replace("document.main", "document.macroEnabled.main"),
            "word/document.xml": "<w:document/>"}),
    docx(**{"word/activeX/activeX1.xml": "<ax/>"}),
])
def test_office_files_with_macros_are_refused(client, auth, content):
    nomination_id = create_nomination(client, auth)
    body = assert_problem(upload_named(client, auth, nomination_id, "bao-cao.docx", content), 422)
    assert "macro" in body["detail"]


def test_zip_bombs_are_refused_without_being_unpacked(client, auth):
    nomination_id = create_nomination(client, auth)
    bomb = docx(**{"word/media/zeros.bin": b"\x00" * (20 * 1024 * 1024)})  # ~20 KB declaring 20 MB
    assert len(bomb) < 100_000
    body = assert_problem(upload_named(client, auth, nomination_id, "bao-cao.docx", bomb), 422)
    assert "giải nén" in body["detail"]


@pytest.mark.parametrize("filename,content,content_type", [
    ("Báo cáo thành tích.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("bang-diem.XLSX", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("anh.jpeg", JPEG, "image/jpeg"),
    ("anh.JPG", JPEG, "image/jpeg"),
])
def test_real_office_files_and_images_pass(client, auth, filename, content, content_type):
    nomination_id = create_nomination(client, auth)
    response = upload_named(client, auth, nomination_id, filename, content)
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["filename"], response.get_json()["content_type"]) == (filename, content_type)


def test_downloads_are_attachments_never_sniffed(app, client, auth):
    nomination_id = create_nomination(client, auth)
    sha = upload_named(client, auth, nomination_id, "Tờ trình số 12.pdf", PDF).get_json()["sha256"]
    response = client.get(f"/api/v1/nominations/{nomination_id}/attachments/{sha}", headers=auth(ADMIN))
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh" in disposition


@pytest.mark.parametrize("stored_name", ["a\r\nSet-Cookie: x=1.pdf", "a\x00b.pdf", "invoice\u202efdp.exe", "\n"])
def test_a_bad_name_stored_by_an_older_version_still_downloads_safely(app, client, auth, database_url, stored_name):
    if "\x00" in stored_name and database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL text cannot hold NUL: no such row can exist there")
    nomination_id = create_nomination(client, auth)
    sha = upload_named(client, auth, nomination_id, "to-trinh.pdf", PDF).get_json()["sha256"]
    runtime = app.extensions["nomflow"]
    with runtime.uow() as uow:
        uow.session.execute(update(Attachment).where(Attachment.sha256 == sha).values(filename=stored_name))
        uow.commit()
    browser = app.test_client()
    assert login(browser, STAFF, PASSWORD).status_code == 302
    for url, as_user in ((f"/api/v1/nominations/{nomination_id}/attachments/{sha}", client),
                         (f"/nominations/{nomination_id}/files/{sha}", browser)):
        response = as_user.get(url, headers=auth(STAFF) if as_user is client else {})
        assert response.status_code == 200 and response.data == PDF
        disposition = response.headers["Content-Disposition"]
        assert not any(ch in disposition for ch in "\r\n\x00\u202e")
        assert "Set-Cookie" not in response.headers
