"""A check-in must come from the phone the token was issued to, once: a wrong token, another phone's
IMEI, a replayed counter and a forged or tampered answer are all refused; a device reads only its own
state, and staff see only what their role and merchant allow."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.devices.policy import decide
from fenqi.devices.signing import canonical, verify
from tests.collections.support import sold
from tests.devices.support import checkin, enrol, public_key, the_device
from tests.origination.world import World


def _two_phones(client: TestClient, session: Session, world: World,
                auth_headers: Callable[..., dict[str, str]]) -> list[tuple[int, str, str]]:
    clerk = auth_headers("clerk", world.merchant_id)
    out = []
    for imei in world.devices[:2]:
        app = sold(session, world, imei=imei)
        device = the_device(session, app.loan_id)
        out.append((device.id, device.imei, enrol(client, clerk, device.id)))
    return out


def test_wrong_token_other_imei_and_replay_are_refused(
    client: TestClient, session: Session, world: World, auth_headers: Callable[..., dict[str, str]],
) -> None:
    (a_id, a_imei, a_token), (b_id, b_imei, b_token) = _two_phones(client, session, world, auth_headers)

    status, body = checkin(client, a_token, a_imei, counter=5)
    assert status == 200 and body["payload"]["device_id"] == a_id

    forged = a_token[:-4] + ("AAAA" if not a_token.endswith("AAAA") else "BBBB")
    for token, imei in ((forged, a_imei), (a_token, b_imei), (b_token, a_imei), ("fq1.1.x", a_imei), ("junk", a_imei)):
        status, body = checkin(client, token, imei, counter=100)
        assert status == 401 and body["error"] == "device_token_invalid", (token, body)
        assert "message" in body

    for old in (5, 4):  # the same counter again (a replayed request) or an older one
        status, body = checkin(client, a_token, a_imei, counter=old)
        assert status == 409 and body["error"] == "device_checkin_replayed"
    assert checkin(client, a_token, a_imei, counter=6)[0] == 200

    # B's token answers only about B: its own id and IMEI, whatever A is doing.
    status, body = checkin(client, b_token, b_imei, counter=1)
    assert status == 200 and (body["payload"]["device_id"], body["payload"]["imei"]) == (b_id, b_imei)
    screen = client.get("/device/lock-screen", headers={"X-Device-Token": a_token, "X-Device-IMEI": b_imei})
    assert screen.status_code == 401 and "设备验证失败" in screen.text

    # Re-enrolling replaces the token: the old one stops working.
    new_token = enrol(client, auth_headers("clerk", world.merchant_id), a_id)
    assert checkin(client, a_token, a_imei, counter=50)[0] == 401
    assert checkin(client, new_token, a_imei, counter=1)[0] == 200

    status, body = checkin(client, b_token, b_imei, counter=0)
    assert status == 422  # counters start at 1


def test_forged_or_tampered_answers_fail_verification(
    client: TestClient, session: Session, world: World, auth_headers: Callable[..., dict[str, str]],
) -> None:
    (_, imei, token), _ = _two_phones(client, session, world, auth_headers)
    _status, body = checkin(client, token, imei, counter=1)
    key = public_key(client)
    payload, signature = body["payload"], body["signature"]
    assert verify(key, payload, signature)
    assert not verify(key, {**payload, "state": "released"}, signature)  # tampered
    assert not verify(key, {**payload, "counter": payload["counter"] + 1}, signature)
    rogue = Ed25519PrivateKey.generate()  # a rogue server's own key
    fake = base64.b64encode(rogue.sign(canonical({**payload, "state": "released"}))).decode()
    assert not verify(key, {**payload, "state": "released"}, fake)
    assert not verify(key, payload, "bm90IGEgc2lnbmF0dXJl")
    assert client.get("/api/v1/devices/public-key").json()["alg"] == "Ed25519"


def test_staff_see_devices_by_role_and_merchant(
    client: TestClient, session: Session, world: World, auth_headers: Callable[..., dict[str, str]],
) -> None:
    (device_id, imei, _), _ = _two_phones(client, session, world, auth_headers)
    loan_id = the_device_loan(session, device_id)
    url = f"/api/v1/devices/loans/{loan_id}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth_headers("shopper")).status_code == 403
    assert client.get(url, headers=auth_headers("clerk", world.other_merchant_id)).status_code == 403
    assert client.post(f"/api/v1/devices/{device_id}/enrol",
                       headers=auth_headers("clerk", world.other_merchant_id)).status_code == 403
    r = client.get(url, headers=auth_headers("collector"))
    assert r.status_code == 200
    shown = r.json()[0]
    assert shown["imei_masked"] != imei and shown["enrolled"] and shown["history"]
    assert "token" not in r.text
    assert client.get(url, headers=auth_headers("clerk", world.merchant_id)).status_code == 200


def the_device_loan(session: Session, device_id: int) -> int:
    from fenqi.devices.service import get_device

    return get_device(session, device_id).loan_id


def test_policy_decisions() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    base = {"state": "reminder", "loan_status": "overdue", "lock_enabled": True, "lock_after_dpd": 7, "now": now}
    assert decide(**base, dpd=5, lock_allowed_at=None, warned=False).state == "reminder"
    assert decide(**base, dpd=5, lock_allowed_at=None, warned=False).warn is False
    assert decide(**base, dpd=6, lock_allowed_at=None, warned=False).warn is True
    assert decide(**base, dpd=9, lock_allowed_at=None, warned=False).state == "reminder"  # never without warning
    assert decide(**base, dpd=7, lock_allowed_at=now, warned=True).state == "locked"
    assert decide(**{**base, "now": now.replace(second=0, microsecond=0)}, dpd=7,
                  lock_allowed_at=now.replace(minute=1), warned=True).state == "reminder"
    assert decide(**{**base, "lock_enabled": False}, dpd=30, lock_allowed_at=now, warned=True).state == "reminder"
    assert decide(**{**base, "state": "locked"}, dpd=3, lock_allowed_at=now, warned=True).state == "reminder"
    assert decide(**{**base, "loan_status": "active"}, dpd=0, lock_allowed_at=now, warned=True).state == "normal"
    paid = decide(**{**base, "loan_status": "paid_off"}, dpd=0, lock_allowed_at=None, warned=False)
    assert (paid.state, paid.released_for) == ("released", "payoff")
    held = decide(**{**base, "loan_status": "paid_off"}, dpd=0, lock_allowed_at=None, warned=False, release_held=True)
    assert held.state == "reminder"
    assert decide(**{**base, "state": "released", "loan_status": "overdue"}, dpd=30, lock_allowed_at=now,
                  warned=True).state == "released"  # released is for good
    assert decide(**{**base, "state": "locked", "loan_status": "written_off"}, dpd=200, lock_allowed_at=now,
                  warned=True).state == "locked"



def _raw_checkin(client: TestClient, token: bytes) -> tuple[int, dict[str, Any]]:
    """A check-in whose token header carries bytes as sent (a header is Latin-1 on the wire; the test client
    would re-encode them as UTF-8), straight into the app."""
    body = json.dumps({"imei": "356938035643809", "counter": 5, "nonce": "abcdefgh"}).encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/v1/devices/checkin", "raw_path": b"/api/v1/devices/checkin", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
             "headers": [(b"host", b"test"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode()), (b"x-device-token", token)]}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        try:
            await client.app(scope, receive, send)  # type: ignore[arg-type]
        except Exception:  # what the server would answer as a 500
            sent.append({"type": "http.response.start", "status": 500})

    asyncio.run(run())
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(data) if data else {}


def test_a_token_whose_device_number_is_not_ascii_digits_is_refused(client: TestClient) -> None:
    """"fq1.².x": "²" (0xB2 in Latin-1) passes str.isdigit() but not int(); the check-in answers 401 like any
    forged token, not a 500."""
    for token in (b"fq1.\xb2.abcdef", b"fq1.1\xb9.abcdef", b"fq1.\xb3\xb3.abcdef"):
        status, body = _raw_checkin(client, token)
        assert status == 401 and body["error"] == "device_token_invalid", (token, status, body)
