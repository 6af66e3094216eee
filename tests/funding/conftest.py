"""Fixtures for funding tests: the shop of tests/origination/world.py without its funders."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.origination.world import World, build_world


@pytest.fixture()
def shop(session: Session) -> World:
    return build_world(session, funders=False)
