"""Helpers shared by the API blueprints."""

from __future__ import annotations

from flask import abort

from service.security.access import Actor
from service.security.auth import NOT_SIGNED_IN, current_actor


def actor_required() -> Actor:
    actor = current_actor()
    if actor is None:
        abort(401, description=NOT_SIGNED_IN)
    return actor
