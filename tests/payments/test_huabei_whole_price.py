"""A phone's whole price paid with 花呗分期 (no loan of ours): the sale holds the phone, the real Alipay SDK
opens the trade with hb_fq_num and the merchant's seller percent at the emulator over HTTP, the payment sells
the phone and books the price and the merchant's fee, the statement reconciles clean; a 7-day return refunds
through Alipay with the fee given back and puts the phone back in stock; bad input writes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from fenqi.identity.principal import Principal
from fenqi.payments.emulators.core import now_cst
from fenqi.payments.reconcile import reconcile
from tests.origination.world import imei
from tests.payments.payments_loopback import committed, emulator, settle_notifications, shopper_pays, wait_for
from tests.payments.test_payment_flow import postings

PRICE = 599_900


def _shop(devices: int = 2, percent: int = 0) -> dict[str, Any]:
    from decimal import Decimal

    from fenqi.catalog.service import (
        create_merchant,
        create_model,
        create_sku,
        create_store,
        register_device,
        set_hb_seller_percent,
    )

    sfx = uuid.uuid4().hex[:6].upper()
    serial = int(uuid.uuid4().int % 10**9)
    with committed() as s:
        m = create_merchant(s, code=f"HW{sfx}", name="整单数码", region="31", fee_rate=Decimal("0.02"))
        store = create_store(s, merchant_id=m.id, code=f"HWS{sfx}", name="整单数码 一店", city="上海")
        create_model(s, code=f"HWP{sfx}", brand="Apple", name="iPhone 16")
        create_sku(s, model_code=f"HWP{sfx}", code=f"HWP{sfx}-128", storage_gb=128, colour_zh="黑色",
                   colour_en="Black", price_fen=PRICE)
        imeis = [register_device(s, imei=imei(serial * 2 + 2 * i), sku_code=f"HWP{sfx}-128", store_id=store.id).imei
                 for i in range(devices)]
        set_hb_seller_percent(s, m.id, percent)
        return {"merchant": m.id, "store": store.id, "sku": f"HWP{sfx}-128", "imeis": imeis}


def _clerk(shop: dict[str, Any]) -> Principal:
    return Principal(user_id=900_001, role="clerk", merchant_id=shop["merchant"], display_name="店员")


def _start(shop: dict[str, Any], term: object = 6, **kw: Any) -> tuple[int, str, str]:
    from fenqi.origination.huabei_sales import pay_url, start_sale

    with committed() as s:
        sale = start_sale(s, sku_code=shop["sku"], store_id=shop["store"], hb_fq_num=term, shopper_user_id=900_002,
                          **kw)
        return sale.id, sale.out_trade_no, pay_url(s, sale)


def _sale(sale_id: int) -> tuple[str, str, str | None]:
    """(the sale's status, its phone's status, the phone's IMEI)."""
    from fenqi.catalog.service import get_device
    from fenqi.origination.huabei_sales import get_sale

    with committed() as s:
        sale = get_sale(s, sale_id)
        return sale.status, get_device(s, sale.imei).status, sale.imei


def _balanced() -> None:
    from fenqi.ledger import trial_balance

    with committed() as s:
        rows = trial_balance(s)
    assert sum(r.debit for r in rows) == sum(r.credit for r in rows)


def _findings(numbers: set[str]) -> list[Any]:
    with committed() as s:
        report = reconcile(s, "alipay", now_cst().date())
    return [(f.category, f.kind, f.out_trade_no) for f in report.findings if f.out_trade_no in numbers]


@pytest.mark.parametrize(("percent", "merchant_fee", "shopper_fee"), [(0, 0, 26_996), (100, 26_996, 0)])
def test_whole_price_paid_handed_over_and_returned(live_server: str, percent: int, merchant_fee: int,
                                                   shopper_fee: int) -> None:
    from fenqi.origination.huabei_sales import hand_over, return_sale

    shop = _shop(percent=percent)
    sale_id, no, url = _start(shop, term=6)  # 6 periods: 4.5% of ¥5,999.00 = ¥269.955 → ¥269.96
    assert _sale(sale_id)[:2] == ("pending", "reserved")
    shopper_pays(url)  # the cashier page opens the trade with extend_params, the shopper pays
    trade = emulator("alipay").trades[no]
    assert (trade.hb_fq_num, trade.hb_fq_seller_percent, trade.hb_fee_fen, trade.amount_fen) == (
        6, percent, 26_996, PRICE)
    assert wait_for(lambda: _sale(sale_id)[0] == "paid")
    settle_notifications("alipay")
    assert _sale(sale_id)[1] == "sold"
    expected = [("sale", "cash_alipay", PRICE, 0), ("sale", "merchant_payable", 0, PRICE)]
    if merchant_fee:  # Alipay settles the price less the merchant's fee
        expected += [("platform_installment_fee", "platform_installment_fee", merchant_fee, 0),
                     ("platform_installment_fee", "cash_alipay", 0, merchant_fee)]
    assert postings(no) == expected
    _balanced()
    line = next(ln for ln in emulator("alipay").statement_lines(now_cst().date()) if ln.out_trade_no == no)
    assert (line.hb_fq_num, line.hb_merchant_fee_fen, line.hb_shopper_fee_fen) == (6, merchant_fee, shopper_fee)
    assert _findings({no}) == []

    with committed() as s:
        assert hand_over(s, sale_id, _clerk(shop)).status == "handed_over"
    with committed() as s:
        sale = return_sale(s, sale_id, _clerk(shop))
        refund_no = sale.refund_ref
    with committed() as s:  # asked again: the same return, no second refund
        assert return_sale(s, sale_id, _clerk(shop)).refund_ref == refund_no
    status, device_status, _ = _sale(sale_id)
    assert (status, device_status) == ("returned", "in_stock")
    from fenqi.payments.refunds import find_refund

    assert refund_no is not None
    with committed() as s:
        item = find_refund(s, refund_no)
        assert item is not None and item.amount_fen == PRICE
        out_refund_no = item.out_refund_no
    assert wait_for(lambda: _refund_status(out_refund_no) == "succeeded")
    settle_notifications("alipay")
    refund_lines = postings(out_refund_no)
    assert ("refund", "merchant_payable", PRICE, 0) in refund_lines
    assert ("refund", "cash_alipay", 0, PRICE) in refund_lines
    if merchant_fee:  # the merchant's fee comes back with the full refund
        assert ("platform_installment_fee", "cash_alipay", merchant_fee, 0) in refund_lines
    _balanced()
    net = _net(no, out_refund_no)
    assert set(net) == {"cash_alipay", "merchant_payable", "refunds_payable"} | (
        {"platform_installment_fee"} if merchant_fee else set())
    assert set(net.values()) == {0}
    assert _findings({no}) == []


def _refund_status(out_refund_no: str) -> str:
    from fenqi.payments.models import PaymentRefund

    with committed() as s:
        return str(s.scalar(select(PaymentRefund.status).where(PaymentRefund.out_refund_no == out_refund_no)))


def _net(*refs: str) -> dict[str, int]:
    """Debits less credits per account over the sale's and its refund's entries: all zero after a return."""
    net: dict[str, int] = {}
    for ref in refs:
        for _, account, debit, credit in postings(ref):
            net[account] = net.get(account, 0) + debit - credit
    return net


def test_an_expired_order_gives_the_phone_back(live_server: str) -> None:
    from fenqi.payments.polling import poll_order
    from fenqi.payments.service import get_order

    shop = _shop(devices=1)
    sale_id, no, _ = _start(shop, term=3)
    with committed() as s:
        order = get_order(s, no, lock=True)
        assert poll_order(s, order, now=order.expires_at + timedelta(minutes=1)) == "closed"
    assert _sale(sale_id)[:2] == ("expired", "in_stock")
    _, no2, _ = _start(shop, term=3)  # the one phone can be sold again
    assert no2 != no


def test_bad_input_is_refused_and_writes_nothing(live_server: str) -> None:
    from fenqi.catalog.errors import DeviceNotAvailable
    from fenqi.catalog.models import Sku
    from fenqi.kit.errors import DomainError, InvalidInput
    from fenqi.origination.models import HuabeiSale

    shop = _shop(devices=1)

    def sales() -> int:
        with committed() as s:
            return int(s.scalar(select(func.count()).select_from(HuabeiSale)
                                .where(HuabeiSale.sku_code == shop["sku"])) or 0)

    for term in (4, 24, "x", "", "6; drop", "²", "１２"):
        with pytest.raises(InvalidInput) as bad:
            _start(shop, term=term)
        assert bad.value.message("zh") == "花呗分期只能选择 3 期、6 期或 12 期"
        assert "3, 6 or 12" in bad.value.message("en")
    assert sales() == 0

    key = f"hb-double-{uuid.uuid4().hex}"
    first = _start(shop, term=12, idempotency_key=key)
    assert _start(shop, term=12, idempotency_key=key) == first  # a double submit: the first sale
    assert sales() == 1
    with pytest.raises(DeviceNotAvailable) as sold:  # the one phone is held: "already sold" for another sale
        _start(shop, term=12, imei=shop["imeis"][0])
    assert "不可销售" in sold.value.message("zh")
    with pytest.raises(InvalidInput) as none_left:
        _start(shop, term=12)
    assert "无货" in none_left.value.message("zh")
    assert sales() == 1

    with committed() as s:  # the phone is retired from sale
        sku = s.scalar(select(Sku).where(Sku.code == shop["sku"]))
        assert sku is not None
        sku.active = False
    with pytest.raises(DomainError) as retired:
        _start(shop, term=3)
    assert (retired.value.message("zh"), retired.value.message("en")) == (
        "这款手机已下架，不能购买", "This phone is no longer on sale")
    assert sales() == 1
