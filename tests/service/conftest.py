"""Service fixtures: an app on a fresh database with the demo organisation, a movable clock, and
API tokens per demo user."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.app import create_app
from service.config import ServiceConfig
from service.db.models import User
from service.runtime import Runtime
from service.usecases.accounts import actor_for_user, create_token
from service.usecases.setup import init_db, seed_demo
from workflows.clock import FixedClock

VN = timezone(timedelta(hours=7))
DEMO_PASSWORD = "demo-password-1"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 4, 13, 9, 0, tzinfo=VN))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'nomflow.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, clock: FixedClock, database_url: str) -> Iterator[Flask]:
    config = ServiceConfig(instance_dir=tmp_path, database_url=database_url, testing=True,
                           secret_key="test-secret", scheduler_in_process=False)
    app = create_app(config, clock=clock)
    runtime: Runtime = app.extensions["nomflow"]
    init_db(runtime)
    seed_demo(runtime, DEMO_PASSWORD)
    yield app
    runtime.db.dispose()


@pytest.fixture
def runtime(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["nomflow"]
    return rt


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(runtime: Runtime):
    """auth("canbo.hiennam") → headers with a fresh Bearer token of that demo user."""
    cache: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in cache:
            with runtime.uow() as uow:
                user_id = uow.session.scalars(select(User.id).where(User.username == username)).one()
            found = actor_for_user(runtime, user_id)
            assert found is not None
            cache[username] = {"Authorization": "Bearer " + create_token(runtime, found[0], "test")}
        return cache[username]

    return headers
