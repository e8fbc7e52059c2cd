"""Administration: units, users (roles, lock, unlock, deactivate), the whole audit log. Admins only."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from service.api.common import actor_required
from service.api.schemas import (
    AuditEntryOut,
    AuditQuery,
    Created,
    LockIn,
    RoleGrant,
    UnitIn,
    UnitOut,
    UserCreate,
    UserCreated,
    UserOut,
)
from service.reads import api as queries
from service.security.auth import runtime
from service.usecases import account_status, admin

PREFIX = ""
blp = Blueprint("admin", __name__, description="Quản trị")


@blp.route("/units", methods=["GET"])
@blp.response(200, UnitOut(many=True))
def list_units() -> Any:
    return queries.list_units(runtime(), actor_required())


@blp.route("/units", methods=["POST"])
@blp.arguments(UnitIn)
@blp.response(201, Created)
def create_unit(body: dict[str, Any]) -> Any:
    return {"id": admin.create_unit(runtime(), actor_required(), body["id"], body["name"], body["kind"],
                                    body["email"])}


@blp.route("/users", methods=["GET"])
@blp.response(200, UserOut(many=True))
def list_users() -> Any:
    return queries.list_users(runtime(), actor_required())


@blp.route("/users", methods=["POST"])
@blp.arguments(UserCreate)
@blp.response(201, UserCreated)
def create_user(body: dict[str, Any]) -> Any:
    """The generated password is in this response only."""
    return admin.create_user(runtime(), actor_required(), body["username"], body["full_name"], body["role"],
                             body["unit_id"], body["email"], body["language"])


@blp.route("/users/<int:user_id>/roles", methods=["POST"])
@blp.arguments(RoleGrant)
@blp.response(200, UserOut)
def grant_role(body: dict[str, Any], user_id: int) -> Any:
    return admin.grant_role(runtime(), actor_required(), user_id, body["role"], body["unit_id"])


@blp.route("/users/<int:user_id>/lock", methods=["POST"])
@blp.arguments(LockIn)
@blp.response(200, UserOut)
def lock_user(body: dict[str, Any], user_id: int) -> Any:
    """Refuses log-in until `until` or an unlock; ends the user's sessions and API tokens."""
    return account_status.lock_user(runtime(), actor_required(), user_id, body["until"])


@blp.route("/users/<int:user_id>/unlock", methods=["POST"])
@blp.response(200, UserOut)
def unlock_user(user_id: int) -> Any:
    """Lifts a lock and forgets the failed log-ins counted against the username."""
    return account_status.unlock_user(runtime(), actor_required(), user_id)


@blp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@blp.response(200, UserOut)
def deactivate_user(user_id: int) -> Any:
    """Ends the account's sessions, tokens and substitutions; its history stays."""
    return account_status.deactivate_user(runtime(), actor_required(), user_id)


@blp.route("/audit", methods=["GET"])
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditEntryOut(many=True))
def audit_trail(args: dict[str, Any]) -> Any:
    return queries.audit_trail(runtime(), actor_required(), **args)
