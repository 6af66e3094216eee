"""Fixtures of the device-lock tests: the console's small shop, signed-in staff, the live server."""

from __future__ import annotations

from tests.web_console.conftest import sign_in, world

__all__ = ["sign_in", "world"]
