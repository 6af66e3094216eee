"""Who may open, see and settle an order for an application or a loan (the down-payment hijack).

Reproduced as the review did, through the live server and the emulators: a signed-in shopper asks
for a ¥0.01 `down_payment` order naming an application, pays it at the cashier, and the application
must not show 首付已付; only the order the application references, for its amount, marks it paid.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from stdnum import luhn

from tests.origination.world import add_funders, clean_id_number, imei
from tests.payments.payments_loopback import committed, order_status, settle_notifications, shopper_pays, wait_for


def _key(role: str, merchant_id: int | None = None) -> tuple[int, dict[str, str]]:
    from fenqi.identity.service import create_api_key, create_user

    with committed() as s:
        user = create_user(s, role=role, display_name=f"测试 {role}", merchant_id=merchant_id)
        _, key = create_api_key(s, user, name="test")
        return user.id, {"Authorization": f"Bearer {key}"}


def _shop() -> dict[str, Any]:
    """Two merchants with a store each, a phone in stock at the first, funders (all committed)."""
    from decimal import Decimal

    from fenqi.catalog.service import create_merchant, create_model, create_sku, create_store, register_device

    sfx = uuid.uuid4().hex[:6].upper()
    serial = int(uuid.uuid4().int % 10**9)
    with committed() as s:
        m1 = create_merchant(s, code=f"OS1{sfx}", name="测试数码", region="31", fee_rate=Decimal("0.02"))
        m2 = create_merchant(s, code=f"OS2{sfx}", name="别家通讯", region="44", fee_rate=Decimal("0.015"))
        s1 = create_store(s, merchant_id=m1.id, code=f"OSS1{sfx}", name="测试数码 一店", city="上海")
        create_model(s, code=f"OPH{sfx}", brand="Apple", name="iPhone 16")
        create_sku(s, model_code=f"OPH{sfx}", code=f"OPH{sfx}-128", storage_gb=128, colour_zh="黑色",
                   colour_en="Black", price_fen=599_900)
        device = register_device(s, imei=imei(serial * 2), imei2=imei(serial * 2 + 1), sku_code=f"OPH{sfx}-128",
                                 store_id=s1.id)
        add_funders(s, sfx)
        return {"m1": m1.id, "m2": m2.id, "store": s1.code, "sku": f"OPH{sfx}-128", "imei": device.imei}


def application_body(shop: dict[str, Any], income: str = "12000.00") -> dict[str, Any]:
    """A complete application for a new person (ID number, phone and card unique to it)."""
    card = f"622202{uuid.uuid4().int % 10**12:012d}"
    born = date(1980 + uuid.uuid4().int % 20, 1 + uuid.uuid4().int % 12, 1 + uuid.uuid4().int % 28)
    profile = {"employment": "employed", "occupation": "skilled", "employment_years": 5,
               "monthly_income": income, "housing": "own", "residence_years": 6, "bank_account": "salary",
               "savings": "20k_50k", "assets": "real_estate", "existing_credits": 1, "existing_loans": 0}
    return {"store": shop["store"], "sku": shop["sku"], "product": "EI-12", "term": 12, "down_payment": "1000.00",
            "name": "张三丰", "id_number": clean_id_number(born), "phone": f"139{uuid.uuid4().int % 10**8:08d}",
            "bank_card": card + luhn.calc_check_digit(card), "profile": profile,
            "consents": [{"kind": "credit_inquiry", "version": "credit-inquiry-2026.1"},
                         {"kind": "personal_info", "version": "personal-info-2026.1"}]}


def signed_application(base: str, shop: dict[str, Any], shopper: dict[str, str]) -> dict[str, Any]:
    """The shopper applies online, draws the contract up and signs: the down-payment order is opened."""
    body = application_body(shop)
    with httpx.Client(base_url=base, headers=shopper, timeout=30) as c:
        r = c.post("/api/v1/applications", json=body)
        assert r.status_code == 201, r.text
        app_id = r.json()["application"]["id"]
        doc = c.post(f"/api/v1/applications/{app_id}/contract")
        assert doc.status_code == 201, doc.text
        r = c.post(f"/api/v1/applications/{app_id}/sign", json={
            "contract_sha256": doc.json()["sha256"], "consent_version": "e-contract-2026.1",
            "imei": shop["imei"], "channel": "alipay"})
        assert r.status_code == 200, r.text
        return dict(r.json())


def _paid_flag(base: str, app_id: int, headers: dict[str, str]) -> bool:
    return bool(httpx.get(f"{base}/api/v1/applications/{app_id}", headers=headers).json()["down_payment_paid"])


def test_a_one_fen_down_payment_order_cannot_mark_the_application_paid(live_server: str) -> None:
    shop = _shop()
    _, shopper = _key("shopper")
    signed = signed_application(live_server, shop, shopper)
    app_id = signed["application_id"]
    real = signed["down_payment_order"]
    assert real["amount"] == "1000.00"

    # The review's request: a signed-in shopper, ¥0.01, naming the application.
    hijack = httpx.post(f"{live_server}/api/v1/payments/orders", headers=shopper, json={
        "purpose": "down_payment", "amount": "0.01", "channel": "alipay", "application_id": app_id})
    if hijack.status_code == 201:  # before the fix: the order opened; pay it as the review did
        shopper_pays(hijack.json()["pay_url"])
        no = hijack.json()["out_trade_no"]
        assert wait_for(lambda: order_status(no) == "paid")
        settle_notifications("alipay")
    assert not _paid_flag(live_server, app_id, shopper), "a ¥0.01 order marked the down payment paid"
    assert (hijack.status_code, hijack.json()["error"]) == (409, "payment_amount_mismatch")

    # Even an order opened by the back office for the application (not THE order it references, or
    # not its amount) does not mark it paid when settled.
    from fenqi.payments.service import create_order

    with committed() as s:
        stray = create_order(s, purpose="down_payment", amount_fen=100_000, channel="alipay", subject="首付",
                             application_id=app_id, loan_id=signed["loan_id"])
    shopper_pays(stray.pay_url)
    assert wait_for(lambda: order_status(stray.out_trade_no) == "paid")
    settle_notifications("alipay")
    assert not _paid_flag(live_server, app_id, shopper)

    # THE order, for its amount: paid.
    shopper_pays(real["pay_url"])
    assert wait_for(lambda: order_status(real["out_trade_no"]) == "paid")
    settle_notifications("alipay")
    assert _paid_flag(live_server, app_id, shopper)


def test_orders_only_for_what_exists_and_is_the_callers(live_server: str) -> None:
    shop = _shop()
    _, shopper = _key("shopper")
    _, stranger = _key("shopper")
    _, own_clerk = _key("clerk", shop["m1"])
    _, other_clerk = _key("clerk", shop["m2"])
    _, finance = _key("finance")
    signed = signed_application(live_server, shop, shopper)
    app_id, loan_id = signed["application_id"], signed["loan_id"]
    real_no = signed["down_payment_order"]["out_trade_no"]

    def post(headers: dict[str, str], **body: Any) -> httpx.Response:
        return httpx.post(f"{live_server}/api/v1/payments/orders", headers=headers,
                          json={"channel": "alipay", **body}, timeout=30)

    def code(r: httpx.Response) -> tuple[int, str]:
        return r.status_code, r.json().get("error", "")

    # Nothing at the cashier for a loan or application that does not exist.
    assert code(post(shopper, purpose="installment", loan_id=9_000_000_000)) == (404, "payee_not_found")
    assert code(post(shopper, purpose="down_payment", application_id=9_000_000_000)) == (404, "payee_not_found")
    assert code(post(shopper, purpose="down_payment", amount="1.00")) == (400, "application_required")
    # Someone else's: refused, whoever asks.
    assert code(post(stranger, purpose="down_payment", application_id=app_id)) == (403, "forbidden")
    assert code(post(stranger, purpose="installment", loan_id=loan_id)) == (403, "forbidden")
    assert code(post(other_clerk, purpose="installment", loan_id=loan_id)) == (403, "forbidden")
    # The owner (and the store's staff) get THE open down-payment order back, not a second one.
    for who in (shopper, own_clerk, finance):
        r = post(who, purpose="down_payment", application_id=app_id)
        assert r.status_code == 201 and r.json()["out_trade_no"] == real_no, r.text
    assert code(post(shopper, purpose="down_payment", application_id=app_id, amount="999.99")) == (
        409, "payment_amount_mismatch")
    # A loan's order is for the amount the loan defines: the next bill, or today's payoff quote.
    bill = post(shopper, purpose="installment", loan_id=loan_id)
    assert bill.status_code == 201, bill.text
    assert bill.json()["amount"] == signed_installment(loan_id)
    assert code(post(shopper, purpose="installment", loan_id=loan_id, amount="0.01")) == (
        409, "payment_amount_mismatch")
    payoff = post(own_clerk, purpose="payoff", loan_id=loan_id)
    assert payoff.status_code == 201 and payoff.json()["amount"] == payoff_total(loan_id)

    # Reading an order: its owner, its merchant's staff and finance; 404 to anyone else.
    def see(headers: dict[str, str], no: str) -> int:
        return httpx.get(f"{live_server}/api/v1/payments/orders/{no}", headers=headers).status_code

    for no in (real_no, bill.json()["out_trade_no"]):
        assert [see(h, no) for h in (shopper, own_clerk, finance, stranger, other_clerk)] == [200, 200, 200, 404, 404]

    # Auto-debit agreements: only for an existing loan of the caller's.
    def agree(headers: dict[str, str], loan: int) -> httpx.Response:
        return httpx.post(f"{live_server}/api/v1/payments/agreements", headers=headers,
                          json={"loan_id": loan, "channel": "alipay"}, timeout=30)

    assert code(agree(shopper, 9_000_000_000)) == (404, "payee_not_found")
    assert code(agree(stranger, loan_id)) == (403, "forbidden")
    mine = agree(shopper, loan_id)
    assert mine.status_code == 201, mine.text
    ext = mine.json()["external_no"]
    assert httpx.get(f"{live_server}/api/v1/payments/agreements/{ext}", headers=stranger).status_code == 404
    assert httpx.get(f"{live_server}/api/v1/payments/agreements/{ext}", headers=shopper).status_code == 200


def signed_installment(loan_id: int) -> str:
    from fenqi.kit.money import fmt_yuan, from_fen
    from fenqi.servicing.service import installments

    with committed() as s:
        first = installments(s, loan_id)[0]
        return fmt_yuan(from_fen(first.principal_fen + first.interest_fen + first.fee_fen))


def payoff_total(loan_id: int) -> str:
    from fenqi.kit.money import fmt_yuan, from_fen
    from fenqi.servicing.service import payoff_quote

    with committed() as s:
        return fmt_yuan(from_fen(payoff_quote(s, loan_id).total))


@pytest.mark.parametrize("channel", ["alipay", "wechatpay"])
def test_switching_channel_closes_the_open_down_payment_order(live_server: str, channel: str) -> None:
    shop = _shop()
    _, shopper = _key("shopper")
    signed = signed_application(live_server, shop, shopper)
    first = signed["down_payment_order"]["out_trade_no"]
    other = "wechatpay" if channel == "alipay" else "alipay"
    if channel == "alipay":  # signing opened it on Alipay: switch to WeChat Pay
        r = httpx.post(f"{live_server}/api/v1/payments/orders", headers=shopper, timeout=30, json={
            "purpose": "down_payment", "channel": other, "application_id": signed["application_id"]})
        assert r.status_code == 201, r.text
        assert r.json()["out_trade_no"] != first and order_status(first) == "closed"
        shopper_pays(r.json()["pay_url"])
        assert wait_for(lambda: order_status(r.json()["out_trade_no"]) == "paid")
        settle_notifications(other)
        assert _paid_flag(live_server, signed["application_id"], shopper)
    else:  # the same channel again: the same order
        r = httpx.post(f"{live_server}/api/v1/payments/orders", headers=shopper, timeout=30, json={
            "purpose": "down_payment", "channel": "alipay", "application_id": signed["application_id"]})
        assert r.json()["out_trade_no"] == first
