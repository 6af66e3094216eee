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
