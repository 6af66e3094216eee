"""Fixtures for origination tests: a small shop (tests/origination/world.py) and clerk credentials."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from tests.origination.world import World, build_world


@pytest.fixture()
def world(session: Session) -> World:
    return build_world(session)


@pytest.fixture()
def clerk(world: World, auth_headers: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth_headers("clerk", world.merchant_id)
