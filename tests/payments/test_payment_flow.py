"""Pay and notify through the real SDKs and the emulators over loopback HTTP, both channels."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from fenqi.payments.models import CallbackInbox, PaymentOrder
from fenqi.payments.polling import poll_order
from fenqi.payments.service import create_order, get_order
from tests.payments.payments_loopback import (
    committed,
    emulator,
    order_status,
    settle_notifications,
    shopper_pays,
    wait_for,
)

CHANNELS = ["alipay", "wechatpay"]


def cash(channel: str) -> int:
    from fenqi.ledger import account_balance, cash_account

    with committed() as s:
        return account_balance(s, cash_account(channel))


def merchant_payable() -> int:
    from fenqi.ledger import account_balance

    with committed() as s:
        return account_balance(s, "merchant_payable")


def open_order(channel: str, amount_fen: int = 100_000, purpose: str = "down_payment", **kw: object) -> PaymentOrder:
    with committed() as s:
        return create_order(s, purpose=purpose, amount_fen=amount_fen, channel=channel, subject="首付 测试手机", **kw)


def postings(payment_ref: str) -> list[tuple[str, str, int, int]]:
    """Every journal line posted for a payment: (reason, account, debit, credit)."""
    from fenqi.ledger.models import JournalEntry, JournalLine

    with committed() as s:
        rows = s.execute(select(JournalEntry.reason, JournalLine.account, JournalLine.debit_fen, JournalLine.credit_fen)
                         .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
                         .where(JournalEntry.payment_ref == payment_ref).order_by(JournalLine.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def inbox_rows(out_trade_no: str) -> list[CallbackInbox]:
    with committed() as s:
        return list(s.scalars(select(CallbackInbox).where(CallbackInbox.out_trade_no == out_trade_no)))


@pytest.mark.parametrize("channel", CHANNELS)
def test_pay_and_notify(live_server: str, channel: str) -> None:
    before_cash, before_merchant = cash(channel), merchant_payable()
    order = open_order(channel, 123_456)
    assert order.status == "pending" and order.pay_url.startswith(live_server)

    page = shopper_pays(order.pay_url)

    assert page.status_code == 200
    assert wait_for(lambda: order_status(order.out_trade_no) == "paid")
    settle_notifications(channel)
    assert cash(channel) - before_cash == 123_456
    assert merchant_payable() - before_merchant == 123_456
    [row] = inbox_rows(order.out_trade_no)
    assert (row.status, row.source, row.amount_fen) == ("processed", "callback", 123_456)
    with committed() as s:
        paid = get_order(s, order.out_trade_no)
        assert paid.trade_no and paid.paid_at is not None and paid.settlement_key == f"payment:{order.out_trade_no}"


@pytest.mark.parametrize("channel", CHANNELS)
def test_same_notification_three_times_at_once(live_server: str, faults, channel: str) -> None:  # type: ignore[no-untyped-def]
    before = cash(channel)
    faults(channel, duplicate=1, duplicate_copies=2)
    order = open_order(channel, 50_000)
    delivered_before = len(emulator(channel).notifier.delivered)

    shopper_pays(order.pay_url)
    settle_notifications(channel)

    # Three copies were delivered and acknowledged; one was processed, the others found it done.
    assert len(emulator(channel).notifier.delivered) - delivered_before == 3
    assert [r.status for r in inbox_rows(order.out_trade_no)] == ["processed"]
    assert order_status(order.out_trade_no) == "paid"
    assert cash(channel) - before == 50_000


@pytest.mark.parametrize("channel", CHANNELS)
def test_forged_callback_is_refused_and_posts_nothing(live_server: str, channel: str) -> None:
    order = open_order(channel, 70_000)
    before = cash(channel)
    url = f"{live_server}/api/v1/payments/callbacks/{channel}"
    if channel == "alipay":
        # A well-formed notification whose signature was made with someone else's key.
        forged = {"notify_type": "trade_status_sync", "app_id": "2021000000000001", "trade_no": "2026X",
                  "out_trade_no": order.out_trade_no, "trade_status": "TRADE_SUCCESS", "total_amount": "700.00",
                  "sign_type": "RSA2", "sign": "ZmFrZQ=="}
        r = httpx.post(url, data=forged)
        assert r.status_code == 400 and r.text == "fail"
    else:
        from fenqi.payments.settings import get_payment_settings

        headers = {"Wechatpay-Serial": get_payment_settings().wechatpay_public_key_id,
                   "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048", "Wechatpay-Timestamp": "1700000000",
                   "Wechatpay-Nonce": "abc", "Wechatpay-Signature": "ZmFrZQ==", "Content-Type": "application/json"}
        r = httpx.post(url, content=b'{"id":"x","event_type":"TRANSACTION.SUCCESS","resource":{}}', headers=headers)
        assert r.status_code == 401
    assert inbox_rows(order.out_trade_no) == []
    assert order_status(order.out_trade_no) == "pending"
    assert cash(channel) == before


def test_tampered_alipay_notification_is_refused(live_server: str, faults) -> None:  # type: ignore[no-untyped-def]
    """A real, signed notification with one field changed in transit fails verification."""
    import urllib.parse

    from fenqi.payments.emulators.alipay import AlipayEmulator

    captured: list[dict[str, str]] = []
    emu: AlipayEmulator = emulator("alipay")
    faults("alipay", drop=1)
    order = open_order("alipay", 80_000)
    shopper_pays(order.pay_url)
    trade = emu.trades[order.out_trade_no]
    # Rebuild what the emulator would have sent, then change the amount.
    emu.faults.reorder = True
    emu.notify_paid(trade)
    held = emu.notifier._held.pop()
    emu.faults.reorder = False

    class Grab:
        def post(self, url: str, data: dict[str, str]) -> object:
            captured.append(dict(data))
            return type("R", (), {"status_code": 200, "text": "success"})()

    held.send(Grab(), held.url)  # type: ignore[arg-type]
    params = captured[0]
    params["total_amount"] = "0.01"
    r = httpx.post(f"{live_server}/api/v1/payments/callbacks/alipay", content=urllib.parse.urlencode(params),
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    assert order_status(order.out_trade_no) == "pending"
    with committed() as s:  # the genuine payment is still found by polling
        assert poll_order(s, get_order(s, order.out_trade_no)) == "processed"


@pytest.mark.parametrize("channel", CHANNELS)
def test_wrong_amount_is_not_applied(live_server: str, channel: str) -> None:
    """A genuine, signed notification for our order number but another amount is acknowledged (so
    the channel stops retrying), kept in the inbox as rejected, and nothing is posted."""
    from dataclasses import replace

    emu = emulator(channel)
    order = open_order(channel, 90_000)
    before = cash(channel)
    with emu.lock:
        emu._seq += 1
    from fenqi.payments.emulators.core import EmulatedTrade, now_cst

    notify_url = f"{live_server}/api/v1/payments/callbacks/{channel}"
    trade = EmulatedTrade(order.out_trade_no, f"WRONG{emu._seq}", 9_000, "x", notify_url, status="PAID",
                          paid_at=now_cst())
    if channel == "alipay":
        emu.notify_paid(trade)
    else:
        emu.notify_transaction(replace(trade, trade_type="MWEB"))
    settle_notifications(channel)

    [row] = inbox_rows(order.out_trade_no)
    assert row.status == "rejected" and "amount mismatch" in row.note
    assert order_status(order.out_trade_no) == "pending"
    assert cash(channel) == before


@pytest.mark.parametrize("channel", CHANNELS)
def test_lost_callback_is_recovered_by_polling(live_server: str, faults, channel: str) -> None:  # type: ignore[no-untyped-def]
    from fenqi.payments.tasks import poll_once

    faults(channel, drop=1)
    order = open_order(channel, 60_000)
    shopper_pays(order.pay_url)
    settle_notifications(channel)
    assert order_status(order.out_trade_no) == "pending"  # nothing arrived

    counts = poll_once(older_than=timedelta(0))

    assert counts.get("processed", 0) >= 1
    assert order_status(order.out_trade_no) == "paid"
    [row] = inbox_rows(order.out_trade_no)
    assert row.source == "poll" and row.status == "processed"
    expected = [("down_payment", f"cash_{channel}", 60_000, 0), ("down_payment", "merchant_payable", 0, 60_000)]
    assert postings(order.out_trade_no) == expected
    with committed() as s:  # polling again changes nothing
        assert poll_order(s, get_order(s, order.out_trade_no)) == "duplicate"
    assert postings(order.out_trade_no) == expected


@pytest.mark.parametrize("channel", CHANNELS)
def test_shopper_back_from_the_cashier_sees_the_payment_settled_before_its_notification(  # type: ignore[no-untyped-def]
    live_server: str, faults, channel: str
) -> None:
    """The page the cashier sends the shopper back to refreshes the order through payments: a fresh order
    the channel says is paid is settled at once, whatever became of its notification; the notification
    arriving afterwards is a duplicate and posts nothing more."""
    from fenqi.payments.polling import refresh_order

    faults(channel, reorder=True)  # the notification is held back until after the shopper is back
    order = open_order(channel, 70_000)
    shopper_pays(order.pay_url)
    with committed() as s:
        refreshed = refresh_order(s, order.out_trade_no)
        assert refreshed is not None and refreshed.status == "paid"
    [row] = inbox_rows(order.out_trade_no)
    assert row.source == "poll" and row.status == "processed"
    assert emulator(channel).notifier.flush_held() == 1
    settle_notifications(channel)
    assert [r.status for r in inbox_rows(order.out_trade_no)] == ["processed"]  # the late copy: a duplicate
    assert postings(order.out_trade_no) == [("down_payment", f"cash_{channel}", 70_000, 0),
                                            ("down_payment", "merchant_payable", 0, 70_000)]
    unpaid = open_order(channel, 10_000)
    with committed() as s:  # an unpaid order is only asked about, and stays pending
        assert refresh_order(s, unpaid.out_trade_no).status == "pending"  # type: ignore[union-attr]
        assert refresh_order(s, None) is None


@pytest.mark.parametrize("channel", CHANNELS)
def test_reordered_callbacks(live_server: str, faults, channel: str) -> None:  # type: ignore[no-untyped-def]
    before = cash(channel)
    faults(channel, reorder=True)
    first, second = open_order(channel, 11_100), open_order(channel, 22_200)
    shopper_pays(first.pay_url)
    shopper_pays(second.pay_url)
    assert order_status(first.out_trade_no) == "pending"
    assert emulator(channel).notifier.flush_held() == 2  # released newest first
    settle_notifications(channel)
    assert order_status(first.out_trade_no) == order_status(second.out_trade_no) == "paid"
    assert cash(channel) - before == 33_300


@pytest.mark.parametrize("channel", CHANNELS)
def test_expired_unpaid_order_is_closed_and_a_late_payment_still_counts(live_server: str, channel: str) -> None:
    from fenqi.kit.db import utcnow

    order = open_order(channel, 40_000)
    later = utcnow() + timedelta(hours=1)
    # The shopper opened the cashier but did not pay before the order expired.
    with httpx.Client(follow_redirects=True) as browser:
        browser.get(order.pay_url)
    with committed() as s:
        assert poll_order(s, get_order(s, order.out_trade_no), now=later) == "closed"
    assert order_status(order.out_trade_no) == "closed"
    # The channel closed the trade too: paying now is refused by the cashier.
    trade = emulator(channel).trades[order.out_trade_no]
    assert trade.status == "CLOSED"
    with committed() as s:
        assert s.scalar(select(func.count()).select_from(CallbackInbox)
                        .where(CallbackInbox.out_trade_no == order.out_trade_no)) == 0


@pytest.mark.parametrize("channel", CHANNELS)
def test_qr_payment_and_a_notification_lost_on_the_way(live_server: str, faults, channel: str) -> None:  # type: ignore[no-untyped-def]
    """QR (Alipay precreate / WeChat Native); the first delivery fails, the channel's retry arrives."""
    attempts_before = emulator(channel).notifier.attempts
    faults(channel, fail_deliveries=1)
    order = open_order(channel, 33_300, scene="qr")
    # The QR code's content is what a phone would open after scanning it.
    assert "/cashier/" in order.pay_url
    with httpx.Client() as phone:
        assert phone.post(order.pay_url + "/pay").status_code == 200
    assert wait_for(lambda: order_status(order.out_trade_no) == "paid")
    settle_notifications(channel)
    assert emulator(channel).notifier.attempts - attempts_before == 2
    assert [r.status for r in inbox_rows(order.out_trade_no)] == ["processed"]


def test_wechatpay_notification_signed_outside_five_minutes_is_refused(live_server: str, faults) -> None:  # type: ignore[no-untyped-def]
    """A genuine, correctly signed notification whose signing time is 3 days old (a captured one
    replayed) is refused and stores nothing; signed now it settles the order; a copy of it is a
    duplicate of the inbox row."""
    import json
    import time
    import uuid

    from fenqi.payments.channels.wechatpay import TIMESTAMP_WINDOW_SECONDS, fresh_timestamp
    from fenqi.payments.emulators.core import now_cst
    from fenqi.payments.emulators.wechatpay import rfc3339

    emu = emulator("wechatpay")
    faults("wechatpay", drop=1)
    order = open_order("wechatpay", 66_600)
    shopper_pays(order.pay_url)
    settle_notifications("wechatpay")
    trade = emu.trades[order.out_trade_no]
    body = json.dumps({
        "id": str(uuid.uuid4()), "create_time": rfc3339(now_cst()), "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": emu.encrypt_resource(emu.transaction(trade), "transaction")}, separators=(",", ":"))
    url = f"{live_server}/api/v1/payments/callbacks/wechatpay"

    def deliver(signed_at: int) -> httpx.Response:
        headers = {**emu.signature_headers(body, timestamp=signed_at), "Content-Type": "application/json"}
        return httpx.post(url, content=body.encode(), headers=headers)

    now = int(time.time())
    for stale in (now - 3 * 86400, now - TIMESTAMP_WINDOW_SECONDS - 5, now + TIMESTAMP_WINDOW_SECONDS + 5):
        assert deliver(stale).status_code == 401
    assert inbox_rows(order.out_trade_no) == [] and order_status(order.out_trade_no) == "pending"
    assert deliver(now - 60).status_code == 204
    assert order_status(order.out_trade_no) == "paid"
    assert deliver(now).status_code == 204  # a copy within the window: acknowledged, deduplicated
    assert [row.status for row in inbox_rows(order.out_trade_no)] == ["processed"]
    assert deliver(now - 3 * 86400).status_code == 401
    assert not fresh_timestamp("") and not fresh_timestamp("１７") and not fresh_timestamp("-5")


def test_a_notification_that_overtakes_its_orders_commit_still_settles_it(
    live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WeChat Pay accepts an auto-debit and notifies at once, sometimes before the debit's own transaction
    has committed: the notification's claim finds no row, and the order becomes visible a moment later.
    The notification must settle the order then (never answer "ignored" to a pending order: the channel
    would not send it again). The interleaving is forced: the order's transaction commits right after the
    notification's first claim."""
    from fenqi.kit.db import get_engine, new_session
    from fenqi.payments import inbox, service
    from fenqi.payments.channels import Notification
    from fenqi.payments.channels.base import payment_event_id

    if get_engine().dialect.name == "sqlite":
        pytest.skip("SQLite lets one writer in at a time: the notification waits for the order's commit")
    debit = new_session()
    order = create_order(debit, purpose="down_payment", amount_fen=54_321, channel="wechatpay", subject="首付 测试手机")
    out_trade_no = order.out_trade_no
    real_claim = service.claim_paid
    claims: list[bool] = []

    def claim_then_commit_the_order(*args: object, **kwargs: object) -> PaymentOrder | None:
        claimed = real_claim(*args, **kwargs)  # type: ignore[arg-type]
        claims.append(claimed is not None)
        if debit.in_transaction():
            debit.commit()  # the debit's transaction ends between the claim and the inbox's next read
        return claimed

    monkeypatch.setattr(service, "claim_paid", claim_then_commit_the_order)
    event = Notification(kind="payment", event_id=payment_event_id(out_trade_no, "T-RACE-1"),
                         out_trade_no=out_trade_no, trade_no="T-RACE-1", amount_fen=54_321, status="paid",
                         paid_at=None, payload={})
    try:
        with committed() as s:
            outcome = inbox.process(s, "wechatpay", event)
    finally:
        debit.close()
    assert outcome == "processed", claims
    assert get_order_status(out_trade_no) == "paid"
    assert postings(out_trade_no)  # settled: the money is in the books


def get_order_status(out_trade_no: str) -> str:
    with committed() as s:
        return get_order(s, out_trade_no).status
