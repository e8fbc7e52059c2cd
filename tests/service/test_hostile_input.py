"""Hostile requests a signed-in user can send (issue 14, items 1 and 7): each is refused fast with a small
4xx problem, never a 500, never a long run. Assertions are on status, size and error count, not time."""

from __future__ import annotations

import inspect
import io
import json
from typing import Any

import pytest
from marshmallow import Schema, fields

from service.api.fields import BoundedList, Int, Line, Text
from tests.service.helpers import (
    ADMIN,
    HA_LEAD,
    OTHER_STAFF,
    STAFF,
    assert_problem,
    create_nomination,
    error_fields,
)

HUGE = 2**63
SMALL = 8 * 1024  # every refusal below answers in fewer bytes than this


def _small_problem(response: Any, status: int | tuple[int, ...]) -> dict[str, Any]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.get_data(as_text=True)[:500]
    assert len(response.get_data()) < SMALL
    return assert_problem(response, response.status_code)


# --- item 1: one request must not stall the service -----------------------------------------------------

def test_the_reported_request_is_refused_before_parsing(client, auth):
    body = {"data": {"criteria": [1] * 100_000}}  # ~300 KB: the sweep's 14 s, 11 MB answer
    response = client.patch("/api/v1/nominations/NOPE/draft", headers=auth(STAFF), json=body)
    _small_problem(response, 413)


def test_access_is_checked_before_the_body_is_validated(client, auth):
    body = {"data": {"criteria": [1] * 60_000, "nominee_name": "x" * 10_000}}  # under the size limit
    _small_problem(client.patch("/api/v1/nominations/NOPE/draft", headers=auth(STAFF), json=body), 404)
    nomination_id = create_nomination(client, auth)
    # Staff of another unit may not see it: 404 as if it did not exist, without a word about the body.
    response = client.patch(f"/api/v1/nominations/{nomination_id}/draft", headers=auth(OTHER_STAFF), json=body)
    assert _small_problem(response, 404)["errors"] == []


def test_an_allowed_caller_gets_few_errors_for_a_huge_body(client, auth):
    nomination_id = create_nomination(client, auth)
    body = {"data": {"criteria": [1] * 60_000}}
    response = client.patch(f"/api/v1/nominations/{nomination_id}/draft", headers=auth(STAFF), json=body)
    assert error_fields(response) == {"criteria"}
    assert len(_small_problem(response, 422)["errors"]) == 1


def test_at_most_twenty_errors_then_how_many_more(client, auth):
    nomination_id = create_nomination(client, auth)
    unknown = {f"field_{i}": i for i in range(150)}
    response = client.patch(f"/api/v1/nominations/{nomination_id}/draft", headers=auth(STAFF),
                            json={"data": unknown})
    errors = _small_problem(response, 422)["errors"]
    assert len(errors) == 21
    assert "more errors" in errors[-1]["message"]


@pytest.mark.parametrize("path, method", [
    ("/api/v1/nominations", "POST"), ("/api/v1/tokens", "POST"), ("/api/v1/units", "POST"),
    ("/api/v1/tasks/X/complete", "POST"), ("/api/v1/admin/processes/nomination/migrations/preview", "POST"),
])
def test_json_bodies_are_capped_far_below_the_attachment_limit(client, auth, path, method):
    body = json.dumps({"data": {"x": "y" * 300_000}})
    response = client.open(path, method=method, headers={**auth(ADMIN), "Content-Type": "application/json"},
                           data=body)
    _small_problem(response, 413)


def test_a_body_without_content_length_is_capped_too(client, auth):
    body = io.BytesIO(b'{"name": "' + b"x" * 400_000 + b'"}')
    response = client.post("/api/v1/tokens", input_stream=body, environ_overrides={"wsgi.input_terminated": True},
                           headers={**auth(STAFF), "Content-Type": "application/json",
                                    "Transfer-Encoding": "chunked"})
    _small_problem(response, 413)


# --- item 7: bad input is a clear 4xx, never a 500 -------------------------------------------------------

@pytest.mark.parametrize("depth", [40, 1_000, 50_000])
def test_deeply_nested_json_is_400(client, auth, depth):
    body = "[" * depth + "]" * depth
    response = client.post("/api/v1/nominations", headers={**auth(STAFF), "Content-Type": "application/json"},
                           data=json.dumps({"unit_id": "x"})[:-1] + ', "data": ' + body + "}")
    _small_problem(response, 400)


BIG_INTEGERS = [
    ("DELETE", f"/api/v1/tokens/{HUGE}", None, None),
    ("POST", f"/api/v1/users/{HUGE}/roles", None, {"role": "unit_staff", "unit_id": "phuong-hien-nam"}),
    ("GET", f"/api/v1/processes/nomination/versions/{HUGE}/bpmn", None, None),
    ("GET", f"/api/v1/admin/processes/nomination/versions/{HUGE}", None, None),
    ("GET", f"/api/v1/admin/processes/nomination/versions/{HUGE}/bpmn", None, None),
    ("GET", f"/api/v1/admin/processes/nomination/drafts/{HUGE}", None, None),
    ("DELETE", f"/api/v1/admin/processes/nomination/drafts/{HUGE}", None, None),
    ("GET", f"/api/v1/admin/processes/nomination/drafts/{HUGE}/bpmn", None, None),
    ("POST", f"/api/v1/admin/processes/nomination/drafts/{HUGE}/deploy", None, {}),
    ("GET", "/api/v1/tasks", {"offset": HUGE}, None),
    ("GET", "/api/v1/tasks", {"limit": HUGE}, None),
    ("GET", "/api/v1/batches", {"offset": HUGE}, None),
    ("GET", "/api/v1/audit", {"offset": HUGE}, None),
    ("GET", "/api/v1/audit", {"limit": -HUGE}, None),
    ("POST", "/api/v1/tasks/X/reassign", None, {"user_id": HUGE}),
    ("POST", "/api/v1/tasks/X/complete", None, {"data": {}, "version": HUGE}),
    ("POST", "/api/v1/substitutes", None, {"absent_id": HUGE, "substitute_id": 1, "starts_on": "2026-01-01",
                                           "ends_on": "2026-01-02"}),
    ("POST", "/api/v1/admin/processes/nomination/migrations/preview", None, {"to_version": HUGE}),
    ("POST", "/api/v1/admin/processes/nomination/drafts/1/deploy", None, {"revision": HUGE}),
    ("GET", "/admin/outbox/" + str(HUGE), None, None),
]


@pytest.mark.parametrize("method, path, query, body", BIG_INTEGERS)
def test_integers_past_the_database_range_are_4xx(client, auth, method, path, query, body):
    response = client.open(path, method=method, headers=auth(ADMIN), query_string=query, json=body)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    if path.startswith("/api/"):
        _small_problem(response, response.status_code)


def test_infinite_numbers_are_422(client, auth):
    response = client.post("/api/v1/tasks/X/reassign", headers={**auth(ADMIN), "Content-Type": "application/json"},
                           data='{"user_id": 1e999}')
    assert error_fields(response) == {"user_id"}


@pytest.mark.parametrize("text", ["a\x00b", "\x00"])
def test_nul_in_any_json_text_is_400(client, auth, text):
    for body in ({"unit_id": text, "data": {}}, {"unit_id": "phuong-hien-nam", "data": {"nominee_name": text}},
                 {"unit_id": "phuong-hien-nam", "data": {text: 1}}):
        _small_problem(client.post("/api/v1/nominations", headers=auth(STAFF), json=body), 400)


def test_nul_in_the_login_form_is_400_even_for_anonymous(client):
    client.get("/login")
    response = client.post("/login", data={"username": "canbo\x00hiennam", "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("query", ["next=/inbox%0d%0aSet-Cookie:%20x=1", "next=%0a", "status=a%00b", "q=a%09b"])
def test_control_characters_in_a_query_string_are_400(client, auth, query):
    assert client.get(f"/login?{query}").status_code == 400
    _small_problem(client.get(f"/api/v1/nominations?{query}", headers=auth(STAFF)), 400)


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/tokens", {"name": "ci\nbot"}, "name"),
    ("/api/v1/units", {"id": "xa-moi", "name": "Xã\r\nMới", "kind": "commune_ward"}, "name"),
    ("/api/v1/users", {"username": "moi", "full_name": "Nguyễn\tVăn A", "role": "unit_staff"}, "full_name"),
])
def test_one_line_api_fields_refuse_line_breaks(client, auth, path, body, field):
    assert error_fields(client.post(path, headers=auth(ADMIN), json=body)) == {field}


def test_a_nominee_name_with_a_line_break_is_refused_and_not_stored(client, auth):
    nomination_id = create_nomination(client, auth)
    response = client.patch(f"/api/v1/nominations/{nomination_id}/draft", headers=auth(STAFF),
                            json={"data": {"nominee_name": "UBND phường\nhttps://evil.example"}})
    assert error_fields(response) == {"nominee_name"}
    shown = client.get(f"/api/v1/nominations/{nomination_id}", headers=auth(STAFF)).get_json()
    assert "\n" not in shown["nominee_name"]


def test_a_wrong_method_says_which_ones_are_allowed(client, auth):
    response = client.delete("/api/v1/nominations", headers=auth(STAFF))
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_a_lead_cannot_make_a_batch_query_huge_lists(client, auth):
    response = client.post("/api/v1/batches", headers=auth(HA_LEAD))
    assert response.status_code == 201, response.get_json()
    batch = client.get(f"/api/v1/batches/{response.get_json()['id']}", headers=auth(HA_LEAD)).get_json()
    task = batch["tasks"][0]["id"]
    ids: list[Any] = [{"a": 1}] * 2000
    response = client.post(f"/api/v1/tasks/{task}/complete", headers=auth(HA_LEAD), json={"data": {
        "nomination_ids": ids, "decision_title": "x", "decision_draft": "y"}})
    _small_problem(response, 422)


# --- one place bounds every input field ------------------------------------------------------------------

def _input_schemas(app: Any) -> list[type[Schema]]:
    found = []
    for view in app.view_functions.values():
        for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
            schema = parameter["schema"]
            found.append(schema if inspect.isclass(schema) else type(schema))
    return found


def test_every_input_field_of_the_api_is_bounded(app):
    schemas = _input_schemas(app)
    assert len(schemas) >= 12
    loose = []
    for schema in schemas:
        for name, field in schema().fields.items():
            if isinstance(field, fields.Integer) and not isinstance(field, Int):
                loose.append(f"{schema.__name__}.{name}: integer not bounded (use fields.Int)")
            elif isinstance(field, fields.List) and not isinstance(field, BoundedList):
                loose.append(f"{schema.__name__}.{name}: list not bounded (use BoundedList)")
            elif (type(field) is fields.String and not any(v.__class__.__name__ == "OneOf" for v in field.validators)
                  and not isinstance(field, Line | Text)):
                loose.append(f"{schema.__name__}.{name}: text not bounded (use Line or Text)")
    assert loose == []


def test_an_upload_by_someone_who_may_not_add_files_is_refused_before_it_is_read(app, client, auth):
    nomination_id = create_nomination(client, auth)
    read: list[int] = []

    class Counting(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            read.append(len(data))
            return data

    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.pdf\"\r\n\r\n%PDF-"
            ).encode() + b"x" * 2_000_000 + f"\r\n--{boundary}--\r\n".encode()
    response = client.post(f"/api/v1/nominations/{nomination_id}/attachments", headers=auth(OTHER_STAFF),
                           input_stream=Counting(body), content_length=len(body),
                           content_type=f"multipart/form-data; boundary={boundary}")
    _small_problem(response, 404)
    assert sum(read) < 100_000  # werkzeug may drain a little; the 2 MB file was never parsed
