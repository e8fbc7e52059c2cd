"""Scheduler fixtures: the service fixtures (each test on SQLite and on PostgreSQL), a real SMTP
server on loopback, and helpers that drive nominations through the use cases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from service.core.runtime import Runtime
from tests.service.conftest import *  # noqa: F403 - app, runtime, client, clock, database_url, postgres_server …

from .smtp_sink import SmtpSink


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_runtime(runtime: Runtime, smtp: SmtpSink) -> Runtime:
    """The runtime with the loopback SMTP server configured (plain SMTP, no login)."""
    runtime.config = replace(runtime.config, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
                             mail_from="nomflow <no-reply@nomflow.hungyen.gov.vn>")
    return runtime
