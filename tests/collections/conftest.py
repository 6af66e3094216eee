"""Fixtures of the collections tests: the console's small shop and signed-in staff (tests/web_console), and
a fixed daytime clock for the contact rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.web_console.conftest import sign_in, world

__all__ = ["daytime", "sign_in", "world"]

DAYTIME = datetime(2026, 12, 31, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


@pytest.fixture()
def daytime(monkeypatch: pytest.MonkeyPatch) -> Iterator[datetime]:
    """The contact rules' clock at 10:00 Beijing time, whenever the tests run: calls and messages are not
    refused or held for quiet hours. Yields the moment (UTC)."""
    monkeypatch.setattr("fenqi.collections.reminders.utcnow", lambda: DAYTIME)
    yield DAYTIME
