"""Probes for a load balancer or systemd: unauthenticated, tiny JSON, never a page.

/healthz: the process answers (it touches nothing else, so a database outage does not get the
process restarted). /readyz: the database answers and its schema is at the newest migration, so
this process can serve requests (503 with Retry-After otherwise)."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from service.core.errors import Unavailable
from service.db.migrate import MIGRATIONS
from service.db.session import describe

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@cache
def head_revisions() -> frozenset[str]:
    """The newest migration(s) this code ships: read from the scripts once per process."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


@bp.route("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz() -> Any:
    database = current_app.extensions["nomflow"].db
    try:
        with database.engine.connect() as connection:
            current = frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
                                if inspect(connection).has_table("alembic_version") else ())
    except SQLAlchemyError as exc:
        log.error("readyz: database unavailable: %s", describe(exc))
        return _not_ready(database="unavailable", migrations="unknown")
    if current != head_revisions():
        return _not_ready(database="ok", migrations="behind" if current else "none",
                          current=sorted(current), head=sorted(head_revisions()))
    return jsonify(status="ready", database="ok", migrations="head")


def _not_ready(**detail: Any) -> Any:
    response = jsonify(status="unavailable", **detail)
    response.status_code = 503
    response.headers["Retry-After"] = str(Unavailable.retry_after)
    return response
