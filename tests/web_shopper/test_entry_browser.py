"""The way in on a phone (390 px, Chinese): the shop at `/` (and its calculator) → a phone → its plans →
sign-in, where the agreement must be ticked and a wrong number stays as typed → the form with the
signed-in number filled in.
Screenshots: test-artifacts/entry-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web_shopper.test_shopper_browser import (
    SKU,
    Shot,
    assert_chinese_renders,
    assert_fits_the_phone,
    phone,
    sms_code,
)

pytestmark = pytest.mark.browser
NUMBER = "13700137031"


def test_from_the_shop_to_the_form_on_a_phone(
    browser: Any, demo_shop: str, screenshot: Shot, artifacts_dir: Path,
) -> None:
    with phone(browser, demo_shop, artifacts_dir, "entry") as page:
        page.goto("/")
        assert_chinese_renders(page)
        assert_fits_the_phone(page)
        card = page.locator(f'a[data-sku="{SKU}"]')
        assert "低至 ¥" in card.inner_text()
        assert page.locator("#staff-sign-in").inner_text() == "员工登录"
        assert page.locator("#to-calculator").get_attribute("href") == "/calculator"
        screenshot(page, "entry-01-home")
        page.locator("#to-calculator").click()
        page.wait_for_url("**/calculator")
        page.get_by_label("手机价格（元）").fill("3999")
        page.get_by_role("button", name="查看方案").click()
        page.wait_for_url("**/calculator?price=3999")
        assert page.locator(".plan-card").count() > 0 and "年化利率" in page.locator(".plan-card").first.inner_text()
        assert_fits_the_phone(page)
        screenshot(page, "entry-02-calculator")
        page.goto("/")

        card.click()
        page.wait_for_url(f"**/shop/phones/{SKU}")
        page.locator('.card.plan[data-product="EI-12"][data-term="12"]').get_by_role("link", name="选择此方案").click()
        page.wait_for_selector("#phone-login")  # the sign-in form, on the form's own address (401)
        here = page.url
        page.get_by_label("手机号码").fill(NUMBER[:-1])  # one digit short
        page.get_by_role("button", name="获取验证码").click()  # not ticked: the browser keeps the form here
        assert page.url == here and page.locator("#agree").evaluate("e => !e.validity.valid")
        page.locator("#agree").check()
        page.get_by_role("button", name="获取验证码").click()
        page.wait_for_selector("#login-error")
        assert page.locator("#login-error").inner_text().startswith("手机号码无效")
        assert page.get_by_label("手机号码").input_value() == NUMBER[:-1] and page.locator("#agree").is_checked()
        assert_fits_the_phone(page)
        screenshot(page, "entry-03-sign-in-wrong-number")

        page.get_by_label("手机号码").fill(NUMBER)
        page.get_by_role("button", name="获取验证码").click()
        page.wait_for_url("**/login/verify**")
        page.get_by_label("6 位验证码").fill(sms_code(NUMBER))
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/shop/apply?**")
        assert page.get_by_label("手机号码").input_value() == NUMBER  # the number just verified
        assert_fits_the_phone(page)
        screenshot(page, "entry-04-form-with-number")

        page.goto("/legal/privacy")
        assert "个人信息保护法" in page.inner_text("#legal-text")
        assert_fits_the_phone(page)
        screenshot(page, "entry-05-privacy")
