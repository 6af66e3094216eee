"""Refusals with a clear message, and a refund the channel refuses retried until it is paid."""

from __future__ import annotations

from typing import Any

from tests.aftersales.support import call, emulated_refunds, ledger_check, make_sale, retire, set_day
from tests.payments.payments_loopback import committed


def _open_and_inspect(base: str, sale: Any, reason: str = "no_reason", **results: bool) -> int:
    r = call(base, "POST", "/api/v1/aftersales/cases", sale.shopper,
             {"loan_id": sale.loan_id, "requested": "return", "reason": reason})
    assert r.status_code == 201, r.text
    case_id = int(r.json()["id"])
    codes = call(base, "GET", f"/api/v1/aftersales/policy?merchant_id={sale.world.merchant_id}", sale.clerk).json()
    checklist = {i["code"]: True for i in codes["rules"]["checklist"]}
    r = call(base, "POST", f"/api/v1/aftersales/cases/{case_id}/inspection", sale.clerk,
             {"results": {**checklist, **results}})
    assert r.status_code == 200, r.text
    return case_id


def test_a_return_after_the_window_is_refused_with_the_reason(live_server: str) -> None:
    sale = make_sale()
    set_day(9)
    case_id = _open_and_inspect(live_server, sale)
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk, {"outcome": "return"})
    assert r.status_code == 409
    assert r.json()["error"] == "aftersales_outcome_not_allowed"
    assert r.json()["message"] == "政策不允许“退货”：已过7天无理由退货期（第9天）"
    en = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision",
              {**sale.clerk, "Accept-Language": "en"}, {"outcome": "return"})
    assert en.json()["message"] == "The policy does not allow a return: The 7-day no-reason return has passed (day 9)"
    # Nothing was unwound.
    from fenqi.servicing.service import get_loan

    with committed() as s:
        assert get_loan(s, sale.loan_id).status == "active"
    body = call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.shopper).json()
    assert body["status"] == "inspected" and body["steps"] == {}
    # A state change without an Idempotency-Key is refused too.
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/cancel", sale.shopper, key=None)
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["message"]
    retire(sale)


def test_a_clerk_can_only_scan_phones_of_their_merchant(live_server: str) -> None:
    from tests.aftersales.support import api_key

    sale = make_sale()
    _, stranger = api_key("clerk", sale.world.other_merchant_id)
    r = call(live_server, "POST", "/api/v1/aftersales/cases", stranger,
             {"imei": sale.imei, "requested": "repair", "reason": "fault"})
    assert r.status_code == 404 and r.json()["error"] == "imei_not_sold_by_merchant"
    r = call(live_server, "POST", "/api/v1/aftersales/cases", sale.clerk,
             {"imei": sale.imei, "requested": "repair", "reason": "fault"})
    assert r.status_code == 201, r.text
    again = call(live_server, "POST", "/api/v1/aftersales/cases", sale.clerk,
                 {"imei": sale.imei, "requested": "return", "reason": "fault"})
    assert again.status_code == 409 and again.json()["error"] == "aftersales_case_open"
    retire(sale)


def test_a_refund_refused_by_the_channel_is_retried_until_paid(live_server: str, faults: Any) -> None:
    sale = make_sale(down_payment="800.00")
    set_day(2)
    case_id = _open_and_inspect(live_server, sale)
    faults("alipay", fail_refunds=2)
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk, {"outcome": "return"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "processing"
    assert body["steps"].keys() >= {"loan_cancelled", "disbursement_unwound", "device_returned", "refunds_planned"}
    assert [(x["status"], x["attempt"]) for x in body["refunds"]] == [("failed", 2)]
    assert "渠道拒绝退款" in body["refunds"][0]["last_error"]
    assert emulated_refunds("alipay", sale.down_payment_order or "") == 0

    second = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/resume", sale.clerk).json()
    assert [(x["status"], x["attempt"]) for x in second["refunds"]] == [("failed", 3)]
    from fenqi.aftersales.returns import resume_all

    assert resume_all()["completed"] >= 1  # the scheduled job finishes it
    done = call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.shopper).json()
    assert done["status"] == "completed"
    assert [(x["status"], x["attempt"], x["amount"]) for x in done["refunds"]] == [("succeeded", 3, "800.00")]
    texts = [e["text"] for e in done["events"]]
    assert any("第1次失败" in t for t in texts) and any("第2次失败" in t for t in texts)
    assert any("已退回800.00元到支付宝" in t for t in texts)
    assert emulated_refunds("alipay", sale.down_payment_order or "") == 80_000  # paid once, not three times
    assert ledger_check()["ok"] is True


def test_a_case_with_no_allowed_outcome_is_refused_and_the_phone_is_free_again(live_server: str) -> None:
    sale = make_sale()
    set_day(9)
    case_id = _open_and_inspect(live_server, sale)
    path = f"/api/v1/aftersales/cases/{case_id}/refuse"
    r = call(live_server, "POST", path, sale.shopper, {"reason": "x"})
    assert r.status_code == 403  # only the desk refuses
    r = call(live_server, "POST", path, sale.clerk, {"reason": "已过7天无理由退货期"}, key="refuse-1")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "refused" and r.json()["note"] == "已过7天无理由退货期"
    assert any("不予受理：已过7天无理由退货期" in e["text"] for e in r.json()["events"])
    again = call(live_server, "POST", path, sale.clerk, {"reason": "已过7天无理由退货期"}, key="refuse-1")
    assert again.json() == r.json()
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk, {"outcome": "return"})
    assert r.status_code == 409
    from sqlalchemy import select

    from fenqi.identity.models import AuditEntry, Notification

    with committed() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "aftersales.case.refused",
                                                 AuditEntry.subject == f"case:{case_id}")) is not None
        assert s.scalar(select(Notification).where(Notification.template == "aftersales.refused",
                                                   Notification.body.contains(f"售后单{case_id}"))) is not None
    r = call(live_server, "POST", "/api/v1/aftersales/cases", sale.clerk,
             {"imei": sale.imei, "requested": "repair", "reason": "fault"})
    assert r.status_code == 201, r.text
    retire(sale)


def test_a_refund_refused_for_good_or_too_often_goes_to_a_person(live_server: str, faults: Any) -> None:
    from fenqi.aftersales.returns import MAX_ATTEMPTS, backoff

    assert backoff(3).total_seconds() == 0 and backoff(4).total_seconds() == 300
    assert backoff(MAX_ATTEMPTS).total_seconds() == 320 * 60
    sale = make_sale(down_payment="1200.00")
    set_day(2)
    case_id = _open_and_inspect(live_server, sale)
    faults("alipay", lose_refunds=1)  # the channel answers ACQ.TRADE_NOT_EXIST
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk, {"outcome": "return"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(x["status"], x["attempt"]) for x in body["refunds"]] == [("manual", 1)]
    assert "ACQ.TRADE_NOT_EXIST" in body["refunds"][0]["last_error"]
    assert any("已转人工处理" in e["text"] and "1,200.00元" in e["text"] for e in body["events"])
    assert any("应退1,200.00元" in e["text"] for e in body["events"])
    # Not retried: the job and the desk leave it alone; the case stays open for operations.
    from fenqi.aftersales.returns import resume_all

    resume_all()
    again = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/resume", sale.clerk).json()
    assert again["status"] == "processing" and [x["status"] for x in again["refunds"]] == ["manual"]
    assert emulated_refunds("alipay", sale.down_payment_order or "") == 0
    retire(sale)


def test_transient_refusals_stop_after_the_cap(live_server: str, faults: Any) -> None:
    from sqlalchemy import update

    from fenqi.aftersales.models import CaseRefund
    from fenqi.aftersales.returns import MAX_ATTEMPTS

    sale = make_sale(down_payment="800.00")
    set_day(2)
    case_id = _open_and_inspect(live_server, sale)
    faults("alipay", fail_refunds=1)
    r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk, {"outcome": "return"})
    assert [(x["status"], x["attempt"]) for x in r.json()["refunds"]] == [("failed", 2)]
    with committed() as s:  # as if it had failed nine times already
        s.execute(update(CaseRefund).where(CaseRefund.case_id == case_id).values(attempt=MAX_ATTEMPTS))
    faults("alipay", fail_refunds=1)
    body = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/resume", sale.clerk).json()
    assert [(x["status"], x["attempt"]) for x in body["refunds"]] == [("manual", MAX_ATTEMPTS)]
    assert emulated_refunds("alipay", sale.down_payment_order or "") == 0
    retire(sale)
