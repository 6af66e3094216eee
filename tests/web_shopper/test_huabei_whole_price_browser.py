"""The whole price paid with 花呗分期 in Chromium: the plan chooser shows each Huabei plan beside our own plans of
its term (what is paid in all, the APR by the same computation, the merchant's cost); the shopper picks 6 期
and a pick-up store, pays the whole price on Alipay's cashier (the emulator), and the confirmation page names
the phone's IMEI and the store; the statement carries the fee and reconciles clean, the books balance."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from fenqi.kit.db import session_scope
from tests.web_shopper.test_huabei_browser import _shopper_page

pytestmark = pytest.mark.browser
SKU = "IP16-128-1"  # ¥5,999.00


def test_the_whole_price_paid_with_huabei(browser: Any, demo_shop: str, screenshot: Any, artifacts_dir: Path) -> None:
    from fenqi.catalog.service import get_device
    from fenqi.kit.money import fmt_percent
    from fenqi.ledger import trial_balance
    from fenqi.origination.huabei_sales import sale_of_order
    from fenqi.payments.emulators.core import now_cst
    from fenqi.payments.reconcile import reconcile
    from fenqi.payments.settings import get_payment_settings
    from fenqi.pricing.platform import platform_plan
    from tests.payments.payments_loopback import emulator, settle_notifications

    plan = platform_plan(599_900, 6, 0, get_payment_settings().hb_fee_rates())  # the shopper pays the fee
    assert plan.shopper_fee_fen == 26_996
    phone = f"1390014{uuid.uuid4().int % 10000:04d}"
    page = _shopper_page(browser, demo_shop, phone)
    try:
        page.goto(f"/shop/phones/{SKU}")
        card = page.inner_text("#plan-hb-6")  # beside our own 6-month plans
        assert "花呗分期" in card and f"年化利率 (APR)\n{fmt_percent(plan.apr)}" in card, card
        assert "¥6,268.96" in card and "¥269.96" in card and "商家每单成本" in card
        assert "最省方案" in card
        row = page.inner_text("#hb-row-12")
        assert "¥449.93" in row  # 7.5% of ¥5,999.00, the whole fee the shopper pays over 12 periods
        screenshot(page, "shopper-huabei-whole-price-plans")
        page.locator("#plan-hb-6 a[data-hb]").click()
        assert page.locator("#hb-term-6").is_checked()
        store = page.locator("#hb-store option").first.inner_text()
        page.locator("#huabei-submit").click()
        page.wait_for_url("**/_emulator/alipay/cashier/**")
        body = page.inner_text("body")
        assert "花呗分期 6 期" in body and "5999.00" in body, body
        page.get_by_role("button", name="确认付款").click()
        page.wait_for_url("**/shop/huabei/*")
        page.locator("#sale-status", has_text="已付款").wait_for()  # survives the page's own reloads
        imei = page.inner_text("#imei").strip()
        assert store.split("（")[0] in page.inner_text("#pickup-store")
        assert "支付宝 · 花呗分期 6 期" in page.inner_text("#paid-with")
        assert "¥5,999.00" in page.inner_text("#confirmation")
        no = page.inner_text("#order-no").strip()
        screenshot(page, "shopper-huabei-whole-price-paid")
        sale_id = page.url.rstrip("/").rsplit("/", 1)[1].split("?")[0]
        page.goto("/shop/loans")  # "My loans" lists the purchase under 花呗分期购机, with its store and return date
        card = page.inner_text(f"#huabei-{sale_id}")
        assert "¥5,999.00" in card and "6 期" in card and "已付款" in card and store.split("（")[0] in card, card
        assert "7 天无理由退货至" in card, card
        assert "您还没有分期" not in page.inner_text("body")  # a 花呗 purchase is something the shopper has
    except BaseException:
        page.screenshot(path=str(artifacts_dir / "FAILED-huabei-whole-price.png"), full_page=True)
        raise
    finally:
        page.context.close()

    with session_scope() as s:
        sale = sale_of_order(s, no)
        assert sale is not None and (sale.status, sale.imei, sale.hb_fq_num) == ("paid", imei, 6)
        assert get_device(s, imei).status == "sold"
    settle_notifications("alipay")
    line = next(ln for ln in emulator("alipay").statement_lines(now_cst().date()) if ln.out_trade_no == no)
    assert (line.amount_fen, line.hb_fq_num, line.hb_shopper_fee_fen, line.hb_merchant_fee_fen) == (
        599_900, 6, 26_996, 0)
    with session_scope() as s:
        report = reconcile(s, "alipay", now_cst().date())
        assert [f for f in report.findings if f.out_trade_no == no] == []
        rows = trial_balance(s)
    assert sum(r.debit for r in rows) == sum(r.credit for r in rows)
