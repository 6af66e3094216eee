"""Finance clears a return's refund that waits for a person (需人工处理): settled outside the channel (bank
transfer, booked as the refund would have been), sent to the channel again, or cancelled with a reason —
finance only, audited, once (a repeat, a second key or a concurrent double submit changes nothing more), and
never a fen made or lost."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from tests.aftersales.support import (
    api_key,
    call,
    emulated_refunds,
    journal_balance,
    ledger_check,
    make_sale,
    retire,
    set_day,
)
from tests.aftersales.test_return_rules import _open_and_inspect
from tests.payments.payments_loopback import committed

ACCOUNTS = ("cash_bank", "cash_alipay", "merchant_payable", "refunds_payable", "customer_credit")


def _manual(base: str, faults: Any, down_payment: str) -> tuple[Any, int, dict[str, Any]]:
    """A return whose down payment refund the channel refused for good: (sale, case id, the refund)."""
    sale = make_sale(down_payment=down_payment)
    set_day(2)
    case_id = _open_and_inspect(base, sale)
    faults("alipay", lose_refunds=1)  # ACQ.TRADE_NOT_EXIST: final
    r = call(base, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk, {"outcome": "return"})
    assert r.status_code == 200, r.text
    (refund,) = r.json()["refunds"]
    assert refund["status"] == "manual"
    return sale, case_id, refund


def _balances() -> dict[str, int]:
    return {a: journal_balance(a) for a in ACCOUNTS}


def _entries() -> int:
    from fenqi.ledger.models import JournalEntry

    with committed() as s:
        return int(s.scalar(select(func.count()).select_from(JournalEntry)) or 0)


def _audits(action: str, case_id: int) -> int:
    from fenqi.identity.models import AuditEntry

    with committed() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == action, AuditEntry.subject == f"case:{case_id}")) or 0)


def test_finance_settles_a_refund_paid_by_bank_transfer_once(live_server: str, faults: Any) -> None:
    sale, case_id, refund = _manual(live_server, faults, "1234.56")
    url = f"/api/v1/aftersales/refunds/{refund['id']}"
    _, finance = api_key("finance")
    _, collector = api_key("collector")
    before, entries = _balances(), _entries()

    # Who may, and what is refused at the door.
    assert call(live_server, "POST", f"{url}/settle", sale.clerk, {"reference": "X"}).status_code == 403
    assert call(live_server, "POST", f"{url}/settle", collector, {"reference": "X"}).status_code == 403
    assert call(live_server, "POST", f"{url}/settle", sale.shopper, {"reference": "X"}).status_code == 403
    no_key = call(live_server, "POST", f"{url}/settle", finance, {"reference": "X"}, key=None)
    assert no_key.status_code == 400 and "Idempotency-Key" in no_key.json()["message"]
    for bad in ({"reference": ""}, {"reference": "x" * 65}, {"reference": True}, {},
                {"reference": "B1", "amount": "99999.00"}):
        assert call(live_server, "POST", f"{url}/settle", finance, bad).status_code == 422, bad
    blank = call(live_server, "POST", f"{url}/settle", finance, {"reference": "   "})
    assert blank.status_code == 400 and "转账凭证号" in blank.json()["message"]
    huge = call(live_server, "POST", "/api/v1/aftersales/refunds/" + "9" * 40 + "/settle", finance, {"reference": "B1"})
    assert huge.status_code in (400, 422) and huge.json()["error"] in ("invalid_id", "invalid_request"), huge.text
    missing = call(live_server, "POST", "/api/v1/aftersales/refunds/999999999/settle", finance, {"reference": "B1"})
    assert missing.status_code == 404 and "未找到" in missing.json()["message"]
    assert _balances() == before and _entries() == entries

    listed = call(live_server, "GET", "/api/v1/aftersales/refunds", finance).json()
    assert refund["id"] in [x["id"] for x in listed]
    done = call(live_server, "POST", f"{url}/settle", finance, {"reference": "CMB-20260101-0042"}, key="settle-1")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "settled" and done.json()["amount"] == "1234.56"
    after = _balances()
    # The refund's two halves: from the merchant payable into refunds payable, then out of the bank.
    assert after["cash_bank"] - before["cash_bank"] == -123_456
    assert after["merchant_payable"] - before["merchant_payable"] == 123_456  # a liability debited
    assert after["refunds_payable"] == before["refunds_payable"]
    assert after["cash_alipay"] == before["cash_alipay"] and _entries() == entries + 2
    assert sum(after.values()) - sum(before.values()) == 0  # debits = credits: nothing made or lost
    case = call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.shopper).json()
    assert case["status"] == "completed" and case["refunds"][0]["status"] == "settled"
    assert any("银行转账" in e["text"] for e in case["events"])
    assert _audits("aftersales.refund.settled", case_id) == 1

    # The same request again: the same answer, nothing more; any other action on it: refused, clearly.
    again = call(live_server, "POST", f"{url}/settle", finance, {"reference": "CMB-20260101-0042"}, key="settle-1")
    assert again.status_code == 200 and again.json() == done.json()
    for action, body in (("settle", {"reference": "CMB-2"}), ("retry", None), ("cancel", {"reason": "重复"})):
        r = call(live_server, "POST", f"{url}/{action}", finance, body)
        assert r.status_code == 409 and r.json()["error"] == "aftersales_refund_not_manual", (action, r.text)
        assert "不在人工处理队列中" in r.json()["message"]
    # The order counts the money as refunded: the channel cannot be asked to pay it a second time.
    twice = call(live_server, "POST", "/api/v1/payments/refunds", finance,
                 {"out_trade_no": sale.down_payment_order, "amount": "0.01", "refund_ref": f"again-{case_id}"})
    assert twice.status_code in (400, 409) and twice.json()["error"] == "refund_exceeds_paid", twice.text
    assert _balances() == after and _entries() == entries + 2
    assert emulated_refunds("alipay", sale.down_payment_order or "") == 0
    assert _audits("aftersales.refund.settled", case_id) == 1
    assert ledger_check()["ok"]
    retire(sale)


def test_two_finance_users_settling_at_once_book_it_once(live_server: str, faults: Any) -> None:
    sale, case_id, refund = _manual(live_server, faults, "900.00")
    url = f"{live_server}/api/v1/aftersales/refunds/{refund['id']}/settle"
    users = [api_key("finance")[1] for _ in range(4)]
    before, entries = _balances(), _entries()
    answers: list[int] = []

    def go(headers: dict[str, str], n: int) -> None:
        import httpx

        answers.append(httpx.post(url, headers={**headers, "Idempotency-Key": f"race-{n}"},
                                  json={"reference": f"RACE-{n}"}, timeout=30).status_code)

    threads = [threading.Thread(target=go, args=(h, n)) for n, h in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 409, 409, 409], answers
    assert _entries() == entries + 2 and journal_balance("cash_bank") - before["cash_bank"] == -90_000
    assert _audits("aftersales.refund.settled", case_id) == 1
    retire(sale)


def test_finance_cancels_a_refund_with_a_reason_and_nothing_moves(live_server: str, faults: Any) -> None:
    from fenqi.payments.service import find_order

    sale, case_id, refund = _manual(live_server, faults, "800.00")
    url = f"/api/v1/aftersales/refunds/{refund['id']}"
    _, finance = api_key("finance")
    before, entries = _balances(), _entries()
    assert call(live_server, "POST", f"{url}/cancel", finance, {"reason": " "}).status_code == 400
    done = call(live_server, "POST", f"{url}/cancel", finance, {"reason": "顾客已在门店领取现金退款"})
    assert done.status_code == 200 and done.json()["status"] == "cancelled", done.text
    # A refund waiting for a person had reserved nothing: nothing to reverse, the ledger is as it was.
    assert _balances() == before and _entries() == entries
    with committed() as s:
        order = find_order(s, sale.down_payment_order or "")
        assert order is not None and order.refunded_fen == 0 and order.status == "paid"
    case = call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.shopper).json()
    assert case["status"] == "completed" and case["refund_total"] == "0.00"
    assert any("已由财务取消" in e["text"] and "门店领取" in e["text"] for e in case["events"])
    assert _audits("aftersales.refund.cancelled", case_id) == 1
    assert ledger_check()["ok"]
    retire(sale)


def test_finance_sends_a_refund_to_the_channel_again(live_server: str, faults: Any) -> None:
    sale, case_id, refund = _manual(live_server, faults, "650.00")
    _, finance = api_key("finance")
    r = call(live_server, "POST", f"/api/v1/aftersales/refunds/{refund['id']}/retry", finance)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["attempt"]) == ("succeeded", 2)  # a new refund id at the channel
    assert emulated_refunds("alipay", sale.down_payment_order or "") == 65_000
    case = call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.shopper).json()
    assert case["status"] == "completed"
    assert _audits("aftersales.refund.retried", case_id) == 1
    assert call(live_server, "POST", f"/api/v1/aftersales/refunds/{refund['id']}/retry", finance).status_code == 409
    assert emulated_refunds("alipay", sale.down_payment_order or "") == 65_000
    assert ledger_check()["ok"]
    retire(sale)


def test_the_finance_page_lists_and_settles_in_chinese_and_english(live_server: str, faults: Any) -> None:
    import httpx

    from fenqi.identity.models import User
    from fenqi.identity.sessions import SESSION_COOKIE, start_session

    sale, case_id, refund = _manual(live_server, faults, "4321.09")
    finance_id, _ = api_key("finance")
    with committed() as s:
        user = s.get(User, finance_id)
        token = start_session(s, user)
    with httpx.Client(base_url=live_server, cookies={SESSION_COOKIE: token}, timeout=30) as web:
        page = web.get("/ops/refunds")
        assert page.status_code == 200 and "人工退款处理" in page.text
        assert f'id="refund-{refund["id"]}"' in page.text and "¥4,321.09" in page.text
        assert "渠道拒绝退款" in page.text and "ACQ." not in page.text  # no channel code on a Chinese page
        assert "Refunds to handle by hand" in web.get("/ops/refunds?lang=en").text
        import re

        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text) or re.search(
            r'name="(_csrf|csrf)" value="([^"]+)"', page.text)
        assert csrf is not None
        field = csrf.group(0).split('"')[1]
        posted = web.post(f"/ops/refunds/{refund['id']}", data={field: csrf.group(csrf.lastindex or 1),
                                                                  "action": "settle", "reference": "ICBC-77"},
                          follow_redirects=True)
        assert posted.status_code == 200 and f'id="refund-{refund["id"]}"' not in posted.text
        twice = web.post(f"/ops/refunds/{refund['id']}", data={field: csrf.group(csrf.lastindex or 1),
                                                                 "action": "settle", "reference": "ICBC-77"})
        assert twice.status_code == 200 and "not waiting for manual handling" in twice.text  # English since ?lang=en
    _, clerk = api_key("clerk", sale.world.merchant_id)
    assert httpx.get(f"{live_server}/ops/refunds", headers=clerk).status_code == 403
    case = call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.shopper).json()
    assert case["status"] == "completed"
    retire(sale)
