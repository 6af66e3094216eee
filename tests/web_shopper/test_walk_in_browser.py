"""One shopper, one account, in a real browser: a clerk sells a phone at the till (scan → plan → submit → sign
→ the down payment → 交付), then the shopper signs in by SMS code with the phone given at the till, finds the
loan under 我的分期 and repays the first bill at the channel's cashier (the emulator): the bill shows 已还 and
the next bill moves on. Screenshots go to test-artifacts/ (walk-in-*.png)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fenqi.kit.db import session_scope
from fenqi.origination.models import Application
from tests.origination.world import World, build_world, clean_id_number
from tests.web_shopper.test_shopper_browser import phone, sms_code

pytestmark = pytest.mark.browser
Shot = Callable[[Any, str], Path]
PHONE = "13612340015"


@pytest.fixture(scope="module")
def shop(live_server: str) -> World:
    """A small shop committed where the live server sees it (its own codes: other browser tests share the DB)."""
    with session_scope() as s:
        return build_world(s, suffix="WK")


def _clerk_page(browser: Any, live_server: str, merchant_id: int) -> Any:
    from fenqi.identity.service import create_user
    from fenqi.identity.sessions import SESSION_COOKIE, start_session

    with session_scope() as s:
        token = start_session(s, create_user(s, role="clerk", display_name="门店店员", merchant_id=merchant_id))
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844},
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(20_000)
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server, "httpOnly": True,
                          "sameSite": "Lax"}])
    return context.new_page()


def _sell_at_the_till(page: Any, shop: World, screenshot: Shot) -> int:
    """The clerk's sale, down to the handover receipt; returns the application's id."""
    from tests.web_console.helpers import pay

    page.goto("/merchant/till")
    scan = page.get_by_label("IMEI（扫码或输入）")
    scan.fill(shop.devices[0])
    scan.press("Enter")
    page.wait_for_selector("#till")
    page.locator('label.plan:has(input[value="EI-12|12"])').click()
    page.get_by_label("姓名").fill("赵晓东")
    page.get_by_label("身份证号").fill(clean_id_number(date(1987, 3, 9)))
    page.get_by_label("手机号码").fill(PHONE)
    page.get_by_label("还款银行卡号").fill("6222021234567890128")
    for question, value in (("工作情况", "employed"), ("住房情况", "own"), ("常用银行卡", "salary"),
                            ("存款", "20k_50k"), ("名下房产或汽车", "real_estate")):
        page.get_by_label(question).select_option(value)
    page.get_by_label("月收入（元）").fill("15000.00")
    page.get_by_label("现单位工作年限（年）").fill("6")
    page.get_by_label("现住址居住年限（年）").fill("4")
    page.get_by_label("在其他机构的分期 / 贷款笔数").fill("0")
    page.get_by_label("顾客已阅读并同意《征信查询授权书》").check()
    page.get_by_label("顾客已阅读并同意《个人信息处理授权书》").check()
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/merchant/applications/\d+$"))
    assert page.locator("#app-status").inner_text() == "已批准"
    page.get_by_role("button", name="生成电子合同").click()
    page.wait_for_selector("#contract-link")
    page.get_by_label("顾客已阅读合同并同意签署").check()
    page.get_by_role("button", name="签约并生成首付订单").click()
    page.wait_for_selector("#payment")
    app_id = int(page.url.split("/")[-1].split("#")[0])
    with session_scope() as s:
        app = s.get(Application, app_id)
        assert app is not None and app.payment_order
        pay(s, app.payment_order)  # the shopper pays the down payment at the counter
    page.get_by_role("button", name="交付").click(timeout=15_000)
    page.wait_for_url(re.compile(r"/merchant/applications/\d+/receipt$"))
    assert "交付凭证" in page.locator("#receipt").inner_text()
    screenshot(page, "walk-in-01-till-receipt")
    return app_id


def test_a_walk_in_sale_the_shopper_sees_and_repays_in_the_app(
    browser: Any, live_server: str, shop: World, screenshot: Shot, artifacts_dir: Path
) -> None:
    clerk = _clerk_page(browser, live_server, shop.merchant_id)
    try:
        app_id = _sell_at_the_till(clerk, shop, screenshot)
    finally:
        clerk.context.close()
    with session_scope() as s:
        app = s.get(Application, app_id)
        assert app is not None and app.loan_id is not None
        loan_id = app.loan_id

    with phone(browser, live_server, artifacts_dir, "walk-in-shopper") as page:
        page.goto("/login?next=/shop/loans")
        page.get_by_label("手机号码").fill(PHONE)
        page.locator("#agree").check()
        page.get_by_role("button", name="获取验证码").click()
        page.wait_for_url("**/login/verify**")
        page.get_by_label("6 位验证码").fill(sms_code(PHONE))
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/shop/loans")
        mine = page.locator(f'a[href="/shop/loans/{loan_id}"]')
        assert mine.count() >= 1 and "iPhone 16" in page.inner_text("body")
        screenshot(page, "walk-in-02-my-loans")

        mine.first.click()
        page.wait_for_url(f"**/shop/loans/{loan_id}")
        due_before = page.locator("#next-due").inner_text()
        assert "已还" not in page.inner_text("#bills")
        screenshot(page, "walk-in-03-loan")
        page.locator("#pay-now").click()
        page.wait_for_url("**/_emulator/*/cashier/**")
        screenshot(page, "walk-in-04-cashier")
        page.get_by_role("button", name=re.compile("确认付款|立即支付")).click()
        page.wait_for_url(re.compile(rf"/shop/loans/{loan_id}\?back=1"))
        page.wait_for_function("document.querySelector('#order-result')?.textContent.includes('已支付')")
        assert page.locator("#order-result").inner_text().startswith("月供 ¥")
        first_bill = page.locator("#bills tr").nth(1).inner_text()
        assert first_bill.startswith("1") and "已还" in first_bill, first_bill
        assert "已还" not in page.locator("#bills tr").nth(2).inner_text()
        assert page.locator("#next-due").inner_text() != due_before  # the second month's bill is next
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "walk-in-05-repaid")
