"""Uploads on a full disk (issue 13, point 6): a real tmpfs of 1 MB holds the attachments.

Every path that writes a file (the API's upload, the draft page) answers 507 with a Vietnamese
message, keeps nothing of the request (no `.part`, no half of a two-file request, no row, no audit
event), and refuses before writing when the upload would leave less than the reserve free.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from service.app import create_app
from service.core import filestore
from service.core.errors import InsufficientStorage
from service.db.models import Attachment, AuditEvent
from tests.support.smalldisk import fill, leftovers, small_disk

from .conftest import DEMO_PASSWORD
from .helpers import STAFF, assert_problem, create_nomination

KB = 1024


def pdf(size: int, seed: str = "") -> bytes:
    head = f"%PDF-1.7\n%{seed}\n".encode()
    return head + b"x" * (size - len(head))


@pytest.fixture
def disk(tmp_path):
    with small_disk(tmp_path / "attachments", 1024) as mounted:
        yield mounted


def app_on(app, clock, disk, **settings):
    base = app.extensions["nomflow"].config
    settings = {"attachments_reserve_mb": 0, **settings}
    return create_app(replace(base, attachments_dir=disk, **settings), clock=clock)


@pytest.fixture
def disk_app(app, clock, disk):
    made = app_on(app, clock, disk)
    yield made
    made.extensions["nomflow"].db.dispose()


def log_in(client, username):
    """A cookie session as the browser has it; returns the CSRF token for its posts."""
    def csrf(html):
        return html.split('name="csrf_token" value="')[1].split('"')[0]

    done = client.post("/login", data={"csrf_token": csrf(client.get("/login").get_data(as_text=True)),
                                       "username": username, "password": DEMO_PASSWORD})
    assert done.status_code == 302
    return csrf(client.get("/inbox").get_data(as_text=True))


def upload(client, auth, nomination_id, filename, content):
    return client.post(f"/api/v1/nominations/{nomination_id}/attachments", headers=auth(STAFF),
                       data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")


def stored_rows(app):
    with app.extensions["nomflow"].read() as uow:
        files = uow.session.scalar(select(func.count()).select_from(Attachment))
        events = uow.session.scalar(select(func.count()).where(AuditEvent.kind == "attachment_added"))
    return files, events


def test_the_disk_filling_during_the_write_answers_507_and_keeps_nothing(disk_app, disk, auth):
    """The space check passes (a reserve of -1 MB lets it), the kernel then refuses the write itself."""
    app = create_app(replace(disk_app.extensions["nomflow"].config, attachments_reserve_mb=-1),
                     clock=disk_app.extensions["nomflow"].clock)
    client = app.test_client()
    nomination_id = create_nomination(client, auth)
    fill(disk, leave_bytes=200 * KB)
    before = filestore.free_bytes(disk)

    body = assert_problem(upload(client, auth, nomination_id, "to-trinh.pdf", pdf(600 * KB)), 507)

    assert body["title"] == "Không đủ dung lượng lưu trữ"
    assert "không còn đủ chỗ trống" in body["detail"]
    assert leftovers(disk) == []
    assert filestore.free_bytes(disk) == before  # the failed write gave its space back
    assert stored_rows(app) == (0, 0)
    small = pdf(100 * KB, "nho")
    assert upload(client, auth, nomination_id, "nho.pdf", small).status_code == 201  # the disk still works
    assert (disk / hashlib.sha256(small).hexdigest()[:2]).is_dir()
    app.extensions["nomflow"].db.dispose()


def test_a_large_upload_is_refused_before_writing_when_it_would_eat_the_reserve(app, clock, disk, auth):
    made = app_on(app, clock, disk, attachments_reserve_mb=0)
    client = made.test_client()
    nomination_id = create_nomination(client, auth)
    fill(disk, leave_bytes=300 * KB)

    # Below the early check's size: refused by the store's own check, before any byte is written.
    assert_problem(upload(client, auth, nomination_id, "lon.pdf", pdf(400 * KB)), 507)
    assert leftovers(disk) == [] and stored_rows(made) == (0, 0)
    # Above it: refused from the Content-Length, before the body is even read.
    body = assert_problem(upload(client, auth, nomination_id, "rat-lon.pdf", pdf(1200 * KB)), 507)
    assert "không còn đủ chỗ trống" in body["detail"]
    assert stored_rows(made) == (0, 0)
    made.extensions["nomflow"].db.dispose()


def test_the_reserve_keeps_room_for_the_database(app, clock, tmp_path, auth):
    with small_disk(tmp_path / "big", 4096) as disk:
        made = app_on(app, clock, disk, attachments_reserve_mb=3)
        client = made.test_client()
        nomination_id = create_nomination(client, auth)
        assert upload(client, auth, nomination_id, "a.pdf", pdf(500 * KB, "a")).status_code == 201
        assert_problem(upload(client, auth, nomination_id, "b.pdf", pdf(700 * KB, "b")), 507)
        assert filestore.free_bytes(disk) > 3 * filestore.MB
        made.extensions["nomflow"].db.dispose()


def test_the_quota_refuses_uploads_past_it(app, clock, tmp_path, auth):
    made = app_on(app, clock, tmp_path / "files", attachments_quota_mb=1)
    client = made.test_client()
    nomination_id = create_nomination(client, auth)
    first = pdf(600 * KB, "a")
    assert upload(client, auth, nomination_id, "a.pdf", first).status_code == 201
    body = assert_problem(upload(client, auth, nomination_id, "b.pdf", pdf(600 * KB, "b")), 507)
    assert "hạn mức 1 MB" in body["detail"]
    # The same bytes again take no new space: accepted under another name.
    assert upload(client, auth, nomination_id, "a-ban-sao.pdf", first).status_code == 201
    assert stored_rows(made) == (2, 2)
    made.extensions["nomflow"].db.dispose()


def test_the_draft_page_keeps_nothing_of_a_request_the_disk_refused(disk_app, disk, auth, runtime):
    """Two files in one save: the first fits, the second does not; the first is taken back too."""
    app = create_app(replace(disk_app.extensions["nomflow"].config, attachments_reserve_mb=-1),
                     clock=disk_app.extensions["nomflow"].clock)
    client = app.test_client()
    nomination_id = create_nomination(client, auth)
    token = log_in(client, STAFF)
    fill(disk, leave_bytes=500 * KB)
    first, second = pdf(300 * KB, "to-trinh"), pdf(400 * KB, "bien-ban")

    response = client.post(f"/nominations/{nomination_id}/edit", data={
        "csrf_token": token, "nominee_name": "Tên đã sửa",
        "upload.to_trinh": (io.BytesIO(first), "to-trinh.pdf"),
        "upload.bien_ban_hoi_dong": (io.BytesIO(second), "bien-ban.pdf"),
    }, content_type="multipart/form-data")

    assert response.status_code == 507
    text = response.get_data(as_text=True)
    assert "không còn đủ chỗ trống" in text and "Tên đã sửa" in text  # what was typed is shown again
    assert leftovers(disk) == []
    assert not (disk / hashlib.sha256(first).hexdigest()[:2] / hashlib.sha256(first).hexdigest()).exists()
    assert stored_rows(app) == (0, 0)
    app.extensions["nomflow"].db.dispose()


def test_write_blob_on_a_full_disk_removes_its_partial_file(tmp_path):
    with small_disk(tmp_path / "d", 512) as disk:
        fill(disk, leave_bytes=100 * KB)
        before = filestore.free_bytes(disk)
        with pytest.raises(InsufficientStorage):
            filestore.write_blob(disk / "ab" / ("ab" + "0" * 62), b"y" * (300 * KB))
        assert leftovers(disk) == [] and filestore.free_bytes(disk) == before
