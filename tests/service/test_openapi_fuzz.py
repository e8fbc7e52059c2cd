"""The published OpenAPI document matches what the API does (issue 14, item 14): schemathesis generates
requests for every operation from /api/openapi.json and sends each with a token of every role to the
Flask app in-process (WSGI, SQLite). Any 5xx, undocumented status, media type, header or response body
that does not fit its schema fails the test. Examples are bounded so that the whole run stays short."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from service.app import create_app
from service.core.config import ServiceConfig
from service.core.runtime import Runtime
from service.db.models import User
from service.usecases.accounts import actor_for_user, create_token
from tests.service.conftest import VN, SeededTemplates
from tests.service.helpers import (
    ADMIN,
    CHAIRMAN,
    DOST_LEAD,
    DOST_OFFICER,
    HA_LEAD,
    HA_OFFICER,
    HEAD,
    STAFF,
    create_nomination,
)
from workflows.clock import FixedClock

ROLES = [STAFF, HEAD, DOST_OFFICER, DOST_LEAD, HA_OFFICER, HA_LEAD, CHAIRMAN, ADMIN]  # one user per role
# Per operation and generation mode; each example is sent once per role (NOMFLOW_FUZZ_EXAMPLES for more).
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


class Tokens:
    """A Bearer token per demo user, issued again when a generated request revoked it."""

    def __init__(self, runtime: Runtime):
        self.runtime, self.headers = runtime, {}

    def __call__(self, username: str) -> dict[str, str]:
        if username not in self.headers:
            with self.runtime.uow() as uow:
                user_id = uow.session.scalars(select(User.id).where(User.username == username)).one()
            found = actor_for_user(self.runtime, user_id)
            assert found is not None
            self.headers[username] = {"Authorization": "Bearer " + create_token(self.runtime, found[0], "fuzz")}
        return self.headers[username]

    def forget(self, username: str) -> None:
        self.headers.pop(username, None)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, seeded_templates: SeededTemplates) -> Iterator[Flask]:
    """One app for the whole run, on a copy of the seeded demo database (SQLite)."""
    directory: Path = tmp_path_factory.mktemp("fuzz")
    start = datetime(2026, 4, 13, 9, 0, tzinfo=VN)
    shutil.copyfile(seeded_templates.sqlite(start), directory / "fuzz.sqlite3")
    config = ServiceConfig(instance_dir=directory, database_url=f"sqlite:///{directory / 'fuzz.sqlite3'}",
                           testing=True, secret_key="fuzz", scheduler_in_process=False)
    app = create_app(config, clock=FixedClock(start))
    yield app
    app.extensions["nomflow"].db.dispose()


def _operations(app: Flask) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_answers_as_documented_for_every_role(fuzz_app: Flask) -> None:
    runtime: Runtime = fuzz_app.extensions["nomflow"]
    tokens = Tokens(runtime)
    client = fuzz_app.test_client()
    create_nomination(client, tokens)  # something to find, so that 200s are exercised too
    operations = _operations(fuzz_app)
    assert len(operations) >= 40
    failures: list[str] = []
    for operation in operations:
        for mode in EXAMPLES:
            failures.extend(_fuzz(operation, mode, tokens))
    assert failures == [], "\n".join(failures[:20])


def _fuzz(operation: Any, mode: GenerationMode, tokens: Tokens) -> list[str]:
    failures: list[str] = []

    examples = int(os.environ.get("NOMFLOW_FUZZ_EXAMPLES", 0)) or EXAMPLES[mode]

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        for user in ROLES:
            headers = {**(case.headers or {}), **tokens(user)}
            response = case.call(headers=headers)
            if response.status_code == 401:  # the case revoked this token (DELETE /tokens/{id})
                tokens.forget(user)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (AssertionError, BaseExceptionGroup) as exc:  # a check failed (FailureGroup: several)
                failures.append(f"{operation.label} [{mode.value}, {user}] {case.method} {case.formatted_path}: "
                                f"{str(exc)[:600]}")

    with contextlib.suppress(Unsatisfiable):  # nothing to generate in this mode (no invalid form of it)
        run()
    return failures


def test_the_document_says_what_is_sent(fuzz_app: Flask) -> None:
    spec = fuzz_app.test_client().get("/api/openapi.json").get_json()
    assert spec["security"] == [{"bearer": []}]
    for name, response in spec["components"]["responses"].items():
        assert set(response.get("content", {})) <= {"application/problem+json"}, name
    uploads = spec["paths"]["/api/v1/nominations/{nomination_id}/attachments"]["post"]["requestBody"]["content"]
    assert uploads["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    diagram = spec["paths"]["/api/v1/admin/processes/validate"]["post"]["requestBody"]["content"]
    assert set(diagram) == {"multipart/form-data", "application/xml"}
