"""Tests run on a real database: SQLite by default, PostgreSQL when FENQI_TEST_DATABASE_URL says so.

The schema is built once per run by the migrations themselves; each test runs inside a transaction
that is rolled back at the end (services' own commits become savepoints).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

_TMP = tempfile.mkdtemp(prefix="fenqi-test-")
# Every property of the suite: no per-example deadline and no "too slow" health check. On a loaded CI machine
# a pure example can take longer than hypothesis's 200 ms; speed is measured in bench/, not in tests.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

TEST_URL = os.environ.get("FENQI_TEST_DATABASE_URL") or f"sqlite:///{_TMP}/test.db"
# Everything that reads settings (the app, the CLI in-process) sees the test database.
os.environ["FENQI_DATABASE_URL"] = TEST_URL
os.environ.setdefault("FENQI_ENV", "test")

from fenqi.kit import db as kit_db  # noqa: E402
from fenqi.kit.migrate import upgrade  # noqa: E402
from fenqi.kit.web import get_lazy_session, get_session  # noqa: E402

IS_POSTGRES = TEST_URL.startswith("postgresql")


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    eng = kit_db.get_engine()
    if IS_POSTGRES:
        _reset_postgres(eng)
    upgrade(TEST_URL)
    from fenqi.wiring import install

    install()  # as every entry point does at start-up (the app factory, the CLI, workers)
    yield eng
    eng.dispose()


@pytest.fixture()
def session(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    outer = connection.begin()
    sess = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def shared_app(engine: Engine) -> Any:
    """One app for the tests that use `client`: building one costs about a second (FastAPI resolves every
    route's dependencies), and the app holds no state of its own — its state is the database's."""
    from fenqi.api import create_app

    return create_app()


@pytest.fixture()
def client(session: Session, shared_app: Any) -> Iterator[TestClient]:
    """The real ASGI app over the test's transaction."""

    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    shared_app.dependency_overrides[get_session] = _session
    shared_app.dependency_overrides[get_lazy_session] = _session
    try:
        with TestClient(shared_app, raise_server_exceptions=False) as c:
            yield c
    finally:
        shared_app.dependency_overrides.clear()


@pytest.fixture()
def artifacts_dir() -> Path:
    path = Path(os.environ.get("FENQI_TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- identity: credentials for tests (owned by identity) ---------------------------------------------


@pytest.fixture()
def auth_headers(session: Session) -> Callable[..., dict[str, str]]:
    """`auth_headers(role, merchant_id=None)` → {"Authorization": "Bearer <key>"} for a new user with
    that role (and merchant), created in the test's transaction."""
    from fenqi.identity.service import create_api_key, create_user

    def make(role: str, merchant_id: int | None = None) -> dict[str, str]:
        user = create_user(session, role=role, display_name=f"测试 {role}", merchant_id=merchant_id)
        _, key = create_api_key(session, user, name="test")
        return {"Authorization": f"Bearer {key}"}

    return make


# --- browser tests (owned by identity) ----------------------------------------------------------------
# Playwright drives Debian's /usr/bin/chromium (never `playwright install`) against the real app, served by
# uvicorn in a thread on a free port over the test database. Browser tests commit through that server, so
# they run after every other test (and tests of other live servers just before them); they are skipped
# only when chromium is not installed.

import re  # noqa: E402

CHROMIUM = Path(os.environ.get("FENQI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
BROWSER_PASSWORD = "browser-pass-1"
NO_CHROMIUM = f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium, or scripts/system-deps)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that commit through a live server (any `live_server` fixture) run after the tests that roll
    back, so that what they leave in the database cannot change those tests' figures; browser tests last."""

    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("browser"):
            return 2
        return 1 if "live_server" in getattr(item, "fixturenames", ()) else 0

    items.sort(key=rank)  # stable: the order within each group is kept
    if not CHROMIUM.exists():
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report  # browser fixtures screenshot failed tests for the artifacts
    return report


def _screenshot_if_failed(request: pytest.FixtureRequest, pages: list[Any], artifacts: Path) -> None:
    report = request.node.stash.get(_CALL_REPORT, None)
    if report is not None and report.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for i, page in enumerate(pages):
            page.screenshot(path=str(artifacts / f"FAILED-{name}-{i}.png"), full_page=True)


@pytest.fixture(scope="session")
def live_server(engine: Engine) -> Iterator[str]:
    """The whole app over HTTP on 127.0.0.1:<free port>; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from fenqi.api import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # bound here and handed over: no race for the port
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", lifespan="off", log_config=None,
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="live-server")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _new_page(browser: Any, live_server: str, mobile: bool) -> Any:
    viewport = {"width": 390, "height": 844} if mobile else {"width": 1280, "height": 860}
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=viewport,
                                  timezone_id="Asia/Shanghai", is_mobile=mobile, has_touch=mobile)
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.fixture()
def browser_page(
    browser: Any, live_server: str, request: pytest.FixtureRequest, artifacts_dir: Path
) -> Iterator[Any]:
    """A fresh, signed-out desktop page (its own cookies) whose relative URLs go to the live server."""
    page = _new_page(browser, live_server, mobile=False)
    yield page
    _screenshot_if_failed(request, [page], artifacts_dir)
    page.context.close()


def _browser_user(role: str, merchant_id: int | None = None) -> str:
    """The committed user `browser.<role>` (password BROWSER_PASSWORD; the shopper has phone 13900139000),
    created on first use. Returns the username (for the shopper: the phone number)."""
    from sqlalchemy import select

    from fenqi.identity.models import User
    from fenqi.identity.roles import LABELS, SHOPPER
    from fenqi.identity.service import create_user, user_by_phone

    if role == SHOPPER:
        phone = "13900139000"
        with kit_db.session_scope() as s:
            if user_by_phone(s, phone) is None:
                create_user(s, role=SHOPPER, display_name="浏览器测试顾客", phone=phone)
        return phone
    username = f"browser.{role}"
    with kit_db.session_scope() as s:
        if s.scalar(select(User.id).where(User.username == username)) is None:
            create_user(s, role=role, display_name=f"测试{LABELS[role][0]}", username=username,
                        password=BROWSER_PASSWORD, merchant_id=merchant_id)
    return username


@pytest.fixture()
def browser_user(live_server: str) -> Callable[..., tuple[str, str]]:
    """`browser_user(role, merchant_id=None)` → (login, password) of a committed user the live server
    knows: `browser.<role>` with BROWSER_PASSWORD, or for "shopper" the phone number and "" (codes come
    from the notification outbox)."""

    def make(role: str, merchant_id: int | None = None) -> tuple[str, str]:
        login = _browser_user(role, merchant_id)
        return login, "" if role == "shopper" else BROWSER_PASSWORD

    return make


@pytest.fixture()
def page_as(
    browser: Any, live_server: str, request: pytest.FixtureRequest, artifacts_dir: Path
) -> Iterator[Callable[..., Any]]:
    """`page_as(role, merchant_id=None)` → a page already signed in as `browser.<role>` (a real session
    cookie; the sign-in form itself is tested in tests/identity/test_identity_browser_login.py). Shoppers get a
    phone-sized viewport."""
    from sqlalchemy import select

    from fenqi.identity.models import User
    from fenqi.identity.service import user_by_phone
    from fenqi.identity.sessions import SESSION_COOKIE, start_session

    pages: list[Any] = []

    def make(role: str, merchant_id: int | None = None) -> Any:
        login = _browser_user(role, merchant_id)
        with kit_db.session_scope() as s:
            user = user_by_phone(s, login) if role == "shopper" else s.scalar(
                select(User).where(User.username == login))
            assert user is not None
            token = start_session(s, user)
        page = _new_page(browser, live_server, mobile=role == "shopper")
        page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server,
                                   "httpOnly": True, "sameSite": "Lax"}])
        pages.append(page)
        return page

    yield make
    _screenshot_if_failed(request, pages, artifacts_dir)
    for page in pages:
        page.context.close()


@pytest.fixture()
def screenshot(artifacts_dir: Path) -> Callable[..., Path]:
    """`screenshot(page, name)` saves a full-page PNG under FENQI_TEST_ARTIFACTS (default test-artifacts/)."""

    def take(page: Any, name: str) -> Path:
        path = artifacts_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
