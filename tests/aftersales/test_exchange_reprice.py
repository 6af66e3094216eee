"""A pricier exchange re-priced as a new plan (the difference financed on the loan, a fresh contract with the
new schedule and APR signed by the shopper) — and refused when risk does not allow it, or abandoned
unsigned — over HTTP on the live server."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from tests.aftersales.support import Sale, call, journal_balance, ledger_check, make_sale, retire, set_day
from tests.aftersales.test_exchange_repair import device, opened, shelf_phone
from tests.payments.payments_loopback import committed


def _loan(sale: Sale) -> Any:
    from fenqi.servicing.service import get_loan, installments

    with committed() as s:
        loan = get_loan(s, sale.loan_id)
        rows = [r for r in installments(s, sale.loan_id) if r.status == "pending"]
        s.expunge_all()
        return loan, rows


def _pdf_text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        return ""
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True).stdout.decode()


def _disbursed(sale: Sale) -> int:
    from fenqi.funding.disbursement import disbursement_of

    with committed() as s:
        paid = disbursement_of(s, sale.application_id)
        assert paid is not None
        return paid.amount_fen


def test_a_pricier_exchange_re_priced_as_a_new_plan(live_server: str) -> None:
    from fenqi.kit.money import fmt_rate

    sale = make_sale()  # 5,999 phone, 1,000 down: 4,999 financed over 12 months
    pricier = shelf_phone(sale, 7_999_00)
    set_day(10)
    case_id = opened(live_server, sale, "exchange")
    before, _ = _loan(sale)
    funder, merchant, paid = journal_balance("funder_payable"), journal_balance("merchant_payable"), _disbursed(sale)

    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
             {"outcome": "exchange", "new_imei": pricier, "settle": "new_plan"})
    assert r.status_code == 200, r.text
    offer = r.json()["reprice"]
    assert r.json()["status"] == "processing" and offer["status"] == "offered" and offer["difference"] == "2000.00"
    assert offer["principal"] == f"{(before.principal_outstanding_fen + 200_000) / 100:.2f}"
    assert len(offer["installments"]) == 12 and offer["term"] == 12
    principal_rows = sum(round(float(x["principal"]) * 100) for x in offer["installments"])
    assert principal_rows == before.principal_outstanding_fen + 200_000
    # Nothing moved yet: the old phone is still the shopper's, the loan and the books unchanged.
    assert device(pricier)[0] == "in_stock" and device(sale.imei) == ("sold", sale.loan_id)
    assert _loan(sale)[0].financed_fen == 499_900 and journal_balance("funder_payable") == funder
    # The fresh contract, with the new figures, for the shopper (and only them and the desk).
    pdf = call(live_server, "GET", offer["contract_url"], sale.shopper)
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    text = _pdf_text(pdf.content)
    if text:
        assert "补充协议" in text and "2000.00" in text and "年化利率" in text
        assert offer["installments"][0]["total"] in text
    assert call(live_server, "GET", offer["contract_url"], sale.clerk).status_code == 200
    assert call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/reprice/sign", sale.clerk,
                {"contract_sha256": offer["contract_sha256"]}).status_code == 403
    wrong = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/reprice/sign", sale.shopper,
                 {"contract_sha256": "0" * 64})
    assert wrong.status_code == 409

    signed = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/reprice/sign", sale.shopper,
                  {"contract_sha256": offer["contract_sha256"]})
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["status"] == "completed" and body["new_imei"] == pricier and body["reprice"]["status"] == "signed"
    loan, rows = _loan(sale)
    assert loan.financed_fen == 499_900 + 200_000 and loan.price_fen == 7_999_00
    assert loan.principal_outstanding_fen == before.principal_outstanding_fen + 200_000
    assert sum(x.principal_fen - x.paid_principal_fen for x in rows) == loan.principal_outstanding_fen
    assert [(x.period, x.principal_fen + x.interest_fen + x.fee_fen) for x in rows] == [
        (x["period"], round(float(x["total"]) * 100)) for x in offer["installments"]]
    assert fmt_rate(loan.apr) == offer["apr"] == body["schedule"]["apr"]
    # The funder paid the merchant exactly the difference; the platform owes the funder that much more.
    assert journal_balance("funder_payable") == funder - 200_000
    assert journal_balance("merchant_payable") == merchant
    assert _disbursed(sale) == paid + 200_000
    assert device(pricier) == ("sold", sale.loan_id) and device(sale.imei)[1] is None
    assert ledger_check()["ok"] is True
    retire(sale)


def test_a_re_price_beyond_the_limit_is_refused_and_an_unsigned_one_abandoned(live_server: str) -> None:
    from fenqi.origination.service import get_application

    sale = make_sale()
    with committed() as s:
        limit = get_application(s, sale.application_id).credit_limit_fen
    beyond = shelf_phone(sale, sale.price_fen + limit)  # outstanding + difference > the limit
    within = shelf_phone(sale, sale.price_fen + 50_000)
    set_day(10)
    case_id = opened(live_server, sale, "exchange")
    refused = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
                   {"outcome": "exchange", "new_imei": beyond, "settle": "new_plan"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "aftersales_reprice_not_allowed"
    assert "授信额度" in refused.json()["message"] and "收银台" in refused.json()["message"]
    english = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision",
                   {**sale.clerk, "Accept-Language": "en"},
                   {"outcome": "exchange", "new_imei": beyond, "settle": "new_plan"})
    assert "credit limit" in english.json()["message"]
    bad_term = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
                    {"outcome": "exchange", "new_imei": within, "settle": "new_plan", "term": 7})
    assert bad_term.status_code == 409 and "期数" in bad_term.json()["message"]
    case = call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.shopper).json()
    assert case["status"] == "inspected" and device(beyond)[0] == "in_stock"

    offered = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
                   {"outcome": "exchange", "new_imei": within, "settle": "new_plan", "term": 24})
    assert offered.status_code == 200, offered.text
    assert offered.json()["reprice"]["term"] == 24 and len(offered.json()["reprice"]["installments"]) == 24
    dropped = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/reprice/abandon", sale.shopper)
    assert dropped.status_code == 200 and dropped.json()["status"] == "inspected"
    assert dropped.json()["reprice"]["status"] == "abandoned"
    loan, rows = _loan(sale)
    assert (loan.financed_fen, loan.term, len(rows)) == (499_900, 12, 12)
    # The cashier remains the way to pay.
    cashier = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
                   {"outcome": "exchange", "new_imei": within})
    assert cashier.status_code == 200 and cashier.json()["difference_payment"]["amount"] == "500.00"
    assert ledger_check()["ok"] is True
    retire(sale)


def test_a_re_priced_exchange_returned_unwinds_the_whole_loan(live_server: str) -> None:
    """A return after a re-price: the funder is owed nothing for the loan (the difference it paid included),
    the merchant is as before the sale, the shopper gets back what they paid, the books check clean."""
    from fenqi.aftersales.returns import resume_all
    from fenqi.servicing.service import get_loan
    from tests.aftersales.support import loan_account_balances, loan_entry_totals
    from tests.aftersales.test_exchange_repair import checklist
    from tests.payments.payments_loopback import settle_notifications, wait_for

    sale = make_sale()
    pricier = shelf_phone(sale, 6_999_00)
    set_day(3)
    case_id = opened(live_server, sale, "exchange")
    offer = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
                 {"outcome": "exchange", "new_imei": pricier, "settle": "new_plan"}).json()["reprice"]
    signed = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/reprice/sign", sale.shopper,
                  {"contract_sha256": offer["contract_sha256"]})
    assert signed.status_code == 200 and signed.json()["status"] == "completed", signed.text
    assert loan_entry_totals(sale.loan_id).get("funder_payable") == -(_disbursed(sale))

    set_day(5)
    r = call(live_server, "POST", "/api/v1/aftersales/cases", sale.shopper,
             {"loan_id": sale.loan_id, "requested": "return", "reason": "no_reason"})
    assert r.status_code == 201 and r.json()["imei"] == pricier, r.text
    back = r.json()["id"]
    assert call(live_server, "POST", f"/api/v1/aftersales/cases/{back}/inspection", sale.clerk,
                {"results": checklist(live_server, sale)}).status_code == 200
    assert call(live_server, "POST", f"/api/v1/aftersales/cases/{back}/decision", sale.clerk,
                {"outcome": "return"}).status_code == 200
    settle_notifications("alipay")

    def completed() -> bool:
        resume_all()
        return bool(call(live_server, "GET", f"/api/v1/aftersales/cases/{back}", sale.shopper
                         ).json()["status"] == "completed")

    assert wait_for(completed, timeout=20)
    assert call(live_server, "GET", f"/api/v1/aftersales/cases/{back}", sale.shopper
                ).json()["refund_total"] == "1000.00"  # the down payment: nothing else was paid
    with committed() as s:
        assert get_loan(s, sale.loan_id).status == "cancelled"
    assert all(v == 0 for v in loan_account_balances(sale.loan_id).values())
    after = loan_entry_totals(sale.loan_id)
    assert after.get("funder_payable", 0) == 0 and after.get("merchant_payable", 0) == 0
    assert device(pricier)[0] == "in_stock"
    assert ledger_check()["ok"] is True
