"""Login codes are never readable from the database or the pages outside the demo, yet still reach the
shopper's phone: stored as a keyed hash (the challenge) and sealed until sent (the outbox)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from fenqi.identity.models import Notification, OtpChallenge
from fenqi.identity.outbox import deliver_pending, latest_notification, shown_body, text_to_send
from fenqi.identity.service import notify
from fenqi.kit.db import utcnow
from fenqi.kit.settings import get_settings

PHONE = "13912340077"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def request_code(client: TestClient, phone: str = PHONE) -> str:
    token = _CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    sent = client.post("/login/code", data={"agree": "1", "phone": phone, "csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    return str(sent.headers["location"])


def deliver(session: Session) -> dict[str, str]:
    """What the SMS gateway receives: {recipient: text}."""
    inbox: dict[str, str] = {}
    deliver_pending(session, lambda channel, to, body: inbox.__setitem__(to, body))
    return inbox


def every_stored_text(session: Session) -> str:
    """Every column of every outbox and challenge row, as the database holds them."""
    rows = []
    for table in ("notification", "otp_challenge"):
        rows += [repr(tuple(r)) for r in session.execute(text(f"SELECT * FROM {table}")).all()]
    return "\n".join(rows)


def test_no_code_in_the_database_or_on_the_pages_yet_the_sms_carries_it(
    client: TestClient, session: Session, auth_headers: object
) -> None:
    url = request_code(client)
    sms = latest_notification(session, to=PHONE, template="login_code")
    assert sms is not None and sms.status == "pending"
    code = re.search(r"\d{6}", text_to_send(sms)).group(0)  # type: ignore[union-attr]

    stored = every_stored_text(session)
    assert code not in stored
    challenge = session.scalar(select(OtpChallenge).order_by(OtpChallenge.id.desc()).limit(1))
    assert challenge is not None
    # A keyed hash: not the plain SHA-256 of the code, which a leaked table would give up in a second.
    assert challenge.code_hash != hashlib.sha256(code.encode()).hexdigest()
    assert challenge.code_hash != hashlib.sha256(f"otp:{code}".encode()).hexdigest()

    client.cookies.clear()
    for role in ("collector", "risk_officer", "finance", "admin"):
        page = client.get("/ops/notifications", headers=auth_headers(role))  # type: ignore[operator]
        assert page.status_code == 200
        assert code not in page.text and "******" in page.text
    assert code not in client.get(url).text  # the code page shows it only in the demo

    # The gateway gets the real text; afterwards the sealed code is gone from the row.
    assert f"验证码是 {code}" in deliver(session)[PHONE]
    session.refresh(sms)
    assert sms.status == "sent" and sms.secret_enc is None and sms.sent_at is not None
    assert code not in text_to_send(sms)


def test_an_unsent_code_is_erased_when_it_expires(client: TestClient, session: Session) -> None:
    request_code(client)
    sms = latest_notification(session, to=PHONE, template="login_code")
    assert sms is not None and sms.secret_enc is not None
    session.execute(update(Notification).where(Notification.id == sms.id)
                    .values(secret_expires_at=utcnow() - timedelta(seconds=1)))
    assert deliver(session) == {}  # nothing sent: a stale code is no use to anyone
    session.refresh(sms)
    assert sms.secret_enc is None and sms.status == "expired"


def test_bodies_are_masked_on_the_page_outside_the_demo(
    client: TestClient, session: Session, auth_headers: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify(session, channel="sms", to=PHONE, template="reminder",
           body="张三您好，手机 13912340077，身份证 310115198807094562，"
                "卡 6222021234567890123 本期应还 500.00 元")
    page = client.get("/ops/notifications", headers=auth_headers("collector"))  # type: ignore[operator]
    for raw in ("13912340077", "310115198807094562", "6222021234567890123"):
        assert raw not in page.text
    assert "500.00" in page.text
    monkeypatch.setattr(get_settings(), "env", "demo")
    row = latest_notification(session, to=PHONE)
    assert row is not None and "310115198807094562" in shown_body(row)  # the demo shows what it would send


def test_demo_pages_show_the_code(client: TestClient, session: Session, auth_headers: object,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url = request_code(client)
    sms = latest_notification(session, to=PHONE, template="login_code")
    code = re.search(r"\d{6}", text_to_send(sms)).group(0)  # type: ignore[arg-type, union-attr]
    assert code not in every_stored_text(session)  # sealed in the demo too
    monkeypatch.setattr(get_settings(), "env", "demo")
    assert code in client.get(url).text
    assert code in client.get("/ops/notifications", headers=auth_headers("collector")).text  # type: ignore[operator]


def test_a_secret_needs_its_slot_and_a_lifetime(session: Session) -> None:
    with pytest.raises(ValueError):
        notify(session, channel="sms", to=PHONE, template="x", body="code 123456", secret="123456",
               secret_ttl=timedelta(minutes=5))
    with pytest.raises(ValueError):
        notify(session, channel="sms", to=PHONE, template="x", body="code {secret}", secret="123456")
