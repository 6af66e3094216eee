"""花呗分期 at the cashier, through the real Alipay SDK against the emulator over HTTP: the shopper pays
the fee or the merchant does (免息); the fee is in the statement, reconciliation is clean and checks it,
and the books balance."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fenqi.payments.emulators.core import now_cst
from fenqi.payments.errors import InvalidPlatformInstallments
from fenqi.payments.models import PaymentOrder
from fenqi.payments.reconcile import reconcile
from tests.payments.payments_loopback import committed, emulator
from tests.payments.test_payment_flow import open_order, postings
from tests.payments.test_refunds_and_loans import paid_order


def _findings_for(numbers: set[str]) -> list[tuple[str, str, str, int | None, int | None]]:
    with committed() as s:
        report = reconcile(s, "alipay", now_cst().date())
    return [(f.category, f.kind, f.out_trade_no, f.channel_amount_fen, f.our_amount_fen)
            for f in report.findings if f.out_trade_no in numbers]


def _books_balance() -> None:
    from fenqi.ledger import trial_balance

    with committed() as s:
        rows = trial_balance(s)
    assert sum(r.debit for r in rows) == sum(r.credit for r in rows)


@pytest.mark.parametrize(("percent", "merchant_fee", "shopper_fee"), [(0, 0, 4_500), (100, 4_500, 0)])
def test_pay_with_huabei_then_reconcile(live_server: str, percent: int, merchant_fee: int, shopper_fee: int) -> None:
    no = paid_order("alipay", 100_000, hb_fq_num=6, hb_fq_seller_percent=percent)  # 6 periods: 4.5%

    trade = emulator("alipay").trades[no]
    assert (trade.hb_fq_num, trade.hb_fq_seller_percent, trade.hb_fee_fen) == (6, percent, 4_500)
    with committed() as s:
        order = s.scalar(select(PaymentOrder).where(PaymentOrder.out_trade_no == no))
        assert order is not None
        assert (order.hb_merchant_fee_fen, order.hb_shopper_fee_fen) == (merchant_fee, shopper_fee)
    expected = [("down_payment", "cash_alipay", 100_000, 0), ("down_payment", "merchant_payable", 0, 100_000)]
    if merchant_fee:  # Alipay settles the amount less the merchant's fee: an expense of ours
        expected += [("platform_installment_fee", "platform_installment_fee", merchant_fee, 0),
                     ("platform_installment_fee", "cash_alipay", 0, merchant_fee)]
    assert postings(no) == expected
    _books_balance()

    statement = emulator("alipay").statement_lines(now_cst().date())
    line = next(ln for ln in statement if ln.out_trade_no == no)
    assert (line.hb_fq_num, line.hb_merchant_fee_fen, line.hb_shopper_fee_fen) == (6, merchant_fee, shopper_fee)
    assert _findings_for({no}) == []


def test_a_tampered_fee_is_a_reconciliation_difference(live_server: str, faults) -> None:  # type: ignore[no-untyped-def]
    no = paid_order("alipay", 200_000, hb_fq_num=3, hb_fq_seller_percent=100)  # 2.3%: 46.00 yuan
    faults("alipay", statement_targets=[no], statement_hb_fee=1)

    assert _findings_for({no}) == [("amount_mismatch", "fee", no, 4_700, 4_600)]


def test_the_emulator_refuses_what_alipay_refuses(live_server: str) -> None:
    """Straight through the SDK (our own checks would stop these first): only 3/6/12, percent 0 or 100."""
    from fenqi.payments.channels import get_channel

    client = get_channel("alipay").client  # type: ignore[attr-defined]
    for num, percent in (("4", "0"), ("24", "0"), ("3", "50"), ("x", "0")):
        r = client.server_api("alipay.trade.precreate", {
            "out_trade_no": f"HBBAD{num}{percent}", "total_amount": "100.00", "subject": "x",
            "extend_params": {"hb_fq_num": num, "hb_fq_seller_percent": percent}})
        assert (r["code"], r["sub_code"]) == ("40004", "ACQ.INVALID_PARAMETER"), r
    ok = client.server_api("alipay.trade.precreate", {
        "out_trade_no": f"HBOK{now_cst():%H%M%S%f}", "total_amount": "100.00", "subject": "x",
        "extend_params": {"hb_fq_num": "12", "hb_fq_seller_percent": "100"}})
    assert ok["code"] == "10000"


def test_our_side_refuses_before_the_channel(live_server: str) -> None:
    for channel, kw in (("wechatpay", {"hb_fq_num": 3}), ("alipay", {"hb_fq_num": 4}),
                        ("alipay", {"hb_fq_num": 3, "hb_fq_seller_percent": 50}),
                        ("alipay", {"hb_fq_num": 3, "purpose": "installment", "loan_id": 1})):
        with pytest.raises(InvalidPlatformInstallments):
            open_order(channel, 10_000, **kw)  # type: ignore[arg-type]


def test_the_api_opens_huabei_with_the_merchants_setting(live_server: str) -> None:
    """Through the REST API: signed with plain Alipay, the shopper switches to 花呗分期 12 期 at a merchant
    that pays the fee; the open order is closed, the new one carries the fee, paying it marks the down
    payment paid and books the merchant's fee."""
    import httpx

    from fenqi.catalog.service import set_hb_seller_percent
    from tests.payments.payments_loopback import order_status, settle_notifications, shopper_pays, wait_for
    from tests.payments.test_order_scope import _key, _paid_flag, _shop, signed_application

    shop = _shop()
    with committed() as s:
        set_hb_seller_percent(s, shop["m1"], 100)
    _, shopper = _key("shopper")
    signed = signed_application(live_server, shop, shopper)
    first, app_id = signed["down_payment_order"]["out_trade_no"], signed["application_id"]
    url = f"{live_server}/api/v1/payments/orders"
    wrong = httpx.post(url, headers=shopper, timeout=30, json={
        "purpose": "down_payment", "channel": "wechatpay", "application_id": app_id, "hb_fq_num": 12})
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_platform_installments")

    r = httpx.post(url, headers=shopper, timeout=30, json={
        "purpose": "down_payment", "channel": "alipay", "application_id": app_id, "hb_fq_num": 12})
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["hb_fq_num"], order["hb_fq_seller_percent"], order["hb_fee"]) == (12, 100, "75.00")
    assert order["out_trade_no"] != first and order_status(first) == "closed"
    shopper_pays(order["pay_url"])
    assert wait_for(lambda: order_status(order["out_trade_no"]) == "paid")
    settle_notifications("alipay")
    assert _paid_flag(live_server, app_id, shopper)
    assert ("platform_installment_fee", "platform_installment_fee", 7_500, 0) in postings(order["out_trade_no"])
    assert emulator("alipay").trades[order["out_trade_no"]].hb_fee_fen == 7_500


def test_a_refund_gives_back_the_merchants_fee_pro_rata(live_server: str) -> None:
    """A merchant-paid 花呗分期 sale refunded in two parts (a partial refund, then the rest as a 7-day
    return would): Alipay gives back the fee in proportion, the whole of it by the end; the statement
    states it, our books post it back, and reconciliation is clean."""
    import uuid

    from fenqi.payments.refunds import refund
    from tests.payments.payments_loopback import wait_for
    from tests.payments.test_refunds_and_loans import refund_status

    no = paid_order("alipay", 100_001, hb_fq_num=12, hb_fq_seller_percent=100)  # 7.5%: 75.00 (75.0008)
    items = []
    for amount in (33_333, 66_668):
        with committed() as s:
            items.append(refund(s, out_trade_no=no, amount_fen=amount, reason="退货",
                                refund_ref=f"aftersales:{uuid.uuid4().hex}").out_refund_no)
    for item in items:
        assert wait_for(lambda item=item: refund_status(item) == "succeeded")
    # round(7500 × 33333 / 100001) = 2500, then the rest: 7500 − 2500.
    trade = emulator("alipay").trades[no]
    assert [r.hb_fee_returned_fen for r in trade.refunds.values()] == [2_500, 5_000]
    assert postings(items[0])[-2:] == [("platform_installment_fee", "cash_alipay", 2_500, 0),
                                       ("platform_installment_fee", "platform_installment_fee", 0, 2_500)]
    returned = [p for p in postings(items[1]) if p[0] == "platform_installment_fee"]
    assert returned == [("platform_installment_fee", "cash_alipay", 5_000, 0),
                        ("platform_installment_fee", "platform_installment_fee", 0, 5_000)]
    statement = emulator("alipay").statement_lines(now_cst().date())
    assert [ln.hb_fee_returned_fen for ln in statement if ln.out_trade_no == no and ln.kind == "refund"] \
        == [2_500, 5_000]
    _books_balance()
    assert _findings_for({no}) == []


def test_a_shopper_paid_fee_is_not_the_merchants_to_get_back(live_server: str) -> None:
    import uuid

    from fenqi.payments.refunds import refund

    no = paid_order("alipay", 50_000, hb_fq_num=3, hb_fq_seller_percent=0)
    with committed() as s:
        item = refund(s, out_trade_no=no, amount_fen=50_000, reason="退货",
                      refund_ref=f"aftersales:{uuid.uuid4().hex}").out_refund_no
    assert [r.hb_fee_returned_fen for r in emulator("alipay").trades[no].refunds.values()] == [0]
    assert not [p for p in postings(item) if p[0] == "platform_installment_fee"]
    assert _findings_for({no}) == []
