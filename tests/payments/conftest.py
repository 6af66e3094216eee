"""Payments tests run the real SDKs against the gateway emulators over real HTTP on loopback: one
uvicorn server (the whole app, emulators mounted as in the demo) on a free port, in a thread.

Requests served by that server commit through their own sessions (like production), so tests that
use it set data up with `committed()` sessions and identify their rows by fresh order numbers.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.payments.payments_loopback import committed, emulator

_KEYS = tempfile.mkdtemp(prefix="fenqi-payment-keys-")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(engine: Engine) -> Iterator[str]:
    import uvicorn

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in ("FENQI_BASE_URL", "FENQI_PAYMENT_KEYS_DIR", "FENQI_EMULATOR_RETRY_SCALE")}
    os.environ["FENQI_BASE_URL"] = base
    os.environ["FENQI_PAYMENT_KEYS_DIR"] = _KEYS
    # Alipay's 4-minute first retry becomes 0.24 s, WeChat Pay's 15 s becomes 15 ms.
    os.environ["FENQI_EMULATOR_RETRY_SCALE"] = "0.001"
    from fenqi.api import create_app
    from fenqi.kit.settings import get_settings
    from fenqi.payments import api as payments_api
    from fenqi.payments.channels import reset_channels
    from fenqi.payments.keys import channel_keys
    from fenqi.payments.settings import get_payment_settings

    def reset() -> None:
        get_settings.cache_clear()
        get_payment_settings.cache_clear()
        channel_keys.cache_clear()
        reset_channels()
        payments_api.emulator_app.cache_clear()

    reset()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    emulators = [emulator("alipay"), emulator("wechatpay")]
    _seed_products()
    yield base
    for emu in emulators:
        emu.notifier.stop()
    server.should_exit = True
    thread.join(timeout=10)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset()


def _seed_products() -> None:
    from fenqi.pricing.service import seed_products

    with committed() as s:
        seed_products(s)


@pytest.fixture()
def faults(live_server: str) -> Iterator[Callable[..., None]]:
    """`faults("alipay", drop=1, ...)`; every fault is reset after the test."""

    def set_faults(channel: str, **values: Any) -> None:
        r = httpx.post(f"{live_server}/_emulator/{channel}/_faults", json=values)
        r.raise_for_status()

    yield set_faults
    for channel in ("alipay", "wechatpay"):
        httpx.post(f"{live_server}/_emulator/{channel}/_faults/reset")
        emulator(channel).notifier.flush_held()
