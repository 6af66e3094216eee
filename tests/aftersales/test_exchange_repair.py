"""Exchanges (pricier: an extra down payment at the cashier; cheaper: money back per policy), a repair that
fails twice and becomes an exchange, and a complaint answered and resolved — over HTTP on the live server."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from tests.aftersales.support import (
    Sale,
    api_key,
    call,
    emulated_refunds,
    ledger_check,
    make_sale,
    retire,
    set_day,
    settle,
)
from tests.origination.world import imei
from tests.payments.payments_loopback import committed


def shelf_phone(sale: Sale, price_fen: int) -> str:
    """A phone of another model, at `price_fen`, on the merchant's shelf."""
    from fenqi.catalog.service import create_sku, get_store_by_code, register_device

    code = f"X{uuid.uuid4().hex[:8].upper()}"
    with committed() as s:
        create_sku(s, model_code=f"TPH{sale.world.suffix}", code=code, storage_gb=256, colour_zh="蓝色",
                   colour_en="Blue", price_fen=price_fen)
        device = register_device(s, imei=imei(uuid.uuid4().int % 10**11), sku_code=code,
                                 store_id=get_store_by_code(s, sale.world.store).id)
        return device.imei


def checklist(base: str, sale: Sale) -> dict[str, bool]:
    r = call(base, "GET", f"/api/v1/aftersales/policy?merchant_id={sale.world.merchant_id}", sale.clerk)
    return {i["code"]: True for i in r.json()["rules"]["checklist"]}


def opened(base: str, sale: Sale, requested: str, reason: str = "fault", **results: bool) -> int:
    r = call(base, "POST", "/api/v1/aftersales/cases", sale.clerk,
             {"imei": sale.imei, "requested": requested, "reason": reason, "description": "屏幕闪烁"})
    assert r.status_code == 201, r.text
    case_id = int(r.json()["id"])
    r = call(base, "POST", f"/api/v1/aftersales/cases/{case_id}/inspection", sale.clerk,
             {"results": {**checklist(base, sale), **results}})
    assert r.status_code == 200, r.text
    return case_id


def device(imei_: str) -> Any:
    from fenqi.catalog.service import get_device

    with committed() as s:
        d = get_device(s, imei_)
        return d.status, d.loan_id


def test_exchange_for_a_pricier_phone_takes_the_difference_at_the_cashier(live_server: str) -> None:
    from fenqi.servicing.service import get_loan

    sale = make_sale()
    pricier = shelf_phone(sale, 7_999_00)
    set_day(10)  # a fault on day 10: exchange or repair, no longer a return
    case_id = opened(live_server, sale, "exchange")
    refused = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
                   {"outcome": "return"})
    assert refused.status_code == 409 and "第10天" in refused.json()["message"]
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
             {"outcome": "exchange", "new_imei": pricier})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "processing" and body["difference"] == "2000.00"
    payment = body["difference_payment"]
    assert payment["amount"] == "2000.00" and payment["status"] == "pending"
    assert device(pricier) == ("sold", sale.loan_id)
    assert device(sale.imei) == ("in_stock", None)
    settle(payment["out_trade_no"], payment["pay_url"])
    done = call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.shopper).json()
    assert done["status"] == "completed" and done["new_imei"] == pricier
    with committed() as s:
        loan = get_loan(s, sale.loan_id)
        assert (loan.status, loan.financed_fen, loan.credit_balance_fen) == ("active", 499_900, 0)
    assert ledger_check()["ok"] is True
    retire(sale)


def test_exchange_for_a_cheaper_phone_gives_the_difference_back_per_policy(live_server: str) -> None:
    from fenqi.aftersales.policies import set_policy
    from fenqi.aftersales.policy import DEFAULT_POLICY, policy_to_json
    from fenqi.kit.money import fmt_rate
    from fenqi.servicing.service import get_loan

    sale = make_sale(down_payment="1000.00")
    with committed() as s:
        set_policy(s, merchant_id=sale.world.merchant_id,
                   rules={**policy_to_json(DEFAULT_POLICY), "cheaper_exchange": "refund"})
    cheaper = shelf_phone(sale, 1_999_00)
    set_day(4)
    case_id = opened(live_server, sale, "exchange")
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
             {"outcome": "exchange", "new_imei": cheaper})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "completed" and body["difference"] == "-4000.00"
    # 1000 back to the down payment's channel; the merchant pays the other 3000 off the loan (interest to
    # date first, the rest principal, no prepayment fee) and the schedule is re-amortized over the same term.
    assert emulated_refunds("alipay", sale.down_payment_order or "") == 100_000
    principal = int(body["steps"]["principal_reduced"])
    assert 290_000 < principal <= 300_000
    with committed() as s:
        loan = get_loan(s, sale.loan_id)
        assert (loan.credit_balance_fen, loan.principal_outstanding_fen) == (0, 499_900 - principal)
        assert loan.price_fen == 1_999_00  # a later exchange's difference is reckoned from the phone now held
        apr = fmt_rate(loan.apr)
    schedule = body["schedule"]
    assert schedule["principal_outstanding"] == f"{(499_900 - principal) / 100:.2f}"
    assert len(schedule["installments"]) == 12 and schedule["apr"] == apr
    monthly = {row["total"] for row in schedule["installments"][1:-1]}
    assert len(monthly) == 1 and float(monthly.pop()) < 499_900 / 12 / 100  # lower than before
    texts = [e["text"] for e in body["events"]]
    assert any("3,000.00元由商户用于提前还款" in t and "不收提前还款手续费" in t for t in texts)
    assert device(cheaper) == ("sold", sale.loan_id)
    assert ledger_check()["ok"] is True
    retire(sale)


def test_a_repair_that_fails_twice_becomes_an_exchange(live_server: str, tmp_path: Path) -> None:
    sale = make_sale()
    loaner = shelf_phone(sale, 999_00)
    same_price = shelf_phone(sale, 5_999_00)
    set_day(40)
    case_id = opened(live_server, sale, "repair")
    first = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
                 {"outcome": "exchange", "new_imei": same_price})
    assert first.status_code == 409  # day 40: repair only, for now
    body = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
                {"outcome": "repair"}).json()
    ticket = body["repair"]
    assert ticket["free"] is True and ticket["status"] == "received" and ticket["breached"] is False
    tid = ticket["id"]
    assert call(live_server, "POST", f"/api/v1/aftersales/repairs/{tid}/loaner", sale.clerk,
                {"imei": loaner}).status_code == 200
    assert device(loaner)[0] == "loaned"
    bad = call(live_server, "POST", f"/api/v1/aftersales/repairs/{tid}/status", sale.clerk, {"status": "collected"})
    assert bad.status_code == 409 and bad.json()["error"] == "repair_bad_transition"
    for status in ("diagnosing", "repairing", "ready", "failed", "ready", "failed"):
        r = call(live_server, "POST", f"/api/v1/aftersales/repairs/{tid}/status", sale.clerk, {"status": status})
        assert r.status_code == 200, (status, r.text)
    assert r.json()["repair"]["failed_repairs"] == 2
    assert any("可为您换货" in e["text"] for e in r.json()["events"])

    pdf = call(live_server, "GET", f"/api/v1/aftersales/repairs/{tid}/slip.pdf", sale.shopper)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        (tmp_path / "slip.pdf").write_bytes(pdf.content)
        text = subprocess.run(["pdftotext", str(tmp_path / "slip.pdf"), "-"], capture_output=True, text=True).stdout
        assert "维修受理单" in text and sale.imei in text and "月供照常" in text

    r = call(live_server, "POST", f"/api/v1/aftersales/repairs/{tid}/escalate", sale.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["proposal"]["allowed"][0] == "exchange"
    assert device(loaner)[0] == "in_stock"
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
             {"outcome": "exchange", "new_imei": same_price})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed" and r.json()["repair"]["status"] == "escalated"
    assert device(same_price) == ("sold", sale.loan_id)
    assert ledger_check()["ok"] is True
    retire(sale)


def test_a_complaint_is_answered_and_resolved_and_feedback_counts(live_server: str) -> None:
    sale = make_sale()
    _, finance = api_key("finance")
    _, other_shopper = api_key("shopper", phone=f"136{uuid.uuid4().int % 10**8:08d}")
    r = call(live_server, "POST", "/api/v1/aftersales/complaints", sale.shopper,
             {"category": "fees", "text": "月供比合同多扣了", "loan_id": sale.loan_id})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["status"] == "open" and c["breaches"] == []
    from datetime import datetime

    filed = datetime.fromisoformat(c["respond_by"]) - datetime.fromisoformat(c["resolve_by"])
    assert filed.total_seconds() == -6 * 24 * 3600  # 24 h to answer, 7 days to resolve
    assert call(live_server, "GET", f"/api/v1/aftersales/complaints/{c['id']}", other_shopper).status_code == 403
    premature = call(live_server, "POST", f"/api/v1/aftersales/complaints/{c['id']}/steps", finance,
                     {"action": "resolve", "text": "已处理"})
    assert premature.status_code == 409 and premature.json()["error"] == "complaint_state"
    for action, text in (("assign", ""), ("respond", "经核实为代扣重复，已安排退款"), ("escalate", "需主管确认"),
                         ("respond", "主管已确认"), ("resolve", "已退还多扣的12.00元")):
        r = call(live_server, "POST", f"/api/v1/aftersales/complaints/{c['id']}/steps", finance,
                 {"action": action, "text": text})
        assert r.status_code == 200, (action, r.text)
    final = call(live_server, "GET", f"/api/v1/aftersales/complaints/{c['id']}", sale.shopper).json()
    assert final["status"] == "resolved" and final["level"] == 2
    assert final["resolution"] == "已退还多扣的12.00元" and final["breaches"] == []
    assert [e["kind"] for e in final["events"]] == ["filed", "assigned", "answered", "escalated", "answered",
                                                    "resolved"]

    rated = call(live_server, "POST", "/api/v1/aftersales/feedback", sale.shopper,
                 {"about": "purchase", "subject_id": sale.loan_id, "score": 9, "comment": "很快"})
    assert rated.status_code == 201, rated.text
    assert call(live_server, "POST", "/api/v1/aftersales/feedback", other_shopper,
                {"about": "purchase", "subject_id": sale.loan_id, "score": 0}).status_code == 403
    nps = call(live_server, "GET", f"/api/v1/aftersales/nps?merchant_id={sale.world.merchant_id}", finance).json()
    assert nps == {"responses": 1, "promoters": 1, "detractors": 0, "nps": 100}
    retire(sale)
