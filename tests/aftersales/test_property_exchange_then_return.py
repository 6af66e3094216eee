"""Property (docs/aftersales.md, "Exchange"): a phone exchanged for a cheaper one — the difference refunded
or paid off the loan by the merchant, per policy — or for a pricier one (the difference paid at the cashier
as an extra down payment), and then returned, after payments ahead of the schedule:
the shopper gets back exactly what they paid (no fen created or lost), every receivable of the loan is zero,
the funder and the merchant are as before the sale (what the merchant paid of the loan went back to it),
and the books check clean. On both databases."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fenqi.aftersales.policy import DEFAULT_POLICY, policy_to_json
from tests.aftersales.support import (
    call,
    emulated_refunds,
    ledger_check,
    loan_account_balances,
    loan_entry_totals,
    make_sale,
    pay_installment,
    set_day,
    settle,
)
from tests.aftersales.test_exchange_repair import checklist, shelf_phone
from tests.conftest import IS_POSTGRES
from tests.payments.payments_loopback import committed, settle_notifications, wait_for

_starts = itertools.count()


@settings(max_examples=3 if IS_POSTGRES else 5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cheaper_by=st.integers(-2_000_00, 4_000_00).filter(bool), policy=st.sampled_from(["reduce_principal", "refund"]),
       ahead=st.lists(st.tuples(st.integers(1_00, 600_00), st.sampled_from(["alipay", "wechatpay"])), max_size=2),
       exchange_day=st.integers(0, 3), return_after=st.integers(0, 3))
@example(cheaper_by=-1_500_00, policy="refund", ahead=[(300_00, "wechatpay")], exchange_day=1, return_after=2)
@example(cheaper_by=2_500_00, policy="refund", ahead=[(300_00, "wechatpay")], exchange_day=2, return_after=1)
def test_exchange_then_return_moves_no_fen(live_server: str, cheaper_by: int, policy: str,
                                            ahead: list[tuple[int, str]], exchange_day: int,
                                            return_after: int) -> None:
    from fenqi.aftersales.policies import set_policy
    from fenqi.aftersales.returns import resume_all
    from fenqi.servicing.service import get_loan

    start = date(2031, 1, 1) + timedelta(days=60 * next(_starts))
    sale = make_sale(down_payment="1000.00", on=start)
    with committed() as s:
        set_policy(s, merchant_id=sale.world.merchant_id,
                   rules={**policy_to_json(DEFAULT_POLICY), "cheaper_exchange": policy})
    orders: list[tuple[str, str]] = [("alipay", sale.down_payment_order or "")]
    paid = sale.down_payment_fen
    for amount, channel in ahead:
        orders.append((channel, pay_installment(sale, amount, channel=channel)))
        paid += amount

    set_day(exchange_day, start)
    r = call(live_server, "POST", "/api/v1/aftersales/cases", sale.clerk,
             {"imei": sale.imei, "requested": "exchange", "reason": "fault"})
    assert r.status_code == 201, r.text
    exchange = r.json()["id"]
    assert call(live_server, "POST", f"/api/v1/aftersales/cases/{exchange}/inspection", sale.clerk,
                {"results": checklist(live_server, sale)}).status_code == 200
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{exchange}/decision", sale.clerk,
             {"outcome": "exchange", "new_imei": shelf_phone(sale, sale.price_fen - cheaper_by)})
    assert r.status_code == 200, r.text
    if cheaper_by < 0:  # a pricier phone: the difference is an extra down payment, paid at the cashier
        payment = r.json()["difference_payment"]
        assert payment["amount"] == f"{-cheaper_by / 100:.2f}"
        settle(payment["out_trade_no"], payment["pay_url"])
        orders.append((payment["channel"], payment["out_trade_no"]))
        paid += -cheaper_by
        r = call(live_server, "GET", f"/api/v1/aftersales/cases/{exchange}", sale.shopper)
    assert r.json()["status"] == "completed"
    # What the shopper got back at the exchange (refund policy: through the down payment's channel).
    settle_notifications("wechatpay")
    refunded_at_exchange = emulated_refunds("alipay", sale.down_payment_order or "")
    assert refunded_at_exchange == (min(cheaper_by, sale.down_payment_fen) if policy == "refund" and cheaper_by > 0
                                    else 0)

    set_day(exchange_day + return_after, start)
    r = call(live_server, "POST", "/api/v1/aftersales/cases", sale.shopper,
             {"loan_id": sale.loan_id, "requested": "return", "reason": "no_reason"})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    assert call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/inspection", sale.clerk,
                {"results": checklist(live_server, sale)}).status_code == 200
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk, {"outcome": "return"})
    assert r.status_code == 200, r.text
    settle_notifications("wechatpay")

    def finished() -> bool:
        resume_all()
        return bool(call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}",
                         sale.shopper).json()["status"] == "completed")

    assert wait_for(finished, timeout=30)
    # Every fen the shopper paid is back with them, through the channels it came by; none more.
    assert sum(emulated_refunds(channel, no) for channel, no in orders) == paid
    assert all(v == 0 for v in loan_account_balances(sale.loan_id).values())
    totals = loan_entry_totals(sale.loan_id)
    assert totals.get("funder_payable", 0) == 0
    assert totals.get("merchant_payable", 0) == 0
    assert totals.get("customer_credit", 0) == 0
    assert totals.get("cash_alipay", 0) + totals.get("cash_wechatpay", 0) == 0
    with committed() as s:
        loan = get_loan(s, sale.loan_id)
        assert (loan.status, loan.credit_balance_fen) == ("cancelled", 0)
    report = ledger_check()
    assert report["ok"] is True, report
