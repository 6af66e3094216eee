"""花呗分期 at the cashier (the offer page): the plans beside our own on the same footing, the merchant's
setting deciding who pays the fee (免息), and the choice carried to Alipay's extend_params."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.catalog.service import set_hb_seller_percent
from fenqi.origination.models import Application
from fenqi.payments.service import find_order, mark_paid
from tests.origination.world import World
from tests.web_shopper.test_shopper_pages import _sign, submit, text_of


def _row(html: str, term: int) -> str:
    found = re.search(rf'<tr id="compare-hb-{term}">(.*?)</tr>', html, flags=re.S)
    assert found, f"no 花呗分期 {term} row"
    return text_of(found.group(1))


def test_huabei_plans_beside_our_own_and_paid_interest_free(shopper: TestClient, world: World,
                                                             session: Session) -> None:
    done = submit(shopper, world)  # down payment ¥1,000.00
    app_id = int(done.headers["location"].rsplit("/", 1)[1])

    offer = shopper.get(f"/shop/applications/{app_id}/offer").text
    assert 'id="compare-own"' in offer
    # The shopper pays the fee (the default): 2.3% over 3 months, ¥341.00 a month, an APR like any plan's.
    assert _row(offer, 3).split() == ["花呗分期（首付）", "3", "期", "¥1,000.00", "¥341.00", "¥23.00", "13.75%",
                                      "¥0.00"]
    assert "¥75.00" in _row(offer, 12) and 'value="alipay-hb-6"' in offer

    set_hb_seller_percent(session, world.merchant_id, 100)  # the merchant pays: 免息 to the shopper
    offer = shopper.get(f"/shop/applications/{app_id}/offer").text
    assert _row(offer, 6).split() == ["花呗分期（首付）", "6", "期", "·", "免息", "¥1,000.00", "¥166.66（末期",
                                      "¥166.70）", "¥0.00", "0.00%", "¥45.00"]
    assert "hb_fq" not in text_of(offer) and "alipay-hb" not in text_of(offer)  # no codes shown

    refused = _sign(shopper, app_id, channel="alipay-hb-4")[1]
    assert refused.status_code == 400 and "花呗" in refused.text

    signed = _sign(shopper, app_id, channel="alipay-hb-6")[1]
    assert signed.status_code == 303
    biz = json.loads(parse_qs(urlparse(signed.headers["location"]).query)["biz_content"][0])
    assert biz["extend_params"] == {"hb_fq_num": "6", "hb_fq_seller_percent": "100"}
    app = session.get(Application, app_id)
    assert app is not None and app.payment_order
    order = find_order(session, app.payment_order)
    assert order is not None and (order.hb_fq_num, order.hb_merchant_fee_fen) == (6, 4_500)
    mark_paid(session, order, trade_no="2026120122001", paid_at=None, amount_fen=order.amount_fen)
    page = text_of(shopper.get(f"/shop/applications/{app_id}/done").text)
    assert "首付已支付" in page and "支付宝 · 花呗分期 6 期" in page
    assert "首付 · 支付宝 · 花呗分期 6 期" in text_of(shopper.get(f"/shop/loans/{app.loan_id}").text)
