"""In a browser: a shopper returns a phone on day 5 from the loan page; the store desk inspects and decides;
the shopper sees the case completed with the refund back on Alipay — and the money, the loan, the phone
and the books agree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Shot = Callable[[Any, str], Path]


@pytest.mark.browser
def test_shopper_returns_a_phone_on_day_5(page_as: Callable[..., Any], demo_shop: str, screenshot: Shot) -> None:
    from fenqi.catalog.service import get_device
    from fenqi.identity.service import user_by_phone
    from fenqi.servicing.service import get_loan
    from tests.aftersales.support import call, emulated_refunds, ledger_check, make_sale, set_day
    from tests.payments.payments_loopback import committed

    page = page_as("shopper")
    with committed() as s:
        user = user_by_phone(s, "13900139000")
        assert user is not None
        uid = int(user.id)
    sale = make_sale(down_payment="1000.00", shopper_user_id=uid)
    set_day(5)

    page.goto(f"/shop/loans/{sale.loan_id}")
    page.click("#start-aftersales")
    page.check("#kind-return")
    page.check("#reason-no_reason")
    page.fill("#description", "颜色不喜欢")
    page.click("#submit-aftersales")
    page.wait_for_url("**/shop/aftersales/*")
    assert page.inner_text("#case-status") == "已提交，待门店验机"
    case_id = int(page.url.rstrip("/").split("/")[-1])
    screenshot(page, "aftersales-shopper-requested")

    # The store desk: the checklist passes, the policy allows a return, the clerk chooses it.
    codes = call(demo_shop, "GET", f"/api/v1/aftersales/policy?merchant_id={sale.world.merchant_id}",
                 sale.clerk).json()["rules"]["checklist"]
    r = call(demo_shop, "POST", f"/api/v1/aftersales/cases/{case_id}/inspection", sale.clerk,
             {"results": {i["code"]: True for i in codes}})
    assert r.status_code == 200, r.text
    assert r.json()["proposal"]["allowed"] == ["return"]
    r = call(demo_shop, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk, {"outcome": "return"})
    assert r.status_code == 200, r.text

    page.reload()
    assert page.inner_text("#case-status") == "已完成"
    assert page.inner_text("#refund-total") == "¥1,000.00"
    refunds = page.inner_text("#refunds")
    assert "支付宝" in refunds and "退款成功" in refunds
    assert "分期贷款已取消" in page.inner_text("#progress")
    screenshot(page, "aftersales-shopper-refunded")

    assert emulated_refunds("alipay", sale.down_payment_order or "") == 100_000
    with committed() as s:
        assert get_loan(s, sale.loan_id).status == "cancelled"
        assert get_device(s, sale.imei).status == "in_stock"
    assert ledger_check()["ok"] is True
