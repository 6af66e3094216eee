"""The payments HTTP API through the real ASGI app: roles, errors, orders, refunds, reconciliation."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.payments.emulators.core import now_cst
from fenqi.payments.service import create_order, order_json
from tests.payments.payments_loopback import settle_notifications, shopper_pays

Headers = Callable[..., dict[str, str]]


def test_open_an_order_and_see_its_cashier_page(live_server: str, client: TestClient, session: Session) -> None:
    order = order_json(create_order(session, purpose="down_payment", amount_fen=52_300, channel="wechatpay",
                                    subject="首付"))
    assert (order["status"], order["amount"], order["channel"]) == ("pending", "523.00", "wechatpay")
    assert order["pay_url"].startswith(f"{live_server}/_emulator/wechatpay/cashier/")
    page = client.get(f"/payments/orders/{order['out_trade_no']}")
    assert page.status_code == 200 and "523.00" in page.text and "微信支付" in page.text
    assert client.get("/payments/orders/FQ_NOPE").status_code == 404


def test_bad_orders_are_refused_with_domain_errors(live_server: str, client: TestClient,
                                                   auth_headers: Headers) -> None:
    h = auth_headers("shopper")
    cases = [
        ({"purpose": "gift", "amount": "1.00", "channel": "alipay"}, "unknown_payment_purpose"),
        ({"purpose": "down_payment", "amount": "1.234", "channel": "alipay"}, "amount_finer_than_fen"),
        ({"purpose": "down_payment", "amount": "-5", "channel": "alipay"}, "invalid_input"),
        ({"purpose": "down_payment", "amount": "5.00", "channel": "unionpay"}, "unknown_payment_channel"),
        ({"purpose": "installment", "amount": "5.00", "channel": "alipay"}, "loan_required"),
        ({"purpose": "down_payment", "amount": "5.00", "channel": "alipay"}, "application_required"),
    ]
    for body, code in cases:
        r = client.post("/api/v1/payments/orders", headers=h, json=body)
        assert (r.status_code, r.json()["error"]) == (400, code), body
    r = client.post("/api/v1/payments/orders", headers={**h, "Accept-Language": "en"},
                    json={"purpose": "gift", "amount": "1.00", "channel": "alipay"})
    assert r.json()["message"].startswith("Unknown payment purpose")


def test_staff_endpoints_need_finance(live_server: str, client: TestClient, auth_headers: Headers) -> None:
    body = {"out_trade_no": "FQ_X", "amount": "1.00", "refund_ref": "r1"}
    assert client.post("/api/v1/payments/refunds", json=body).status_code == 401
    assert client.post("/api/v1/payments/refunds", json=body, headers=auth_headers("shopper")).status_code == 403
    r = client.post("/api/v1/payments/refunds", json=body, headers=auth_headers("finance"))
    assert (r.status_code, r.json()["error"]) == (404, "payment_order_not_found")
    r = client.post("/api/v1/payments/reconciliations", json={"channel": "alipay", "date": "yesterday"},
                    headers=auth_headers("finance"))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_input")


def test_finance_approves_settling_a_payment_found_only_in_the_statement(
        live_server: str, client: TestClient, session: Session, auth_headers: Headers, faults) -> None:  # type: ignore[no-untyped-def]
    """The notification was lost and nobody polled: reconciliation finds the money (长款), finance
    approves settling it, and the order is paid through the channel's own answer."""
    finance = auth_headers("finance")
    faults("alipay", drop=1)
    order = order_json(create_order(session, purpose="down_payment", amount_fen=88_800, channel="alipay",
                                    subject="首付"))
    shopper_pays(order["pay_url"])
    settle_notifications("alipay")
    r = client.post("/api/v1/payments/reconciliations", headers=finance,
                    json={"channel": "alipay", "date": now_cst().date().isoformat()})
    assert r.status_code == 201, r.text
    report = r.json()
    [finding] = [d for d in report["discrepancies"] if d["out_trade_no"] == order["out_trade_no"]]
    assert (finding["category"], finding["action"], finding["channel_amount"]) == ("long", "settle_order", "888.00")
    items = client.get(f"/api/v1/payments/reconciliations/{report['run_id']}/items", headers=finance).json()["items"]
    [item] = [i for i in items if i["out_trade_no"] == order["out_trade_no"]]

    # The same day again (a re-run): the same run, the same single item for the order.
    again = client.post("/api/v1/payments/reconciliations", headers=finance,
                        json={"channel": "alipay", "date": now_cst().date().isoformat()}).json()
    assert again["run_id"] == report["run_id"]
    items = client.get(f"/api/v1/payments/reconciliations/{report['run_id']}/items", headers=finance).json()["items"]
    assert [i["id"] for i in items if i["out_trade_no"] == order["out_trade_no"]] == [item["id"]]
    decision = f"/api/v1/payments/reconciliation-items/{item['id']}/decision"
    # Whoever ran it cannot approve it; a second person must, and must confirm.
    r = client.post(decision, headers=finance, json={"decision": "approve", "confirm": True})
    assert (r.status_code, r.json()["error"]) == (403, "maker_checker")
    checker = auth_headers("finance")
    r = client.post(decision, headers=checker, json={"decision": "approve"})
    assert (r.status_code, r.json()["error"]) == (409, "confirmation_required")
    assert order["out_trade_no"] in r.json()["message"]
    assert client.get(f"/api/v1/payments/orders/{order['out_trade_no']}", headers=finance).json()["status"] == "pending"
    r = client.post(decision, headers=checker, json={"decision": "approve", "note": "checked with the channel",
                                                     "confirm": True})

    assert r.status_code == 200 and r.json()["action_status"] == "approved"
    paid = client.get(f"/api/v1/payments/orders/{order['out_trade_no']}", headers=finance).json()
    assert paid["status"] == "paid"
    twice = client.post(decision, headers=checker, json={"decision": "reject"})
    assert (twice.status_code, twice.json()["error"]) == (409, "reconciliation_item_decided")
    # And the refund endpoint, idempotent by its key.
    body = {"out_trade_no": order["out_trade_no"], "amount": "88.00", "reason": "价保"}
    first = client.post("/api/v1/payments/refunds", json=body, headers={**finance, "Idempotency-Key": "k-888"})
    second = client.post("/api/v1/payments/refunds", json=body, headers={**finance, "Idempotency-Key": "k-888"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and first.json()["status"] == "succeeded"


def test_demo_page_needs_sign_in(live_server: str, client: TestClient, auth_headers: Headers) -> None:
    assert client.get("/payments/demo").status_code == 401
    assert client.get("/payments/demo", headers=auth_headers("shopper")).status_code == 200
