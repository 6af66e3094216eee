"""A return on day 5, end to end over HTTP: the shopper asks, the desk inspects and decides, the loan is
cancelled, every payment goes back through its own emulated channel, the device is back in stock, the
funder's disbursement is unwound, and `fenqi ledger check` is clean."""

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
from tests.payments.payments_loopback import committed, settle_notifications, wait_for


def case_of(base: str, headers: dict[str, str], case_id: int) -> dict:  # type: ignore[type-arg]
    r = call(base, "GET", f"/api/v1/aftersales/cases/{case_id}", headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_return_on_day_5_unwinds_everything(live_server: str) -> None:
    from fenqi.aftersales.returns import resume_all
    from fenqi.catalog.service import get_device
    from fenqi.servicing.service import get_loan

    sale = make_sale(down_payment="1000.00")
    set_day(3)
    paid_early = pay_installment(sale, 30_000, channel="wechatpay")  # paid ahead: the shopper's credit
    set_day(5)
    before = loan_entry_totals(sale.loan_id)
    assert before["funder_payable"] < 0  # the funder paid the merchant at the sale

    r = call(live_server, "POST", "/api/v1/aftersales/cases", sale.shopper,
             {"loan_id": sale.loan_id, "requested": "return", "reason": "no_reason", "description": "不喜欢"})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["day"] == 5 and case["proposal"]["allowed"] == ["return"]
    assert "第5天" in case["proposal"]["explanation"]["zh"]

    # The shopper may not decide; another merchant's clerk may not even see it.
    assert call(live_server, "POST", f"/api/v1/aftersales/cases/{case['id']}/decision", sale.shopper,
                {"outcome": "return"}).status_code == 403
    from tests.aftersales.support import api_key

    _, stranger = api_key("clerk", sale.world.other_merchant_id)
    assert call(live_server, "GET", f"/api/v1/aftersales/cases/{case['id']}", stranger).status_code == 403

    checklist = {code: True for code in _codes(live_server, sale)}
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case['id']}/inspection", sale.clerk,
             {"results": dict(checklist, charger=False)})
    assert r.status_code == 200, r.text
    assert r.json()["deductions"] == "49.00"
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case['id']}/decision", sale.clerk,
             {"outcome": "return"}, key="decide-once")
    assert r.status_code == 200, r.text
    again = call(live_server, "POST", f"/api/v1/aftersales/cases/{case['id']}/decision", sale.clerk,
                 {"outcome": "return"}, key="decide-once")
    assert again.json()["steps"] == r.json()["steps"]

    settle_notifications("wechatpay")  # WeChat Pay answers "processing"; the result comes by notification
    def completed() -> bool:
        resume_all()  # the scheduled job, in case the notification came while the decision was running
        return case_of(live_server, sale.shopper, case["id"])["status"] == "completed"

    assert wait_for(completed, timeout=20)
    done = case_of(live_server, sale.shopper, case["id"])
    assert done["refund_total"] == "1251.00"  # 1000 down payment + 300 paid ahead − 49 charger
    assert sorted((x["channel"], x["amount"], x["status"]) for x in done["refunds"]) == [
        ("alipay", "951.00", "succeeded"), ("wechatpay", "300.00", "succeeded")]
    assert any("已退回300.00元到微信支付" in e["text"] for e in done["events"])

    # The money is back in the emulated channels, the loan is cancelled, the phone is on the shelf.
    assert emulated_refunds("alipay", sale.down_payment_order or "") == 95_100
    assert emulated_refunds("wechatpay", paid_early) == 30_000
    with committed() as s:
        assert get_loan(s, sale.loan_id).status == "cancelled"
        assert get_device(s, sale.imei).status == "in_stock"
    assert all(v == 0 for v in loan_account_balances(sale.loan_id).values())
    after = loan_entry_totals(sale.loan_id)
    assert after.get("funder_payable", 0) == 0  # the disbursement is unwound
    assert after.get("merchant_payable", 0) == -4_900  # the merchant keeps the deduction, nothing else
    assert after.get("refunds_payable", 0) == 0
    report = ledger_check()
    assert report["ok"] is True, report


def _codes(base: str, sale) -> list[str]:  # type: ignore[no-untyped-def]
    r = call(base, "GET", f"/api/v1/aftersales/policy?merchant_id={sale.world.merchant_id}", sale.clerk)
    assert r.status_code == 200, r.text
    return [i["code"] for i in r.json()["rules"]["checklist"]]
