"""Property (README/DESIGN: "a return unwinds everything"): a return on any day of a loan's life, after any
mix of payments through the emulated channels, refunds exactly what was paid less the deductions, leaves
every receivable of the loan at zero, and the funder's and the merchant's balances as before the sale
(the merchant keeps only the deductions)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fenqi.aftersales.policy import DEFAULT_POLICY, policy_to_json
from tests.aftersales.support import (
    call,
    emulated_refunds,
    loan_account_balances,
    loan_entry_totals,
    make_sale,
    pay_installment,
    run_cob,
)
from tests.conftest import IS_POSTGRES
from tests.payments.payments_loopback import committed, settle_notifications, wait_for

# Each example sells on a business date of its own, after every other (closed days are never closed again).
_starts = itertools.count()
ACCESSORIES = [i.code for i in DEFAULT_POLICY.checklist if i.deduction_fen and not i.forfeits_no_reason]

payments = st.lists(st.tuples(st.integers(0, 40), st.integers(1_00, 900_00), st.sampled_from(["alipay", "wechatpay"])),
                    max_size=3)


@settings(max_examples=4 if IS_POSTGRES else 6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(down=st.sampled_from(["600.00", "1000.00", "2500.00"]), steps=payments, tail=st.integers(0, 20),
       missing=st.lists(st.sampled_from(ACCESSORIES), unique=True, max_size=2))
def test_a_return_refunds_what_was_paid_less_deductions(live_server: str, down: str,
                                                         steps: list[tuple[int, int, str]], tail: int,
                                                         missing: list[str]) -> None:
    from fenqi.aftersales.policies import set_policy
    from fenqi.aftersales.returns import resume_all
    from fenqi.servicing.service import get_loan

    start = date(2027, 1, 1) + timedelta(days=120 * next(_starts))
    sale = make_sale(down_payment=down, on=start)
    with committed() as s:  # this merchant takes phones back at any time (the policy is data)
        set_policy(s, merchant_id=sale.world.merchant_id, rules={
            **policy_to_json(DEFAULT_POLICY), "no_reason_return_days": 400, "no_reason_in_store": True})
    orders: list[tuple[str, str]] = [("alipay", sale.down_payment_order)] if sale.down_payment_order else []
    paid = sale.down_payment_fen if sale.down_payment_order else 0
    for days, amount, channel in steps:
        run_cob(days)
        with committed() as s:
            if get_loan(s, sale.loan_id).status not in ("active", "overdue"):
                break
        orders.append((channel, pay_installment(sale, amount, channel=channel)))
        paid += amount
    run_cob(tail)

    r = call(live_server, "POST", "/api/v1/aftersales/cases", sale.shopper,
             {"loan_id": sale.loan_id, "requested": "return", "reason": "no_reason"})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    results: dict[str, Any] = {i.code: i.code not in missing for i in DEFAULT_POLICY.checklist}
    assert call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/inspection", sale.clerk,
                {"results": results}).status_code == 200
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk, {"outcome": "return"})
    assert r.status_code == 200, r.text
    settle_notifications("wechatpay")

    def finished() -> bool:
        resume_all()
        return bool(call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}",
                         sale.shopper).json()["status"] == "completed")

    assert wait_for(finished, timeout=30)
    deductions = min(sum(i.deduction_fen for i in DEFAULT_POLICY.checklist if i.code in missing), paid)
    refunded = sum(emulated_refunds(channel, no) for channel, no in orders)
    assert refunded == paid - deductions
    assert all(v == 0 for v in loan_account_balances(sale.loan_id).values())
    totals = loan_entry_totals(sale.loan_id)
    assert totals.get("funder_payable", 0) == 0
    assert totals.get("merchant_payable", 0) == -deductions
    assert totals.get("refunds_payable", 0) == 0
    assert totals.get("cash_alipay", 0) + totals.get("cash_wechatpay", 0) == deductions
    with committed() as s:
        assert get_loan(s, sale.loan_id).status == "cancelled"
