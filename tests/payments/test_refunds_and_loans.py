"""Refunds (full, partial, twice, too much) and installment payments landing on a loan."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from fenqi.payments.errors import OrderNotRefundable, RefundExceedsPaid, RefundRefReused
from fenqi.payments.models import PaymentRefund
from fenqi.payments.refunds import refund
from fenqi.payments.service import get_order, loan_orders
from tests.payments.payments_loopback import (
    committed,
    emulator,
    order_status,
    settle_notifications,
    shopper_pays,
    wait_for,
)
from tests.payments.test_payment_flow import CHANNELS, open_order, postings


def paid_order(channel: str, amount_fen: int, **kw: object) -> str:
    order = open_order(channel, amount_fen, **kw)
    shopper_pays(order.pay_url)
    assert wait_for(lambda: order_status(order.out_trade_no) == "paid")
    settle_notifications(channel)
    return order.out_trade_no


def refund_status(out_refund_no: str) -> str:
    with committed() as s:
        item = s.scalar(select(PaymentRefund).where(PaymentRefund.out_refund_no == out_refund_no))
        assert item is not None
        return item.status


@pytest.mark.parametrize("channel", CHANNELS)
def test_partial_then_full_refund_requested_twice(live_server: str, channel: str) -> None:
    no = paid_order(channel, 100_000)
    ref = f"aftersales:{uuid.uuid4().hex}"
    with committed() as s:
        first = refund(s, out_trade_no=no, amount_fen=30_000, reason="屏幕划痕 部分退款", refund_ref=ref)
    with committed() as s:  # the same request again: the same refund, no second payout
        again = refund(s, out_trade_no=no, amount_fen=30_000, reason="屏幕划痕 部分退款", refund_ref=ref)
    assert again.out_refund_no == first.out_refund_no
    assert wait_for(lambda: refund_status(first.out_refund_no) == "succeeded")
    settle_notifications(channel)
    trade = emulator(channel).trades[no]
    assert [r.amount_fen for r in trade.refunds.values()] == [30_000]
    assert postings(first.out_refund_no) == [
        ("refund", "merchant_payable", 30_000, 0), ("refund", "refunds_payable", 0, 30_000),
        ("refund", "refunds_payable", 30_000, 0), ("refund", f"cash_{channel}", 0, 30_000),
    ]
    with committed() as s, pytest.raises(RefundRefReused):
        refund(s, out_trade_no=no, amount_fen=10_000, reason="x", refund_ref=ref)
    with committed() as s, pytest.raises(RefundExceedsPaid):
        refund(s, out_trade_no=no, amount_fen=70_001, reason="too much", refund_ref=f"{ref}-2")
    with committed() as s:
        rest = refund(s, out_trade_no=no, amount_fen=70_000, reason="退货", refund_ref=f"{ref}-3")
    assert wait_for(lambda: refund_status(rest.out_refund_no) == "succeeded")
    assert order_status(no) == "refunded"
    with committed() as s:
        assert get_order(s, no).refunded_fen == 100_000


def test_unpaid_order_cannot_be_refunded(live_server: str) -> None:
    order = open_order("alipay", 10_000)
    with committed() as s, pytest.raises(OrderNotRefundable):
        refund(s, out_trade_no=order.out_trade_no, amount_fen=10_000, reason="x", refund_ref=uuid.uuid4().hex)


def book(financed_fen: int = 300_000) -> int:
    from fenqi.servicing.service import book_loan

    with committed() as s:
        return book_loan(s, external_ref=f"PAYTEST-{uuid.uuid4().hex[:12]}", product_code="EI-12",
                         financed_fen=financed_fen, term=6).id


def repayments(payment_ref: str) -> list[tuple[int, int]]:
    from fenqi.servicing.models import Repayment

    with committed() as s:
        rows = s.scalars(select(Repayment).where(Repayment.payment_ref == payment_ref))
        return [(r.loan_id, r.amount_fen) for r in rows]


@pytest.mark.parametrize("channel", CHANNELS)
def test_installment_lands_on_the_loan_once_and_its_credit_can_be_refunded(live_server: str, faults,  # type: ignore[no-untyped-def]
                                                                          channel: str) -> None:
    from fenqi.servicing.service import get_loan

    loan_id = book()
    faults(channel, duplicate=1, duplicate_copies=2)
    no = paid_order(channel, 52_000, purpose="installment", loan_id=loan_id)
    assert repayments(no) == [(loan_id, 52_000)]
    # Paid before anything was due: servicing keeps it as the shopper's credit balance.
    with committed() as s:
        assert get_loan(s, loan_id).credit_balance_fen == 52_000
        assert [(o.out_trade_no, o.status) for o in loan_orders(s, loan_id)] == [(no, "paid")]
    with committed() as s:
        item = refund(s, out_trade_no=no, amount_fen=52_000, reason="重复还款退回", refund_ref=uuid.uuid4().hex)
    assert wait_for(lambda: refund_status(item.out_refund_no) == "succeeded")
    with committed() as s:
        assert get_loan(s, loan_id).credit_balance_fen == 0
    assert ("refund", f"cash_{channel}", 0, 52_000) in postings(item.out_refund_no)


def test_a_refund_whose_notification_is_lost_is_finished_by_polling(live_server: str, faults) -> None:  # type: ignore[no-untyped-def]
    from fenqi.payments.tasks import poll_once

    no = paid_order("wechatpay", 20_000)
    faults("wechatpay", drop=1)
    with committed() as s:
        item = refund(s, out_trade_no=no, amount_fen=20_000, reason="退货", refund_ref=uuid.uuid4().hex)
    settle_notifications("wechatpay")
    assert refund_status(item.out_refund_no) == "processing"

    poll_once(older_than=timedelta(hours=1))

    assert refund_status(item.out_refund_no) == "succeeded"
    assert ("refund", "cash_wechatpay", 0, 20_000) in postings(item.out_refund_no)


def test_a_payment_notified_after_we_closed_the_order_is_still_applied(live_server: str) -> None:
    from fenqi.kit.db import utcnow
    from fenqi.payments.emulators.core import now_cst
    from fenqi.payments.polling import poll_order

    order = open_order("alipay", 45_600)
    with committed() as s:
        assert poll_order(s, get_order(s, order.out_trade_no), now=utcnow() + timedelta(hours=1)) == "closed"
    # The shopper's payment went through just before the close reached the channel.
    emu = emulator("alipay")
    trade = emu.trades.get(order.out_trade_no)
    if trade is None:
        from fenqi.payments.emulators.core import EmulatedTrade

        trade = EmulatedTrade(order.out_trade_no, emu._trade_no(), 45_600, "x",
                              f"{live_server}/api/v1/payments/callbacks/alipay")
        emu.trades[order.out_trade_no] = trade
    trade.status, trade.paid_at = "PAID", now_cst()
    emu.notify_paid(trade)
    settle_notifications("alipay")
    assert order_status(order.out_trade_no) == "paid"
    assert postings(order.out_trade_no)[0] == ("down_payment", "cash_alipay", 45_600, 0)


@pytest.mark.parametrize("same_ref", [True, False], ids=["same-ref", "different-keys"])
def test_concurrent_refund_requests_end_in_one_refund(live_server: str, same_ref: bool) -> None:
    """Four finance requests to refund one order at the same moment, over real HTTP connections to the
    server (each its own database transaction): one refund reaches the channel; the same refund_ref (a
    partial refund, repeated) answers the same refund (201), other Idempotency-Keys for the whole amount
    are refused (409 refund_exceeds_paid); never a 500. (One Idempotency-Key of four people is four
    requests: tests/payments/test_refund_idempotency_keys.py.)"""
    import threading

    import httpx

    from tests.payments.test_order_scope import _key

    no = paid_order("alipay", 50_000)
    # Four people (signing in touches the key's row: one key would queue the requests there).
    finance = [_key("finance")[1] for _ in range(4)]
    key = uuid.uuid4().hex
    amount, expected = ("100.00", 10_000) if same_ref else ("500.00", 50_000)
    start = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def ask(i: int) -> None:
        body = {"out_trade_no": no, "amount": amount, "reason": "退货"}
        headers = {**finance[i], "Idempotency-Key": f"{key}-{i}"}
        if same_ref:
            body["refund_ref"] = key  # the payment's own reference, the same whoever sends it
        start.wait()
        answers.append(httpx.post(f"{live_server}/api/v1/payments/refunds", timeout=60, headers=headers,
                                  json=body))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = sorted(r.status_code for r in answers)
    if same_ref:
        assert statuses == [201] * 4, [r.text for r in answers]
        assert len({r.json()["out_refund_no"] for r in answers}) == 1
    else:
        assert statuses == [201, 409, 409, 409], [r.text for r in answers]
        assert {r.json()["error"] for r in answers if r.status_code == 409} == {"refund_exceeds_paid"}
    settle_notifications("alipay")
    with committed() as s:
        refunds = list(s.scalars(select(PaymentRefund).where(PaymentRefund.order_id == get_order(s, no).id)))
    assert [r.amount_fen for r in refunds] == [expected]
    assert [r.amount_fen for r in emulator("alipay").trades[no].refunds.values()] == [expected]
