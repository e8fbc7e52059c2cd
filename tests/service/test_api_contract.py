"""What every endpoint shares: authentication, problem details, the OpenAPI document."""

from __future__ import annotations

import re

import pytest

from .helpers import STAFF, assert_problem


def api_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((method, rule.rule))
    return sorted(routes)


def concrete(rule: str) -> str:
    return re.sub(r"<(?:int:)?([a-z0-9_]+)>", lambda m: "1" if "int:" in m.group(0) else "X1", rule)


def test_every_api_endpoint_refuses_anonymous_callers_with_a_problem(app, client):
    routes = api_routes(app)
    assert len(routes) >= 28
    for method, rule in routes:
        response = client.open(concrete(rule), method=method, json={})
        body = assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert body["title"] and body["detail"] and body["errors"] == []


def test_an_unknown_or_malformed_token_is_401(client):
    for header in ("Bearer nf_nope", "Bearer "):
        assert_problem(client.get("/api/v1/me", headers={"Authorization": header}), 401)


def test_openapi_lists_every_api_path_and_method(app, client):
    spec = client.get("/api/openapi.json").get_json()
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops
                  if method in ("get", "post", "patch", "put", "delete")}
    for method, rule in api_routes(app):
        path = re.sub(r"<(?:int:)?([a-z0-9_]+)>", r"{\1}", rule)
        assert (method, path) in documented, (method, path)
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_api_docs_page_is_served(client):
    assert client.get("/api/docs").status_code == 200


def test_unknown_fields_and_wrong_types_are_422_per_field(client, auth):
    response = client.post("/api/v1/nominations", headers=auth(STAFF),
                           json={"unit_id": 5, "data": [], "colour": "red"})
    body = assert_problem(response, 422)
    assert {e["field"] for e in body["errors"]} == {"unit_id", "data", "colour"}
    assert all(e["message"] for e in body["errors"])


def test_missing_body_is_422_naming_the_required_field(client, auth):
    response = client.post("/api/v1/nominations", headers=auth(STAFF))
    assert {e["field"] for e in assert_problem(response, 422)["errors"]} == {"unit_id"}


def test_malformed_json_is_400(client, auth):
    # RFC 9110: a body that is not JSON at all is a bad request; well-formed but invalid input is 422.
    response = client.post("/api/v1/nominations", headers={**auth(STAFF), "Content-Type": "application/json"},
                           data="{not json")
    assert_problem(response, 400)


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/nominations/X/nope"])
def test_unknown_api_path_is_a_problem(client, auth, path):
    assert_problem(client.get(path, headers=auth(STAFF)), 404)


def test_wrong_method_is_a_problem(client, auth):
    assert_problem(client.delete("/api/v1/nominations", headers=auth(STAFF)), 405)


# Process versions are the published procedure: every signed-in user may read them (the diagram viewer),
# only anonymous callers are refused (above). Editing them is /admin/processes, admins only.

@pytest.mark.parametrize("user", [STAFF, "chutich.tinh"])
def test_signed_in_users_list_versions_and_download_bpmn(client, auth, user):
    versions = client.get("/api/v1/processes", headers=auth(user)).get_json()
    assert {(v["process_id"], v["version"], v["active"]) for v in versions} >= {
        ("nomination", 1, True), ("award_decision", 1, True)}
    assert all("bpmn" not in v for v in versions)
    response = client.get("/api/v1/processes/nomination/versions/1/bpmn", headers=auth(user))
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert b"<bpmn:definitions" in response.data or b"definitions" in response.data[:2000]


def test_unknown_process_version_is_404(client, auth):
    assert_problem(client.get("/api/v1/processes/nomination/versions/99/bpmn", headers=auth(STAFF)), 404)
