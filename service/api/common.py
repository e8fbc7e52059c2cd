"""Helpers shared by the API blueprints."""

from __future__ import annotations

from flask import abort

from ..access import Actor
from ..auth import current_actor


def actor_required() -> Actor:
    actor = current_actor()
    if actor is None:
        abort(401)
    return actor
