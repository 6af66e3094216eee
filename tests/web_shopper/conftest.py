"""Fixtures for the shopper's pages: a small shop (tests/origination/world.py) and a signed-in shopper
whose browser (the TestClient) carries the session cookie."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from tests.origination.world import World, build_world

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def world(session: Session) -> World:
    return build_world(session)


def sign_in(client: TestClient, session: Session, phone: str, name: str = "页面测试顾客") -> int:
    """Sign a shopper in on this client (a real session cookie); returns the user id."""
    user = create_user(session, role="shopper", display_name=name, phone=phone)
    client.cookies.set(SESSION_COOKIE, start_session(session, user))
    return int(user.id)


@pytest.fixture()
def shopper(client: TestClient, session: Session, world: World) -> Iterator[TestClient]:
    sign_in(client, session, "13700137001")
    yield client


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


# --- browser tests --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(live_server: str) -> Iterator[str]:
    """The identity kit's live server, made the payments' base URL too: the channels' cashier pages
    (the emulators mounted on it) and their notifications go to this server."""
    import os

    from fenqi.kit.settings import get_settings
    from fenqi.payments import api as payments_api
    from fenqi.payments.channels import reset_channels
    from fenqi.payments.keys import channel_keys
    from fenqi.payments.settings import get_payment_settings

    saved = {k: os.environ.get(k) for k in ("FENQI_BASE_URL", "FENQI_EMULATOR_RETRY_SCALE")}
    os.environ["FENQI_BASE_URL"] = live_server
    os.environ["FENQI_EMULATOR_RETRY_SCALE"] = "0.001"  # a notification retried at once if the first is lost
    if not os.environ.get("FENQI_PAYMENT_KEYS_DIR"):
        import tempfile

        os.environ["FENQI_PAYMENT_KEYS_DIR"] = tempfile.mkdtemp(prefix="fenqi-shopper-keys-")

    def reset() -> None:
        get_settings.cache_clear()
        get_payment_settings.cache_clear()
        channel_keys.cache_clear()
        reset_channels()
        payments_api.emulator_app.cache_clear()

    reset()
    yield live_server
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset()


@pytest.fixture(scope="session")
def demo_shop(live_server: str) -> str:
    """The demo's products, phones in three stores, funding partners and risk rules, committed so the
    live server sees them (each seed is idempotent: other browser tests may have run it first)."""
    from fenqi.catalog.seed import seed_catalog
    from fenqi.funding.seed import seed as seed_funding
    from fenqi.kit.db import session_scope
    from fenqi.pricing.seed import seed as seed_pricing
    from fenqi.risk.seed import seed as seed_risk

    for seed in (seed_pricing, seed_catalog, seed_funding, seed_risk):
        with session_scope() as s:
            seed(s)
    return live_server
