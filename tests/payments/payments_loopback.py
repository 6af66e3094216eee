"""Helpers for the loopback payment tests (the shopper's browser, waiting, committed sessions)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy.orm import Session


@contextmanager
def committed() -> Iterator[Session]:
    """A session that commits, like a request or job boundary."""
    from fenqi.kit.db import session_scope

    with session_scope() as s:
        yield s


def emulator(channel: str) -> Any:
    """The emulator living in the test server (its state and fault switches)."""
    from fenqi.payments.api import emulator_app

    return emulator_app(channel).state.emulator  # type: ignore[attr-defined]


def shopper_pays(pay_url: str) -> httpx.Response:
    """What the shopper's browser does: open the pay URL (the channel's cashier) and press pay."""
    with httpx.Client(follow_redirects=True, timeout=15) as browser:
        page = browser.get(pay_url)
        assert page.status_code == 200, page.text
        return browser.post(str(page.url).split("?")[0].rstrip("/") + "/pay")


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def order_status(out_trade_no: str) -> str:
    from fenqi.payments.service import get_order

    with committed() as s:
        return get_order(s, out_trade_no).status


def settle_notifications(channel: str) -> None:
    assert emulator(channel).notifier.wait_idle(15), "notifications still in flight"
