"""Attachments: allow-list by magic bytes, size limit, served only to those who may see the nomination."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import replace

import pytest

from service.app import create_app
from service.core.errors import Conflict
from service.usecases import drafts

from .helpers import (
    ADMIN,
    CHAIRMAN,
    DOST_OFFICER,
    HEAD,
    OTHER_HEAD,
    OTHER_STAFF,
    STAFF,
    actor,
    assert_problem,
    complete,
    create_nomination,
    detail,
    drive,
    open_task,
    submit,
)

LIMIT = 4096
PDF = b"%PDF-1.7\n" + b"x" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def office(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.fixture
def small_app(app, clock):
    """Its own app, on the same seeded database, with a small attachment limit."""
    base = app.extensions["nomflow"].config
    small = create_app(replace(base, max_attachment_bytes=LIMIT), clock=clock)
    yield small
    small.extensions["nomflow"].db.dispose()


@pytest.fixture
def client(small_app):
    return small_app.test_client()


def upload(client, auth, nomination_id, filename, content, user=STAFF):
    return client.post(f"/api/v1/nominations/{nomination_id}/attachments", headers=auth(user),
                       data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")


@pytest.mark.parametrize("filename,content,content_type", [
    ("to-trinh.pdf", PDF, "application/pdf"),
    ("bao-cao.docx", office("word/document.xml"),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("bang-diem.xlsx", office("xl/workbook.xml"),
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("anh.png", PNG, "image/png"),
    ("anh.jpg", JPEG, "image/jpeg"),
])
def test_allowed_types_are_stored_by_hash(client, auth, small_app, filename, content, content_type):
    nomination_id = create_nomination(client, auth)
    response = upload(client, auth, nomination_id, filename, content)
    assert response.status_code == 201, response.get_json()
    sha = hashlib.sha256(content).hexdigest()
    body = response.get_json()
    assert (body["sha256"], body["filename"], body["content_type"], body["size"]) == (
        sha, filename, content_type, len(content))
    stored = small_app.extensions["nomflow"].config.attachments_path / sha[:2] / sha
    assert stored.read_bytes() == content


@pytest.mark.parametrize("filename,content", [
    ("script.pdf", b"#!/bin/sh\nrm -rf /"),  # the name says PDF, the bytes do not
    ("trang.html", b"<html><script>alert(1)</script></html>"),
    ("archive.zip", office("a.txt")),  # a zip that is not named as an Office file
    ("empty.pdf", b""),
])
def test_other_content_is_refused(client, auth, filename, content):
    nomination_id = create_nomination(client, auth)
    assert_problem(upload(client, auth, nomination_id, filename, content), 422)
    assert detail(client, auth, nomination_id)["attachments"] == []


def test_size_limit(client, auth):
    nomination_id = create_nomination(client, auth)
    at_limit = b"%PDF-" + b"x" * (LIMIT - 5)
    assert upload(client, auth, nomination_id, "vua.pdf", at_limit).status_code == 201
    body = assert_problem(upload(client, auth, nomination_id, "lon.pdf", at_limit + b"x"), 422)
    assert "quá lớn" in body["detail"]
    assert [a["filename"] for a in detail(client, auth, nomination_id)["attachments"]] == ["vua.pdf"]


def test_missing_file_field_is_422(client, auth):
    nomination_id = create_nomination(client, auth)
    response = client.post(f"/api/v1/nominations/{nomination_id}/attachments", headers=auth(STAFF),
                           data={"other": "x"}, content_type="multipart/form-data")
    assert assert_problem(response, 422)["errors"] == [{"field": "file", "message": "Bắt buộc"}]


def test_only_the_units_staff_uploads(client, auth):
    nomination_id = create_nomination(client, auth)
    for user, status in ((OTHER_STAFF, 404), (DOST_OFFICER, 404), (HEAD, 403), (ADMIN, 403)):
        assert_problem(upload(client, auth, nomination_id, "a.pdf", PDF, user=user), status)
    assert detail(client, auth, nomination_id)["attachments"] == []


def test_files_are_served_only_to_those_who_may_see_the_nomination(client, auth):
    nomination_id = create_nomination(client, auth)
    sha = upload(client, auth, nomination_id, "to-trinh.pdf", PDF).get_json()["sha256"]
    url = f"/api/v1/nominations/{nomination_id}/attachments/{sha}"

    for user in (STAFF, HEAD, ADMIN):
        response = client.get(url, headers=auth(user))
        assert response.status_code == 200 and response.data == PDF
        assert response.mimetype == "application/pdf"
        assert "attachment" in response.headers["Content-Disposition"]
    for user in (OTHER_STAFF, OTHER_HEAD, DOST_OFFICER, CHAIRMAN):  # a draft stays inside its unit
        assert_problem(client.get(url, headers=auth(user)), 404)

    assert submit(client, auth, nomination_id).status_code == 200
    assert client.get(url, headers=auth(DOST_OFFICER)).data == PDF
    assert_problem(client.get(url, headers=auth(OTHER_STAFF)), 404)
    assert_problem(client.get(f"/api/v1/nominations/{nomination_id}/attachments/{'0' * 64}",
                              headers=auth(STAFF)), 404)


def test_a_file_of_one_nomination_is_not_served_through_another(client, auth):
    mine = create_nomination(client, auth)
    theirs = create_nomination(client, auth, staff=OTHER_STAFF, unit_id="so-tai-chinh")
    sha = upload(client, auth, theirs, "bi-mat.pdf", PDF, user=OTHER_STAFF).get_json()["sha256"]
    assert_problem(client.get(f"/api/v1/nominations/{mine}/attachments/{sha}", headers=auth(STAFF)), 404)


def test_the_hash_shows_in_the_history(client, auth):
    nomination_id = create_nomination(client, auth)
    upload(client, auth, nomination_id, "to-trinh.pdf", PDF)
    upload(client, auth, nomination_id, "to-trinh.pdf", PDF)  # the same file twice is kept once
    history = client.get(f"/api/v1/nominations/{nomination_id}/history", headers=auth(STAFF)).get_json()
    [added] = [e for e in history if e["kind"] == "attachment_added"]
    assert added["detail"] == {"filename": "to-trinh.pdf", "sha256": hashlib.sha256(PDF).hexdigest(),
                               "size": len(PDF)}
    listed = client.get(f"/api/v1/nominations/{nomination_id}/attachments", headers=auth(HEAD)).get_json()
    assert [(a["filename"], a["sha256"]) for a in listed] == [("to-trinh.pdf", hashlib.sha256(PDF).hexdigest())]


def test_files_are_added_only_while_drafting_or_answering_a_return(client, auth):
    """Once the unit sends the dossier up, its files are what the reviewers were sent: no more
    uploads until a reviewer returns it to the unit, and none after the award."""
    nomination_id = create_nomination(client, auth)
    assert upload(client, auth, nomination_id, "to-trinh.pdf", PDF).status_code == 201
    assert submit(client, auth, nomination_id).status_code == 200
    late = PDF + b"late"
    assert_problem(upload(client, auth, nomination_id, "bo-sung.pdf", late), 409)
    assert [a["filename"] for a in detail(client, auth, nomination_id)["attachments"]] == ["to-trinh.pdf"]

    returned = complete(client, auth, HEAD, open_task(client, auth, nomination_id, "unit_review")["id"],
                        {"decision": "return", "reason": "Bổ sung biên bản họp hội đồng."})
    assert returned.status_code == 200, returned.get_json()
    assert upload(client, auth, nomination_id, "bien-ban.pdf", late).status_code == 201  # answering the return
    assert submit(client, auth, nomination_id).status_code == 200

    drive(client, auth, nomination_id)
    for stage_user in (STAFF, HEAD, ADMIN):
        assert upload(client, auth, nomination_id, "sau-duyet.pdf", PDF + b"after", user=stage_user) \
            .status_code in (403, 409)
    assert sorted(a["filename"] for a in detail(client, auth, nomination_id)["attachments"]) == [
        "bien-ban.pdf", "to-trinh.pdf"]


def test_the_draft_page_refuses_files_once_sent_up(app, runtime, auth):
    """The page path (save_draft_form) goes through the same rule."""
    client = app.test_client()
    nomination_id = create_nomination(client, auth)
    assert submit(client, auth, nomination_id).status_code == 200
    with pytest.raises(Conflict):
        drafts.save_draft_form(runtime, actor(runtime, STAFF), nomination_id, {},
                               [drafts.Upload("to_trinh", "to-trinh.pdf", PDF)])
    assert detail(client, auth, nomination_id)["attachments"] == []
