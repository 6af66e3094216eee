"""The outbox sends through Alibaba Cloud SMS's own SDK (SendSms, QuerySendDetails) over real HTTP to
the emulator mounted in the app: signatures checked, flow control (`Throttling.User`) and outages
retried with a doubling back-off, permanent refusals failed, delivery receipts recorded and shown."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.collections.service import dispatch, queue_notice
from fenqi.identity import sms
from fenqi.identity.models import Notification
from fenqi.identity.outbox import deliver_one, notify, poll_receipts
from tests.collections.reminders_support import borrower, loan_for, local

PHONE = "13912345678"
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture()
def gateway(live_server: str) -> Iterator[Any]:
    """The SDK pointed at the live app's emulator; yields the emulator (its inbox and fault switches)."""
    from fenqi.identity.api import sms_emulator_app

    saved = {k: os.environ.get(k) for k in ("FENQI_SMS_ENDPOINT", "FENQI_SMS_PROTOCOL")}
    os.environ["FENQI_SMS_ENDPOINT"] = live_server.split("://", 1)[1] + "/_emulator/sms"
    os.environ["FENQI_SMS_PROTOCOL"] = "http"
    sms.reset()
    emu = sms_emulator_app().state.emulator
    emu.reset()
    yield emu
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    sms.reset()


def _message(session: Session) -> Notification:
    return notify(session, channel="sms", to=PHONE, template="collections.due_today", body="【分期商城】今天到期",
                  params={"amount": "265.28", "due_date": "4月1日", "pay_link": "http://x/shop/loans/1"})


def test_sendsms_through_the_sdk_and_the_delivery_receipt(session: Session, gateway: Any) -> None:
    row = _message(session)
    assert deliver_one(session, row.id) == "sent"
    assert row.provider_ref and row.attempts == 1 and row.sent_at is not None
    [got] = gateway.inbox(PHONE)
    assert got.biz_id == row.provider_ref and got.sign_name == "分期商城"
    assert got.params == {"amount": "265.28", "due_date": "4月1日", "pay_link": "http://x/shop/loans/1"}
    assert deliver_one(session, row.id) == "sent" and len(gateway.inbox(PHONE)) == 1  # a duplicate job: once
    assert poll_receipts(session) == 1
    assert (row.delivery, row.delivery_code) == ("delivered", "DELIVERED") and row.delivered_at is not None


def test_throttling_is_retried_after_a_doubling_back_off(session: Session, gateway: Any) -> None:
    row = _message(session)
    gateway.inject("throttle", "down")
    now = local(2026, 3, 2, 10, 0)
    assert deliver_one(session, row.id, now=now) == "waiting"
    assert (row.attempts, row.last_error, row.status) == (1, "Throttling.User", "pending")
    assert row.next_attempt_at == now + timedelta(seconds=30)
    assert deliver_one(session, row.id, now=now + timedelta(seconds=10)) == "waiting"  # not yet: no call made
    assert gateway.requests == 1
    assert deliver_one(session, row.id, now=now + timedelta(seconds=30)) == "waiting"
    assert (row.attempts, row.last_error) == (2, "ServiceUnavailable")
    assert row.next_attempt_at == now + timedelta(seconds=30 + 60)
    assert deliver_one(session, row.id, now=now + timedelta(seconds=90)) == "sent"
    assert row.attempts == 3 and len(gateway.inbox(PHONE)) == 1


def test_refusals_fail_the_message(session: Session, gateway: Any) -> None:
    bad = _message(session)
    gateway.inject("illegal")
    assert deliver_one(session, bad.id) == "failed" and bad.last_error == "isv.MOBILE_NUMBER_ILLEGAL"
    throttled = _message(session)
    gateway.inject(*["throttle"] * 6)
    now = local(2026, 3, 2, 10, 0)
    outcomes = []
    for _ in range(6):
        outcomes.append(deliver_one(session, throttled.id, now=now))
        now = throttled.next_attempt_at or now
    assert outcomes == ["waiting"] * 5 + ["failed"] and throttled.attempts == 6
    gone = _message(session)
    gateway.inject("undeliverable")
    assert deliver_one(session, gone.id) == "sent"
    poll_receipts(session)
    assert (gone.delivery, gone.delivery_code) == ("undelivered", "MOBILE_NOT_ON_SERVICE")


def test_a_wrong_signature_is_refused(session: Session, gateway: Any) -> None:
    os.environ["FENQI_SMS_ACCESS_KEY_SECRET"] = "not-the-secret-the-gateway-knows"
    try:
        sms.reset()
        with pytest.raises(sms.SmsRefused) as refused:
            sms.send(PHONE, "SMS_FQ_NOTICE", {"content": "x"}, out_id="forged")
        assert refused.value.code == "SignatureDoesNotMatch" and not refused.value.retryable
    finally:
        os.environ.pop("FENQI_SMS_ACCESS_KEY_SECRET")
        sms.reset()
    assert gateway.inbox(PHONE) == []


def test_a_loans_messages_page_shows_each_notice_and_its_delivery(
    session: Session, gateway: Any, client: TestClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    loan_id = loan_for(session, borrower(session, PHONE))
    sent = queue_notice(session, loan_id, "due_today")
    throttled = queue_notice(session, loan_id, "lock_warning", {"lock_date": "3月8日"})
    offer = queue_notice(session, loan_id, "upgrade_offer")
    from fenqi.collections.service import set_preferences
    from fenqi.servicing.service import get_loan

    set_preferences(session, get_loan(session, loan_id).customer_id or 0, marketing_opt_out=True)
    dispatch(session, now=local(2026, 3, 1, 10, 0))
    assert sent.notification_id and throttled.notification_id and offer.status == "suppressed"
    # Sent in the shopper's daytime (a notice has quiet hours, 22:00–08:00 Beijing) on the provider's
    # today, which is the day its receipts are asked for: the test passes at any hour it runs.
    daytime = datetime.combine(datetime.now(BEIJING).date(), time(10, 0), BEIJING)
    assert deliver_one(session, sent.notification_id, now=daytime) == "sent"
    assert poll_receipts(session) == 1
    gateway.inject("throttle")
    deliver_one(session, throttled.notification_id, now=daytime)
    page = client.get(f"/ops/loans/{loan_id}/messages", headers=auth_headers("collector"))
    assert page.status_code == 200, page.text
    text = page.text
    for words in ("到期日提醒", "已送达", "锁机预警", "发送中", "运营商限流，稍后重试", "换新优惠（营销）",
                  "客户已退订", "139****5678"):
        assert words in text, words
    assert "Throttling.User" not in text and ">delivered<" not in text and PHONE not in text
    assert client.get(f"/ops/loans/{loan_id}/messages", headers=auth_headers("clerk")).status_code == 403
