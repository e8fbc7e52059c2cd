"""Diagram uploads that used to answer 500, or store what they should not (issue 12, section 3)."""

from __future__ import annotations

import hashlib

import pytest

from service.core.errors import InvalidInput
from service.db.models import Unit

from .helpers import ADMIN, STAFF, assert_problem, create_nomination
from .test_process_admin import BASE, NOMINATION, _Endless, counts, upload

DEEP = NOMINATION.replace(b'decision == "select"', b"-" * 20_000 + b"1", 1)


@pytest.mark.parametrize("url", [f"{BASE}/validate", f"{BASE}/nomination/drafts"])
def test_deeply_nested_condition_is_a_422_not_a_500(client, auth, runtime, url):
    auth(ADMIN)
    before = counts(runtime)
    body = assert_problem(upload(client, url, DEEP, auth(ADMIN), base_version=1), 422)
    assert any("expression too long" in e["message"] and e["element_id"] for e in body["errors"])
    assert counts(runtime) == before


def test_process_id_longer_than_its_column_is_refused_at_validation(client, auth, runtime):
    """PostgreSQL used to answer 500 at /drafts (varchar(100)); SQLite stored it."""
    long_id = "p" * 150
    bpmn = NOMINATION.replace(b'"nomination"', f'"{long_id}"'.encode())
    auth(ADMIN)
    before = counts(runtime)
    for url in (f"{BASE}/validate", f"{BASE}/{long_id}/drafts"):
        body = assert_problem(upload(client, url, bpmn, auth(ADMIN)), 422)
        assert any("id longer than 100 characters" in e["message"] for e in body["errors"])
    assert counts(runtime) == before


def test_a_value_too_long_for_its_column_is_a_422_on_every_backend(runtime, database_url):
    """The unit of work maps the database's DataError (PostgreSQL checks lengths) to bad input."""
    try:
        with runtime.uow() as uow:
            uow.session.add(Unit(id="u" * 200, name="Đơn vị thử", kind="enterprise"))
            uow.session.flush()
            uow.commit()
    except InvalidInput as exc:
        assert database_url.startswith("postgresql") and "cơ sở dữ liệu; chưa lưu gì:" in exc.detail
    else:
        assert database_url.startswith("sqlite")  # SQLite does not check lengths


def test_utf16_upload_is_stored_and_served_as_utf8(client, auth):
    text = NOMINATION.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    response = upload(client, f"{BASE}/nomination/drafts", text.encode("utf-16"), auth(ADMIN), base_version=1)
    assert response.status_code == 201, response.get_json()
    draft = response.get_json()
    served = client.get(f"{BASE}/nomination/drafts/{draft['id']}/bpmn", headers=auth(ADMIN))
    data = served.get_data()
    assert data.startswith(b"<?xml") and "Lập hồ sơ".encode() in data  # UTF-8 bytes, not UTF-16
    assert draft["checksum"] == hashlib.sha256(data).hexdigest()


def test_a_body_without_length_over_the_limit_gets_a_413_that_states_it(client, auth):
    stream = _Endless()
    response = client.post(f"{BASE}/validate", headers={**auth(ADMIN), "Content-Type": "application/xml"},
                           environ_overrides={"wsgi.input": stream, "CONTENT_LENGTH": "",
                                              "wsgi.input_terminated": True})
    body = assert_problem(response, 413)
    assert "2,000,000" in body["detail"]


def test_the_generic_413_states_the_limit(client, auth, app):
    """Each refusal says the limit that applies: the upload limit for a file, the far smaller JSON one
    for a JSON body."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    nomination_id = create_nomination(client, auth)  # a draft its staff may add files to
    response = client.post(f"/api/v1/nominations/{nomination_id}/attachments",
                           headers={**auth(STAFF), "Content-Type": "multipart/form-data; boundary=x"},
                           environ_overrides={"wsgi.input": _Endless(), "CONTENT_LENGTH": str(limit + 1)})
    assert f"{limit:,}" in assert_problem(response, 413)["detail"]
    json_limit = app.extensions["nomflow"].config.max_json_bytes
    response = client.post("/api/v1/nominations", headers={**auth(ADMIN), "Content-Type": "application/json"},
                           environ_overrides={"wsgi.input": _Endless(), "CONTENT_LENGTH": str(json_limit + 1)})
    assert f"{json_limit:,}" in assert_problem(response, 413)["detail"]


def test_lane_named_admin_is_refused_with_the_allowed_lanes(client, auth):
    bpmn = NOMINATION.replace("Chuyên viên Sở Khoa học và Công nghệ".encode(), b"admin", 1)
    body = assert_problem(upload(client, f"{BASE}/validate", bpmn, auth(ADMIN)), 422)
    messages = " ".join(e["message"] for e in body["errors"])
    assert "admin is not a desk" in messages and "(chairman)" in messages



def test_validator_limits_match_the_columns_that_store_them():
    """The validator's widths are the columns' (a change to either must change the other)."""
    from service.db.models import InboxRow, InstanceRow, ProcessDraft, ProcessVersion
    from workflows.diagram_limits import MAX_ID_LENGTH, MAX_NAME_LENGTH

    for column in (ProcessVersion.process_id, ProcessDraft.process_id, InstanceRow.process_id,
                   InstanceRow.end_event, InboxRow.task_id, InboxRow.process_id):
        assert column.type.length == MAX_ID_LENGTH, column
    for column in (ProcessVersion.name, ProcessDraft.name, InboxRow.name):
        assert column.type.length == MAX_NAME_LENGTH, column
