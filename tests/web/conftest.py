"""Browser tests: the real app served on 127.0.0.1 by werkzeug in a thread, with a FixedClock and the
demo organisation, driven by Playwright through Debian's Chromium (`playwright install` cannot
download a browser here). Every page visited is saved as a full-page screenshot."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from service.app import create_app
from service.core.config import ROOT, ServiceConfig
from service.core.runtime import Runtime
from service.db.models import User
from service.security.access import Actor
from service.usecases.accounts import actor_for_user
from service.usecases.setup import init_db, seed_demo
from tests.support.pki import LocalPki, local_pki
from tests.support.postgres import free_port
from workflows.clock import FixedClock

VN = timezone(timedelta(hours=7))
PASSWORD = "demo-password-1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--lang=vi-VN"]  # date inputs show dd/mm/yyyy, as for the people who use the pages
SCREENSHOTS = ROOT / "test-output" / "screenshots"


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    clock: FixedClock

    def actor(self, username: str) -> Actor:
        with self.runtime.uow() as uow:
            user_id = uow.session.scalars(select(User.id).where(User.username == username)).one()
        found = actor_for_user(self.runtime, user_id)
        assert found is not None
        return found[0]


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPki]:
    """A demo PKI (CA, TSA, OCSP, CRL) on loopback, for the pages that sign decisions."""
    with local_pki(tmp_path_factory.mktemp("pki"), free_port()) as running:
        yield running


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("web")
    clock = FixedClock(datetime(2026, 4, 13, 9, 0, tzinfo=VN))
    # The fake clock jumps days between steps of a journey; the browser's session must outlive the jumps.
    config = ServiceConfig(instance_dir=folder, database_url=f"sqlite:///{folder / 'nomflow.sqlite3'}",
                           testing=True, secret_key="web-test-secret", scheduler_in_process=False,
                           session_idle_minutes=60 * 24 * 365, session_max_days=3650)
    app = create_app(config, clock=clock)
    runtime: Runtime = app.extensions["nomflow"]
    init_db(runtime)
    seed_demo(runtime, PASSWORD)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="web-test-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", runtime, clock)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        runtime.db.dispose()


# Reports every Content-Security-Policy violation of the page to the console, where CspWatch reads it.
# Injected over the DevTools protocol, so the policy under test does not apply to this script itself.
CSP_REPORTER = """document.addEventListener('securitypolicyviolation', e => console.error(
  'CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' +
  e.lineNumber));"""


class CspWatch:
    """The browser, whose pages each report the Content-Security-Policy violations they meet (the
    console's "Refused to ..." lines and securitypolicyviolation events) into `violations`."""

    def __init__(self, browser: object):
        self.browser, self.violations = browser, []  # type: list[str]

    def new_page(self, **kwargs: object) -> object:
        page = self.browser.new_page(**kwargs)  # type: ignore[attr-defined]
        page.add_init_script(CSP_REPORTER)
        page.on("console", lambda message: self._console(page, message))
        return page

    def _console(self, page: object, message: object) -> None:
        text = message.text  # type: ignore[attr-defined]
        if "Content Security Policy" in text or text.startswith("CSP violation"):
            self.violations.append(f"{page.url}: {text}")  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.browser, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[CspWatch]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield CspWatch(chromium)
        finally:
            chromium.close()


@pytest.fixture(autouse=True)
def no_csp_violations(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every browser test fails on a page that the Content-Security-Policy broke, whatever it checks."""
    if "browser" not in request.fixturenames:
        yield
        return
    watch: CspWatch = request.getfixturevalue("browser")
    watch.violations.clear()
    yield
    assert not watch.violations, "Content-Security-Policy violations:\n" + "\n".join(watch.violations)


class Screenshots:
    """Numbered full-page screenshots, in the order the pages were seen."""

    def __init__(self, folder: Path):
        self.folder, self.count, self.taken = folder, 0, []

    def take(self, page: object, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        self.taken.append(path)
        return path


@pytest.fixture(scope="session")
def screenshot_folder() -> Path:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def shots(screenshot_folder: Path, request: pytest.FixtureRequest) -> Screenshots:
    folder = screenshot_folder / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return Screenshots(folder)


# --- fixtures for the pages without a browser (Flask's test client) -------------------------------------

def _config(folder: Path) -> ServiceConfig:
    return ServiceConfig(instance_dir=folder, database_url=f"sqlite:///{folder / 'nomflow.sqlite3'}",
                         testing=True, secret_key="pages-test-secret", scheduler_in_process=False)


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The schema, the shipped diagrams and the demo organisation, made once: hashing a dozen
    passwords for every test would cost seconds each."""
    folder = tmp_path_factory.mktemp("seeded")
    runtime = Runtime(_config(folder), clock=FixedClock(datetime(2026, 4, 13, 9, 0, tzinfo=VN)))
    init_db(runtime)
    seed_demo(runtime, PASSWORD)
    runtime.db.dispose()  # closing the last connection folds the WAL back into the file
    return folder / "nomflow.sqlite3"


@pytest.fixture
def app(tmp_path: Path, seeded_database: Path) -> Iterator[object]:
    shutil.copyfile(seeded_database, tmp_path / "nomflow.sqlite3")
    flask_app = create_app(_config(tmp_path), clock=FixedClock(datetime(2026, 4, 13, 9, 0, tzinfo=VN)))
    runtime: Runtime = flask_app.extensions["nomflow"]
    yield flask_app
    runtime.db.dispose()


@pytest.fixture
def runtime(app: object) -> Runtime:
    rt: Runtime = app.extensions["nomflow"]  # type: ignore[attr-defined]
    return rt


def actor_of(runtime: Runtime, username: str) -> Actor:
    with runtime.uow() as uow:
        user_id = uow.session.scalars(select(User.id).where(User.username == username)).one()
    found = actor_for_user(runtime, user_id)
    assert found is not None
    return found[0]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def log_in(client: object, username: str) -> str:
    """Logs the test client in; returns a CSRF token for later posts."""
    page = client.get("/login")  # type: ignore[attr-defined]
    token = csrf_of(page.text)
    done = client.post("/login", data={"csrf_token": token, "username": username,  # type: ignore[attr-defined]
                                       "password": PASSWORD})
    assert done.status_code == 302, done.text[:500]
    return csrf_of(client.get("/inbox").text)  # type: ignore[attr-defined]
