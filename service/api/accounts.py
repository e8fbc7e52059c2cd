"""The caller's own account: who am I, and my API tokens."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from service.api.common import actor_required
from service.api.schemas import MeOut, TokenCreate, TokenCreated, TokenOut
from service.reads import api as queries
from service.security.auth import runtime
from service.usecases import accounts

PREFIX = ""
blp = Blueprint("accounts", __name__, description="Tài khoản của tôi (my account, API tokens)")


@blp.route("/me", methods=["GET"])
@blp.response(200, MeOut)
def me() -> Any:
    return queries.me(runtime(), actor_required())


@blp.route("/tokens", methods=["GET"])
@blp.response(200, TokenOut(many=True))
def list_tokens() -> Any:
    return queries.my_tokens(runtime(), actor_required())


@blp.route("/tokens", methods=["POST"])
@blp.arguments(TokenCreate)
@blp.response(201, TokenCreated)
def create_token(body: dict[str, Any]) -> Any:
    """The token is in this response only; keep it, it cannot be shown again. It stops working at
    `expires_at`, when revoked, and when its owner is locked or deactivated."""
    return accounts.issue_token(runtime(), actor_required(), body["name"], body["expires_in_days"])


@blp.route("/tokens/<int:token_id>", methods=["DELETE"])
@blp.response(204)
def revoke_token(token_id: int) -> None:
    accounts.revoke_token(runtime(), actor_required(), token_id)
