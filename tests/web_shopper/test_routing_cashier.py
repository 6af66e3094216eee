"""Measured routing on the offer page (FENQI_CASHIER_ROUTING): the channels in order of their success rate
over the window, the failing one left out and the reason given in Chinese; an exploring shopper sees them all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.db import utcnow
from fenqi.origination.models import Application
from fenqi.payments.models import PaymentOrder
from fenqi.payments.service import find_order, mark_paid
from fenqi.payments.settings import get_payment_settings
from tests.origination.world import World
from tests.web_shopper.conftest import csrf_of
from tests.web_shopper.test_shopper_pages import _sign, submit, text_of


@pytest.fixture()
def routing_on(monkeypatch: pytest.MonkeyPatch, session: Session) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("FENQI_CASHIER_ROUTING", "true")
    monkeypatch.setenv("FENQI_CASHIER_ROUTING_EXPLORATION", "0")
    get_payment_settings.cache_clear()
    at, day = utcnow() - timedelta(minutes=10), business_date(session)
    for i in range(300):  # Alipay pays, WeChat Pay fails: far more orders than any other test leaves behind
        channel, status = ("alipay", "paid") if i % 2 else ("wechatpay", "failed")
        session.add(PaymentOrder(out_trade_no=f"RC{i:05d}{at:%H%M%S}", channel=channel, purpose="installment",
                                 amount_fen=10_000, subject="test", status=status, business_date=day,
                                 expires_at=at + timedelta(minutes=30), created_at=at,
                                 paid_at=at if status == "paid" else None))
    session.flush()
    yield monkeypatch
    monkeypatch.undo()
    get_payment_settings.cache_clear()


def _channels(html: str) -> list[str]:
    return re.findall(r'name="channel" value="(alipay|wechatpay)"', html)


def test_offer_page_orders_and_excludes_by_success_rate(routing_on: pytest.MonkeyPatch, shopper: TestClient,
                                                        world: World) -> None:
    app_id = int(submit(shopper, world).headers["location"].rsplit("/", 1)[1])
    offer = shopper.get(f"/shop/applications/{app_id}/offer").text
    assert _channels(offer) == ["alipay"]
    assert 'value="alipay" checked' in offer and 'value="alipay-hb-3"' in offer
    note = text_of(re.search(r'<div class="muted routing-note">(.*?)</div>', offer, flags=re.S).group(1))  # type: ignore[union-attr]
    assert note.strip().startswith("按近 1 小时支付成功率排序（支付宝 ") and "暂不提供：微信支付" in note

    routing_on.setenv("FENQI_CASHIER_ROUTING_EXPLORATION", "1")  # every shopper explores
    get_payment_settings.cache_clear()
    offer = shopper.get(f"/shop/applications/{app_id}/offer").text
    assert _channels(offer) == ["wechatpay", "alipay"] and 'value="wechatpay" checked' in offer
    assert "由低到高" in text_of(offer)


def test_signing_and_paying_with_an_excluded_channel_fails_over(routing_on: pytest.MonkeyPatch,
                                                                shopper: TestClient, world: World,
                                                                session: Session) -> None:
    app_id = int(submit(shopper, world).headers["location"].rsplit("/", 1)[1])
    refused = _sign(shopper, app_id, channel="wechatpay")[1]
    assert refused.status_code == 409
    assert "微信支付近期支付成功率过低，暂不提供，请选择其他支付方式" in text_of(refused.text)
    assert _channels(refused.text) == ["alipay"] and 'value="alipay" checked' in refused.text
    signed = _sign(shopper, app_id, channel="alipay")[1]
    assert signed.status_code == 303 and "alipay" in signed.headers["location"]

    # My loans' pay now and payoff: the same channels, the same refusal.
    app = session.get(Application, app_id)
    assert app is not None and app.payment_order
    order = find_order(session, app.payment_order)
    assert order is not None
    mark_paid(session, order, trade_no="2026120122002", paid_at=None, amount_fen=order.amount_fen)
    session.refresh(app)
    page = shopper.get(f"/shop/loans/{app.loan_id}").text
    assert _channels(page) == ["alipay", "alipay"] and "暂不提供：微信支付" in text_of(page)
    overdue = shopper.get(f"/shop/loans/{app.loan_id}/overdue").text
    assert _channels(overdue) == ["alipay"] and "暂不提供：微信支付" in text_of(overdue)
    paid = shopper.post(f"/shop/loans/{app.loan_id}/pay", follow_redirects=False,
                        data={"csrf_token": csrf_of(page), "channel": "wechatpay"})
    assert paid.status_code == 409 and "微信支付近期支付成功率过低" in text_of(paid.text)
