"""Fixtures of the collections tests: the console's small shop and signed-in staff (tests/web_console)."""

from __future__ import annotations

from tests.web_console.conftest import sign_in, world

__all__ = ["sign_in", "world"]
