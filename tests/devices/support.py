"""Helpers of the device-lock tests: a phone sold and enrolled, check-ins as the agent makes them,
payments through the payment service, the passage of wall-clock time for a device's warning."""

from __future__ import annotations

import base64
import itertools
import secrets
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.devices import service
from fenqi.devices.models import LockDevice
from fenqi.devices.signing import verify

_counters = itertools.count(1)


def the_device(session: Session, loan_id: int) -> LockDevice:
    devices = service.loan_devices(session, loan_id)
    assert len(devices) == 1, devices
    session.refresh(devices[0])
    return devices[0]


def enrol(client: TestClient, headers: dict[str, str], device_id: int) -> str:
    r = client.post(f"/api/v1/devices/{device_id}/enrol", headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def public_key(client: TestClient) -> bytes:
    return base64.b64decode(client.get("/api/v1/devices/public-key").json()["public_key"])


def checkin(client: TestClient, token: str, imei: str, counter: int | None = None) -> tuple[int, dict[str, Any]]:
    """A check-in; for a 200, the answer is verified as the phone verifies it (signature, IMEI, nonce)."""
    nonce = secrets.token_urlsafe(12)
    counter = counter if counter is not None else next(_counters) + 10_000
    r = client.post("/api/v1/devices/checkin", json={"imei": imei, "counter": counter, "nonce": nonce},
                    headers={"X-Device-Token": token})
    body = r.json()
    if r.status_code == 200:
        payload = body["payload"]
        assert verify(public_key(client), payload, body["signature"])
        assert (payload["imei"], payload["nonce"], payload["counter"]) == (imei, nonce, counter)
    return r.status_code, body


def state_of(client: TestClient, token: str, imei: str) -> str:
    status, body = checkin(client, token, imei)
    assert status == 200, body
    return str(body["payload"]["state"])


def age_warning(session: Session, device: LockDevice, hours: float) -> None:
    """Wall-clock time passes for the device's warning (the lock waits for warned_at + 24 h)."""
    assert device.warned_at is not None and device.lock_allowed_at is not None
    device.warned_at -= timedelta(hours=hours)
    device.lock_allowed_at -= timedelta(hours=hours)
    session.flush()


def pay_loan(session: Session, loan_id: int, amount_fen: int, purpose: str = "installment") -> None:
    """The shopper pays through the cashier: the payment service settles the order (servicing applies it,
    the registered handlers react in the same transaction)."""
    from fenqi.payments.service import create_order
    from tests.web_console.helpers import pay

    order = create_order(session, purpose=purpose, amount_fen=amount_fen, channel="alipay", subject="还款",
                         loan_id=loan_id)
    pay(session, order.out_trade_no)


def events(session: Session, device: LockDevice) -> list[tuple[str, str | None, str]]:
    return [(e.kind, e.to_state, e.reason) for e in reversed(service.history(session, device.id))]
