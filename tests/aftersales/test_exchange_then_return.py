"""A phone exchanged for a cheaper one, then returned (docs/aftersales.md: "After a return the loan's
receivables are zero, the funder is owed nothing for it, and the merchant keeps only the deductions"):
what the merchant credited to the loan at the exchange goes back to the merchant, the shopper gets back
exactly what they paid, and the books check clean."""

from __future__ import annotations

from tests.aftersales.support import (
    call,
    emulated_refunds,
    ledger_check,
    loan_account_balances,
    loan_entry_totals,
    make_sale,
    pay_installment,
    set_day,
)
from tests.aftersales.test_exchange_repair import checklist, shelf_phone
from tests.payments.payments_loopback import committed, settle_notifications, wait_for


def test_a_return_after_a_cheaper_exchange_refunds_what_the_shopper_paid(live_server: str) -> None:
    from fenqi.aftersales.returns import resume_all
    from fenqi.catalog.service import get_device
    from fenqi.servicing.service import get_loan

    sale = make_sale(down_payment="1000.00")
    cheaper = shelf_phone(sale, 1_999_00)
    set_day(2)
    paid_early = pay_installment(sale, 30_000, channel="wechatpay")
    set_day(3)
    r = call(live_server, "POST", "/api/v1/aftersales/cases", sale.clerk,
             {"imei": sale.imei, "requested": "exchange", "reason": "fault", "description": "屏幕闪烁"})
    assert r.status_code == 201, r.text
    exchange = r.json()["id"]
    assert call(live_server, "POST", f"/api/v1/aftersales/cases/{exchange}/inspection", sale.clerk,
                {"results": checklist(live_server, sale)}).status_code == 200
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{exchange}/decision", sale.clerk,
             {"outcome": "exchange", "new_imei": cheaper})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed" and r.json()["difference"] == "-4000.00"

    set_day(5)  # still within the 7-day no-reason return: the cheaper phone comes back too
    r = call(live_server, "POST", "/api/v1/aftersales/cases", sale.shopper,
             {"loan_id": sale.loan_id, "requested": "return", "reason": "no_reason"})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    assert r.json()["imei"] == cheaper
    assert call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/inspection", sale.clerk,
                {"results": checklist(live_server, sale)}).status_code == 200
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
             {"outcome": "return"})
    assert r.status_code == 200, r.text
    settle_notifications("wechatpay")

    def completed() -> bool:
        resume_all()
        return bool(call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}",
                         sale.shopper).json()["status"] == "completed")

    assert wait_for(completed, timeout=20)
    done = call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.shopper).json()
    # Exactly what the shopper paid: the down payment and the installment paid ahead, nothing of the
    # merchant's 4000 (that goes back to the merchant), and nothing left to refund by hand.
    assert done["refund_total"] == "1300.00"
    assert "manual_refund_fen" not in done["steps"]
    assert emulated_refunds("alipay", sale.down_payment_order or "") == 100_000
    assert emulated_refunds("wechatpay", paid_early) == 30_000
    with committed() as s:
        loan = get_loan(s, sale.loan_id)
        assert (loan.status, loan.credit_balance_fen) == ("cancelled", 0)
        assert get_device(s, cheaper).status == "in_stock"
        assert get_device(s, sale.imei).status == "in_stock"
    assert all(v == 0 for v in loan_account_balances(sale.loan_id).values())
    after = loan_entry_totals(sale.loan_id)
    assert after.get("funder_payable", 0) == 0
    assert after.get("merchant_payable", 0) == 0  # no deductions: the merchant is as before the sale
    assert after.get("customer_credit", 0) == 0
    report = ledger_check()
    assert report["ok"] is True, report
