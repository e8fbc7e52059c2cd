"""Scheduler fixtures: the service fixtures (each test on SQLite and on PostgreSQL), a real SMTP
server on loopback, and helpers that drive nominations through the use cases."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import update

from service.core.runtime import Runtime
from service.db.models import User
from tests.service.conftest import *  # noqa: F403 - app, runtime, client, clock, database_url, postgres_server …

from . import worker_process
from .smtp_sink import SmtpSink


@pytest.fixture(autouse=True)
def digest_only(request: pytest.FixtureRequest) -> None:
    """These tests count the reminders, escalations, notices and digests they cause; the mail a
    step sends at once to the next desk (usecases/arrivals.py) is tested in test_arrivals.py, so
    here everyone has chosen the morning digest only."""
    if "runtime" not in request.fixturenames:
        return
    runtime: Runtime = request.getfixturevalue("runtime")
    with runtime.uow() as uow:
        uow.session.execute(update(User).values(mail_immediately=False))
        uow.commit()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def start_worker() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Starts `nomflow worker` (or serve) processes, see worker_process.start_worker, and kills
    whatever is still running when the test ends, so a failing test leaves no process behind."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(worker_process.start_worker(*args, **kwargs))
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture
def mail_runtime(runtime: Runtime, smtp: SmtpSink) -> Runtime:
    """The runtime with the loopback SMTP server configured (plain SMTP, no login)."""
    runtime.config = replace(runtime.config, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
                             mail_from="nomflow <no-reply@nomflow.hungyen.gov.vn>")
    return runtime
