"""花呗分期 in Chromium: the cashier shows Huabei beside our own plan with the shopper paying the fee, then,
once the merchant takes the fee on, as 免息; the shopper pays the down payment on Alipay's cashier (the
emulator) and the day's statement carries the merchant's fee and reconciles clean. (Paying with the
shopper's fee is tested over HTTP in tests/payments/test_huabei.py.)"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fenqi.kit.db import session_scope
from tests.origination.world import World, clean_id_number

pytestmark = pytest.mark.browser
SKU, STORE = "IP16-128-1", "S-SH-XJH"  # ¥5,999: a 12-month EI plan with ¥1,000.00 down


def _shopper_page(browser: Any, live_server: str, phone: str) -> Any:
    from fenqi.identity.service import create_user
    from fenqi.identity.sessions import SESSION_COOKIE, start_session
    from tests.conftest import _new_page

    with session_scope() as s:
        token = start_session(s, create_user(s, role="shopper", display_name="花呗顾客", phone=phone))
    page = _new_page(browser, live_server, mobile=True)
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server, "httpOnly": True,
                               "sameSite": "Lax"}])
    return page


def _apply(page: Any, phone: str, born: date) -> None:
    """The application form as the browser posts it (the form itself is the journey test's), then the
    decision and the offer page."""
    from tests.web_shopper.conftest import csrf_of
    from tests.web_shopper.test_shopper_pages import form

    page.goto(f"/shop/apply?sku={SKU}&product=EI-12&term=12&down_payment=1000.00")
    data = {**form(World("", 0, 0, STORE, STORE, SKU, SKU), name="李花呗", id_number=clean_id_number(born),
                   phone=phone), "csrf_token": csrf_of(page.content())}
    posted = page.request.post("/shop/apply", form=data, max_redirects=0)
    assert posted.status == 303, posted.text()
    page.goto(posted.headers["location"])
    assert "审批已通过" in page.inner_text("#decision")
    page.get_by_role("link", name="查看合同并签署").click()
    page.wait_for_url("**/offer")


def _pay_with_huabei(page: Any, term: int, choice_text: str, cashier_text: str) -> str:
    compare = page.inner_text("#plan-compare")
    assert "分期方式对比" in compare and "商家每单成本" in compare
    option = page.locator(f'label[for="ch-hb-{term}"]')
    assert choice_text in option.inner_text()
    page.get_by_label("我已阅读合同全部条款，同意以电子签名签署").check()
    option.click()
    page.locator("#sign-button").click()
    page.wait_for_url("**/_emulator/alipay/cashier/**")
    assert cashier_text in page.inner_text("body") and "1000.00" in page.inner_text("body")
    page.get_by_role("button", name="确认付款").click()
    page.wait_for_url("**/shop/applications/*/done**")
    page.locator("#order-status", has_text="已支付").wait_for()  # survives the page's own reloads
    assert f"花呗分期 {term} 期" in page.inner_text("body")
    return str(page.locator("#order-no").inner_text())


def test_a_down_payment_paid_with_huabei_interest_free(
    browser: Any, demo_shop: str, screenshot: Any, artifacts_dir: Path
) -> None:
    from fenqi.catalog.service import get_store_by_code, set_hb_seller_percent
    from fenqi.payments.emulators.core import now_cst
    from fenqi.payments.reconcile import reconcile
    from tests.payments.payments_loopback import emulator, settle_notifications

    with session_scope() as s:
        merchant_id = get_store_by_code(s, STORE).merchant_id
    phone = f"1390013{uuid.uuid4().int % 10000:04d}"
    page = _shopper_page(browser, demo_shop, phone)
    try:
        _apply(page, phone, date(1988, 4, 9))
        # The shopper pays the fee (the merchant's default): an APR like any plan's.
        assert "年化利率 13.75%" in page.locator('label[for="ch-hb-3"]').inner_text()
        assert "¥23.00" in page.inner_text("#compare-hb-3")
        with session_scope() as s:  # the merchant takes the fee on: 免息 for the shopper
            set_hb_seller_percent(s, merchant_id, 100)
        page.reload()
        assert "¥45.00" in page.inner_text("#compare-hb-6")  # the merchant's cost per sale
        screenshot(page, "shopper-huabei-cashier")
        no = _pay_with_huabei(page, 6, "免息", "花呗分期 6 期 · 免息")
        screenshot(page, "shopper-huabei-paid")
    except BaseException:
        page.screenshot(path=str(artifacts_dir / "FAILED-huabei.png"), full_page=True)
        raise
    finally:
        page.context.close()
        with session_scope() as s:
            set_hb_seller_percent(s, merchant_id, 0)

    settle_notifications("alipay")
    line = next(ln for ln in emulator("alipay").statement_lines(now_cst().date()) if ln.out_trade_no == no)
    assert (line.hb_fq_num, line.hb_merchant_fee_fen, line.hb_shopper_fee_fen) == (6, 4_500, 0)
    with session_scope() as s:
        report = reconcile(s, "alipay", now_cst().date())
    assert [f for f in report.findings if f.out_trade_no == no] == []
