"""Tests run on a real database: SQLite by default, PostgreSQL when FENQI_TEST_DATABASE_URL says so.

The schema is built once per run by the migrations themselves; each test runs inside a transaction
that is rolled back at the end (services' own commits become savepoints).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

_TMP = tempfile.mkdtemp(prefix="fenqi-test-")
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


@pytest.fixture()
def client(session: Session) -> Iterator[TestClient]:
    """The real ASGI app over the test's transaction."""
    from fenqi.api import create_app

    app = create_app()

    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_lazy_session] = _session
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


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
