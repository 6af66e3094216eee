"""The shopper's whole journey in Debian's Chromium on a phone-sized screen, in Chinese: catalog → plans
→ sign in by SMS code → application form (checked live) → approved → contract and signing → Alipay's
cashier (the emulator) → confirmation → my loans, where a bill is paid at WeChat Pay's cashier. Then the
first pages in English. Screenshots go to test-artifacts/ (shopper-*.png)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fenqi.identity.outbox import latest_notification, text_to_send
from fenqi.kit.db import session_scope
from tests.origination.world import clean_id_number
from tests.origination.world import id_number as make_id_number

pytestmark = pytest.mark.browser
Shot = Callable[[Any, str], Path]
CJK = re.compile(r"[\u4e00-\u9fff]")
SKU = "IP16-128-1"  # Apple iPhone 16 128GB 群青色, ¥5,999 in the demo catalog
PHONE = "13700137000"


def phone_page(browser: Any, live_server: str, locale: str = "zh-CN") -> Any:
    context = browser.new_context(base_url=live_server, locale=locale, viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, is_mobile=True, has_touch=True, timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    return context.new_page()


def assert_chinese_renders(page: Any) -> None:
    assert len(CJK.findall(page.inner_text("body"))) >= 10
    # The CJK font is installed and picked: Chinese is drawn with it, not as empty boxes.
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '分期手机')")


def assert_fits_the_phone(page: Any) -> None:
    """A mobile page: nothing wider than the screen (the plan rows scroll inside themselves)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def sms_code(phone: str) -> str:
    with session_scope() as s:
        sms = latest_notification(s, to=phone, template="login_code")
        assert sms is not None
        return re.search(r"\d{6}", text_to_send(sms)).group(0)  # type: ignore[union-attr]


@contextmanager
def phone(browser: Any, live_server: str, artifacts_dir: Path, name: str) -> Iterator[Any]:
    """A phone-sized page; on failure its screenshot (FAILED-<name>.png) and its text go with the report."""
    page = phone_page(browser, live_server)
    try:
        yield page
    except BaseException:
        try:
            page.screenshot(path=str(artifacts_dir / f"FAILED-{name}.png"), full_page=True, timeout=5000)
            print(f"--- {page.url}\n{page.inner_text('body', timeout=5000)}")
        except Exception as exc:  # the page itself may be what hangs
            print(f"no failure screenshot: {exc!r}")
        raise
    finally:
        page.context.close()


def test_shopper_buys_a_phone_on_installments_in_chinese(
    browser: Any, demo_shop: str, screenshot: Shot, artifacts_dir: Path
) -> None:
    with phone(browser, demo_shop, artifacts_dir, "shopper-journey") as page:
        _journey(page, screenshot)


def _journey(page: Any, screenshot: Shot) -> None:
    page.goto("/shop")
    assert_chinese_renders(page)
    assert_fits_the_phone(page)
    card = page.locator(f'a[data-sku="{SKU}"]')
    assert "¥5,999.00" in card.inner_text() and "低至 ¥" in card.inner_text()
    screenshot(page, "shopper-01-catalog")

    card.click()
    page.wait_for_url(f"**/shop/phones/{SKU}")
    plan = page.locator('.card.plan[data-product="EI-12"][data-term="12"]')
    assert "12.00%" in plan.locator(".apr").inner_text()
    plan.get_by_text("查看完整还款计划").click()
    assert plan.locator("table.schedule tr").count() == 13
    assert_fits_the_phone(page)
    screenshot(page, "shopper-02-plans")

    plan.get_by_role("link", name="选择此方案").click()
    # Not signed in yet: the sign-in form, and back to this very plan afterwards.
    page.get_by_label("手机号码").fill(PHONE)
    page.locator("#agree").check()  # the terms and the privacy policy
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url("**/login/verify**")
    page.get_by_label("6 位验证码").fill(sms_code(PHONE))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/shop/apply?**")
    assert "term=12" in page.url and "product=EI-12" in page.url
    assert "12.00%" in page.locator("#chosen-plan").inner_text()

    # Checked in the browser as the shopper types: a wrong check digit, a minor, a bad card number.
    id_number = clean_id_number(date(1991, 6, 15))
    wrong = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
    page.get_by_label("身份证号码").fill(wrong)
    page.get_by_label("还款银行卡号").fill("6222021234567890127")
    page.get_by_label("手机号码").click()
    assert page.locator("#e-id_number").inner_text() == "身份证号码无效：校验码错误"
    page.get_by_label("手机号码").fill("12345")
    page.get_by_label("姓名").click()
    assert page.locator("#e-bank_card").inner_text().startswith("银行卡号无效")
    assert page.locator("#e-phone").inner_text().startswith("请填写 11 位")
    page.get_by_label("身份证号码").fill(make_id_number(date(2010, 5, 1)))  # 16 years old
    page.get_by_label("姓名").click()
    assert page.locator("#e-id_number").inner_text() == "须年满 18 周岁才能申请分期"
    screenshot(page, "shopper-03-form-errors")

    page.get_by_label("姓名").fill("王小明")
    page.get_by_label("身份证号码").fill(id_number)
    page.get_by_label("手机号码").fill(PHONE)
    page.get_by_label("还款银行卡号").fill("6222021234567890128")
    page.get_by_label("取货门店").select_option("S-SH-XJH")
    page.get_by_label("工作情况").select_option("employed")
    page.get_by_label("现单位工作年限（年）").fill("6")
    page.get_by_label("月收入（元）").fill("15000")
    page.get_by_label("住房情况").select_option("own")
    page.get_by_label("现住址居住年限（年）").fill("8")
    page.get_by_label("常用银行卡").select_option("salary")
    page.get_by_label("存款").select_option("20k_50k")
    page.get_by_label("名下房产或汽车").select_option("real_estate")
    page.get_by_label("我已阅读并同意《征信查询授权书》").check()
    page.get_by_label("我已阅读并同意《个人信息处理授权书》").check()
    assert page.locator(".err:not(:empty)").count() == 0
    assert_fits_the_phone(page)
    screenshot(page, "shopper-04-form")

    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r".*/shop/applications/\d+$"))
    assert "审批已通过" in page.inner_text("#decision")
    screenshot(page, "shopper-05-approved")

    page.get_by_role("link", name="查看合同并签署").click()
    page.wait_for_url("**/offer")
    offer = page.locator("#offer").inner_text()
    assert offer.startswith("Apple iPhone 16") and "年化利率 (APR) 12.00%" in offer
    first_page = page.locator("#contract-pages img").first
    first_page.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('#contract-pages img').naturalWidth > 300")
    assert page.locator("#contract-pdf").get_attribute("href").endswith("/contract.pdf")
    assert id_number not in page.content() and "王小明" not in page.content()
    page.get_by_label("我已阅读合同全部条款，同意以电子签名签署").check()
    page.get_by_label("支付宝", exact=True).check()  # not one of the 花呗分期 choices
    assert_fits_the_phone(page)
    screenshot(page, "shopper-06-contract")

    page.locator("#sign-button").click()
    page.wait_for_url("**/_emulator/alipay/cashier/**")
    assert "支付宝 · 收银台" in page.inner_text("body") and "599.90" in page.inner_text("body")
    screenshot(page, "shopper-07-alipay-cashier")

    page.get_by_role("button", name="确认付款").click()
    page.wait_for_url("**/shop/applications/*/done**")
    # the page reloads itself until the payment is confirmed; the heading and the order status agree
    page.locator("#confirmation h1.ok", has_text="首付已支付，分期已生效").wait_for()
    assert "已支付" in page.locator("#order-status").inner_text()
    done = page.inner_text("body")
    assert "首付已支付，分期已生效" in done and "¥599.90" in done and "IMEI" in done
    imei = page.locator("#imei").inner_text()
    assert re.fullmatch(r"\d{15}", imei)
    html = page.content()
    assert "王小明" not in html and PHONE not in html and id_number not in html  # personal data only masked
    assert "137****7000" in done  # who is signed in, masked
    assert_fits_the_phone(page)
    screenshot(page, "shopper-08-paid")

    page.get_by_role("link", name="查看我的分期").click()
    page.wait_for_url(re.compile(r".*/shop/loans/\d+$"))
    loan = page.inner_text("body")
    assert "下一还款日" in loan and "提前结清" in loan and imei in loan and "首付 · 支付宝" in loan
    assert_fits_the_phone(page)
    screenshot(page, "shopper-09-loan")

    # Pay the first bill now, with WeChat Pay this time: its cashier, then back to the loan.
    page.locator("#pay-form").get_by_label("微信支付").check()
    page.get_by_role("button", name=re.compile("立即还款")).click()
    page.wait_for_url("**/_emulator/wechatpay/cashier/**")
    assert "微信支付" in page.inner_text("body")
    page.get_by_role("button", name="立即支付").click()
    page.wait_for_url("**/shop/loans/*?back=1")
    page.wait_for_function("document.querySelector('#order-result')?.textContent.includes('已支付')")
    assert page.locator("#order-result").inner_text().startswith("月供 ¥479.70")
    # The bill paid early shows as paid; the next bill is the second month's.
    assert "已还（预存，到期抵扣）" in page.inner_text("#bills")
    assert "本期应还（可提前还） ¥479.70" in page.inner_text("#next-bill").replace("\n", " ")
    assert_fits_the_phone(page)
    screenshot(page, "shopper-10-paid-a-bill")
    page.get_by_role("link", name="我的分期").first.click()
    page.wait_for_url("**/shop/loans")
    assert "Apple iPhone 16 128GB 群青色" in page.inner_text("body")
    assert_fits_the_phone(page)
    screenshot(page, "shopper-11-my-loans")


def test_first_pages_in_english(browser: Any, demo_shop: str, screenshot: Shot, artifacts_dir: Path) -> None:
    # A Chinese phone: English by the switch.
    with phone(browser, demo_shop, artifacts_dir, "shopper-english") as page:
        _first_pages_in_english(page, screenshot)


def _first_pages_in_english(page: Any, screenshot: Shot) -> None:
    page.goto("/shop")
    page.get_by_role("link", name="English").click()
    assert "Pick a phone, pay in installments" in page.inner_text("body")
    assert "/month" in page.locator(f'a[data-sku="{SKU}"]').inner_text()
    screenshot(page, "shopper-en-01-catalog")
    page.locator(f'a[data-sku="{SKU}"]').click()
    plan = page.locator('.card.plan[data-product="EI-12"][data-term="12"]')
    assert "APR" in plan.inner_text() and "Total cost" in plan.inner_text()
    screenshot(page, "shopper-en-02-plans")
    plan.get_by_role("link", name="Choose this plan").click()
    assert "Sign in with your mobile number" in page.inner_text("body")
    page.get_by_label("Mobile number").fill("13700137009")
    page.locator("#agree").check()
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_url("**/login/verify**")
    page.get_by_label("6-digit code").fill(sms_code("13700137009"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/shop/apply?**")
    page.get_by_label("Resident ID number").fill("11010519900307803")
    page.get_by_label("Full name").click()
    assert page.locator("#e-id_number").inner_text() == "Invalid resident ID number: must be 18 characters"
    page.get_by_role("button", name="Submit the application").click()  # stopped in the browser
    assert page.locator("#e-consent_credit_inquiry").inner_text() == "Read and agree to this consent separately"
    assert "/shop/apply?" in page.url
    screenshot(page, "shopper-en-03-form")
