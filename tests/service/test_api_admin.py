"""Administration (units, users, roles, substitutes, audit), API tokens and /me."""

from __future__ import annotations

import pytest

from service.usecases.accounts import authenticate

from .helpers import (
    ADMIN,
    CHAIRMAN,
    DOST_LEAD,
    HA_LEAD,
    HEAD,
    HIEN_NAM,
    OTHER_HEAD,
    STAFF,
    assert_problem,
    create_nomination,
    error_fields,
    user_id,
)

NOT_ADMINS = [STAFF, HEAD, DOST_LEAD, HA_LEAD, CHAIRMAN]
NEW_UNIT = {"id": "xa-tan-hung", "name": "Ủy ban nhân dân xã Tân Hưng", "kind": "commune_ward",
            "email": "tanhung@example.vn"}
NEW_USER = {"username": "canbo.tanhung", "full_name": "Mai Văn Tâm", "role": "unit_staff", "unit_id": "xa-tan-hung"}


# --- units ---------------------------------------------------------------------------------------------

def test_admin_lists_and_creates_units(client, auth):
    units = client.get("/api/v1/units", headers=auth(ADMIN)).get_json()
    assert {"id": HIEN_NAM, "name": "Ủy ban nhân dân phường Hiến Nam", "kind": "commune_ward",
            "email": None} in units
    response = client.post("/api/v1/units", headers=auth(ADMIN), json=NEW_UNIT)
    assert response.status_code == 201 and response.get_json() == {"id": "xa-tan-hung"}
    assert NEW_UNIT in client.get("/api/v1/units", headers=auth(ADMIN)).get_json()
    assert_problem(client.post("/api/v1/units", headers=auth(ADMIN), json=NEW_UNIT), 409)


def test_unit_input_is_checked_per_field(client, auth):
    response = client.post("/api/v1/units", headers=auth(ADMIN),
                           json={"id": "Xã Tân Hưng", "name": "", "kind": "planet", "email": "no", "x": 1})
    assert_problem(response, 422)
    assert error_fields(response) == {"id", "name", "kind", "email", "x"}


@pytest.mark.parametrize("user", NOT_ADMINS)
def test_units_are_admin_only(client, auth, user):
    assert_problem(client.get("/api/v1/units", headers=auth(user)), 403)
    assert_problem(client.post("/api/v1/units", headers=auth(user), json=NEW_UNIT), 403)


# --- users and roles -----------------------------------------------------------------------------------

def test_admin_creates_a_user_whose_password_is_shown_once(client, auth, runtime):
    client.post("/api/v1/units", headers=auth(ADMIN), json=NEW_UNIT)
    response = client.post("/api/v1/users", headers=auth(ADMIN), json=NEW_USER)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["roles"] == [{"role": "unit_staff", "unit_id": "xa-tan-hung"}]
    assert len(created["password"]) >= 10
    assert authenticate(runtime, "canbo.tanhung", created["password"]) == created["id"]

    listed = client.get("/api/v1/users", headers=auth(ADMIN)).get_json()
    [shown] = [u for u in listed if u["username"] == "canbo.tanhung"]
    assert "password" not in shown and "password_hash" not in shown
    assert all("password_hash" not in u for u in listed)
    # The new member of staff drafts for the new unit.
    assert create_nomination(client, auth, staff="canbo.tanhung", unit_id="xa-tan-hung", data={})
    assert_problem(client.post("/api/v1/users", headers=auth(ADMIN), json=NEW_USER), 409)


@pytest.mark.parametrize("body,fields", [
    ({**NEW_USER, "role": "emperor"}, {"role"}),
    ({**NEW_USER, "unit_id": None}, {"unit_id"}),
    ({**NEW_USER, "unit_id": "nowhere"}, {"unit_id"}),
    ({"username": "a b", "role": "unit_staff", "language": "fr", "email": "x"},
     {"username", "full_name", "language", "email"}),
])
def test_user_input_is_checked_per_field(client, auth, body, fields):
    response = client.post("/api/v1/users", headers=auth(ADMIN), json=body)
    assert_problem(response, 422)
    assert error_fields(response) == fields


def test_admin_grants_roles(client, auth, runtime):
    head = user_id(runtime, OTHER_HEAD)
    url = f"/api/v1/users/{head}/roles"
    response = client.post(url, headers=auth(ADMIN), json={"role": "unit_head", "unit_id": HIEN_NAM})
    assert response.status_code == 200
    assert {"role": "unit_head", "unit_id": HIEN_NAM} in response.get_json()["roles"]
    assert client.post(url, headers=auth(ADMIN), json={"role": "unit_head", "unit_id": HIEN_NAM}).status_code == 200
    me = client.get("/api/v1/me", headers=auth(OTHER_HEAD)).get_json()
    assert HIEN_NAM in me["units"]
    assert_problem(client.post(url, headers=auth(ADMIN), json={"role": "unit_head"}), 422)
    assert_problem(client.post("/api/v1/users/999999/roles", headers=auth(ADMIN), json={"role": "chairman"}), 404)


@pytest.mark.parametrize("user", NOT_ADMINS)
def test_users_and_roles_are_admin_only(client, auth, runtime, user):
    assert_problem(client.get("/api/v1/users", headers=auth(user)), 403)
    assert_problem(client.post("/api/v1/users", headers=auth(user), json={**NEW_USER, "unit_id": HIEN_NAM}), 403)
    own = user_id(runtime, user)
    assert_problem(client.post(f"/api/v1/users/{own}/roles", headers=auth(user), json={"role": "admin"}), 403)
    assert client.get("/api/v1/me", headers=auth(user)).get_json()["roles"][0]["role"] != "admin"


# --- substitutes ---------------------------------------------------------------------------------------

def substitute(client, auth, runtime, caller, absent=HEAD, stand_in=OTHER_HEAD, starts="2026-04-14",
               ends="2026-04-20"):
    return client.post("/api/v1/substitutes", headers=auth(caller), json={
        "absent_id": user_id(runtime, absent), "substitute_id": user_id(runtime, stand_in),
        "starts_on": starts, "ends_on": ends})


def test_admin_or_the_absent_person_names_a_substitute(client, auth, runtime):
    assert substitute(client, auth, runtime, ADMIN).status_code == 201
    assert substitute(client, auth, runtime, HEAD).status_code == 201  # for one's own leave


@pytest.mark.parametrize("user", [STAFF, OTHER_HEAD, DOST_LEAD, CHAIRMAN])
def test_nobody_else_names_substitutes(client, auth, runtime, user):
    assert_problem(substitute(client, auth, runtime, user), 403)


def test_substitute_input_is_checked(client, auth, runtime):
    assert_problem(substitute(client, auth, runtime, ADMIN, starts="2026-04-20", ends="2026-04-14"), 422)
    assert_problem(substitute(client, auth, runtime, ADMIN, stand_in=HEAD), 422)
    response = client.post("/api/v1/substitutes", headers=auth(ADMIN), json={"absent_id": "x", "starts_on": "soon"})
    assert_problem(response, 422)
    assert error_fields(response) == {"absent_id", "substitute_id", "starts_on", "ends_on"}
    response = client.post("/api/v1/substitutes", headers=auth(ADMIN), json={
        "absent_id": 999999, "substitute_id": user_id(runtime, HEAD), "starts_on": "2026-04-14",
        "ends_on": "2026-04-15"})
    assert_problem(response, 404)


# --- audit ---------------------------------------------------------------------------------------------

def test_admin_reads_the_audit_log(client, auth):
    nomination_id = create_nomination(client, auth)
    create_nomination(client, auth)
    trail = client.get(f"/api/v1/audit?nomination_id={nomination_id}", headers=auth(ADMIN)).get_json()
    assert trail and {e["nomination_id"] for e in trail} == {nomination_id}
    assert trail[-1]["kind"] == "nomination_created"  # newest first
    everything = client.get("/api/v1/audit?kind=token_created", headers=auth(ADMIN)).get_json()
    assert everything and {e["kind"] for e in everything} == {"token_created"}
    response = client.get("/api/v1/audit?limit=0", headers=auth(ADMIN))
    assert error_fields(response) == {"limit"}


@pytest.mark.parametrize("user", NOT_ADMINS)
def test_the_audit_log_is_admin_only(client, auth, user):
    assert_problem(client.get("/api/v1/audit", headers=auth(user)), 403)


# --- me and tokens -------------------------------------------------------------------------------------

def test_me(client, auth, runtime):
    me = client.get("/api/v1/me", headers=auth(HEAD)).get_json()
    assert me == {**me, "id": user_id(runtime, HEAD), "username": HEAD, "language": "vi", "units": [HIEN_NAM],
                  "roles": [{"role": "unit_head", "unit_id": HIEN_NAM}], "acting_for": []}
    assert client.get("/api/v1/me", headers=auth(CHAIRMAN)).get_json()["units"] == []


def test_token_lifecycle(client, auth):
    response = client.post("/api/v1/tokens", headers=auth(STAFF), json={"name": "máy tính bảng"})
    assert response.status_code == 201
    created = response.get_json()
    token = created["token"]
    assert token.startswith("nf_") and created["name"] == "máy tính bảng"
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).get_json()["username"] == STAFF

    listed = client.get("/api/v1/tokens", headers=bearer).get_json()
    assert {t["name"] for t in listed} == {"test", "máy tính bảng"}
    assert all(set(t) == {"id", "name", "created_at", "expires_at", "last_used_at", "revoked"} for t in listed)
    assert next(t for t in listed if t["id"] == created["id"])["last_used_at"] is not None
    assert [t["name"] for t in client.get("/api/v1/tokens", headers=auth(HEAD)).get_json()] == ["test"]

    assert client.delete(f"/api/v1/tokens/{created['id']}", headers=auth(STAFF)).status_code == 204
    assert_problem(client.get("/api/v1/me", headers=bearer), 401)
    assert_problem(client.get("/api/v1/nominations", headers=bearer), 401)
    revoked = [t for t in client.get("/api/v1/tokens", headers=auth(STAFF)).get_json() if t["revoked"]]
    assert [t["id"] for t in revoked] == [created["id"]]


def test_nobody_revokes_someone_elses_token(client, auth):
    created = client.post("/api/v1/tokens", headers=auth(STAFF), json={"name": "x"}).get_json()
    for user in (HEAD, OTHER_HEAD, CHAIRMAN):
        assert_problem(client.delete(f"/api/v1/tokens/{created['id']}", headers=auth(user)), 404)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"}).status_code == 200
    assert client.delete(f"/api/v1/tokens/{created['id']}", headers=auth(ADMIN)).status_code == 204


def test_token_name_is_checked(client, auth):
    for body, fields in (({}, {"name"}), ({"name": ""}, {"name"}), ({"name": "x" * 101, "scope": "all"},
                                                                       {"name", "scope"})):
        response = client.post("/api/v1/tokens", headers=auth(STAFF), json=body)
        assert_problem(response, 422)
        assert error_fields(response) == fields
