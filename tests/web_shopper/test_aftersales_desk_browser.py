"""In a browser, as the clerk at the store desk and the shopper on their phone would do it: an exchange for a
cheaper phone (the shopper sees the re-amortized schedule with its APR) and then for a pricier one financed as
a new plan (the shopper signs the new contract on their phone), a repair that takes longer than the
loaner days (the desk is asked to lend one, the shopper is told), and a complaint filed by the shopper and
answered and resolved by operations. Every page is in Chinese: no English codes, no UTC times, no raw JSON;
the screenshots are in test-artifacts/."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Shot = Callable[[Any, str], Path]

# Codes the pages must translate, and the marks of a UTC timestamp or of JSON.
_CODES = re.compile(r"\b(requested|inspected|processing|completed|cancelled|succeeded|pending|failed|alipay|wechatpay|"
                    r"received|diagnosing|repairing|collected|escalated|answered|resolved|down_payment|no_reason|"
                    r"exchange|repair|return)\b")
_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\+00:00|UTC")


def assert_zh(page: Any) -> None:
    text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
    assert not _CODES.search(text), _CODES.search(text)
    assert not _UTC.search(text), _UTC.search(text)
    assert '{"' not in text and "':" not in text


def _page_for(browser: Any, live_server: str, user_id: int, mobile: bool) -> Any:
    from fenqi.identity.models import User
    from fenqi.identity.sessions import SESSION_COOKIE, start_session
    from fenqi.kit.db import session_scope
    from tests.conftest import _new_page

    with session_scope() as s:
        user = s.get(User, user_id)
        assert user is not None
        token = start_session(s, user)
    page = _new_page(browser, live_server, mobile=mobile)
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server, "httpOnly": True,
                               "sameSite": "Lax"}])
    return page


def _clerk_page(browser: Any, live_server: str, merchant_id: int) -> Any:
    from fenqi.identity.service import create_user
    from fenqi.kit.db import session_scope

    with session_scope() as s:
        user = create_user(s, role="clerk", display_name="门店店员", merchant_id=merchant_id,
                           username=f"desk.{uuid.uuid4().hex[:8]}", password="Desk-Passw0rd!")
        uid = int(user.id)
    return _page_for(browser, live_server, uid, mobile=False)


def _shopper() -> int:
    from fenqi.identity.service import user_by_phone
    from tests.payments.payments_loopback import committed

    with committed() as s:
        user = user_by_phone(s, "13900139000")
        assert user is not None
        return int(user.id)


def _open_at_desk(desk: Any, imei: str, requested: str, description: str) -> int:
    desk.goto("/merchant/aftersales")
    assert_zh(desk)
    desk.fill("#imei", imei)
    desk.select_option("#requested", requested)
    desk.select_option("#reason", "fault")
    desk.fill("#description", description)
    desk.click("#desk-open button[type=submit]")
    desk.wait_for_url(re.compile(r".*/merchant/aftersales/\d+$"))
    desk.click("#inspect-submit")
    desk.wait_for_selector("#proposal")
    return int(desk.url.rstrip("/").split("/")[-1])


@pytest.mark.browser
def test_exchange_for_a_cheaper_phone_at_the_desk(page_as: Callable[..., Any], browser: Any, demo_shop: str,
                                                  screenshot: Shot) -> None:
    from tests.aftersales.support import ledger_check, make_sale, retire, set_day
    from tests.aftersales.test_exchange_repair import shelf_phone

    shopper = page_as("shopper")
    sale = make_sale(down_payment="1000.00", shopper_user_id=_shopper())
    cheaper = shelf_phone(sale, 3_999_00)
    set_day(4)
    desk = _clerk_page(browser, demo_shop, sale.world.merchant_id)
    case_id = _open_at_desk(desk, sale.imei, "exchange", "屏幕闪烁")
    screenshot(desk, "aftersales-desk-exchange-proposal")
    desk.fill("form:has(#decide-exchange) input[name=new_imei]", cheaper)
    desk.click("#decide-exchange")
    desk.wait_for_selector("#new-schedule")
    assert desk.inner_text("#desk-status") == "已完成"
    assert "由商户用于提前还款" in desk.inner_text("body")
    assert_zh(desk)
    screenshot(desk, "aftersales-desk-exchange-done")

    shopper.goto(f"/shop/aftersales/{case_id}")
    assert shopper.inner_text("#case-status") == "已完成"
    schedule = shopper.inner_text("#new-schedule")
    assert "年化利率" in schedule and "%" in shopper.inner_text("#schedule-apr")
    assert "不收提前还款手续费" in schedule
    assert_zh(shopper)
    screenshot(shopper, "aftersales-shopper-exchange-schedule")
    assert ledger_check()["ok"] is True

    # Then a pricier one, the difference financed as a new plan: the shopper reads and signs the new contract.
    pricier = shelf_phone(sale, 7_999_00)
    second = _open_at_desk(desk, cheaper, "exchange", "听筒无声")
    desk.fill("form:has(#decide-exchange) input[name=new_imei]", pricier)
    desk.select_option("#settle", "new_plan")
    desk.click("#decide-exchange")
    desk.wait_for_selector("#desk-reprice")
    assert desk.inner_text("#reprice-status") == "待顾客签署新合同"
    assert_zh(desk)
    shopper.goto(f"/shop/aftersales/{second}")
    assert "%" in shopper.inner_text("#reprice-apr") and "签署新合同" in shopper.inner_text("#reprice")
    assert_zh(shopper)
    screenshot(shopper, "aftersales-shopper-reprice-offer")
    shopper.check("#reprice-agree")
    shopper.click("#reprice-sign")
    shopper.wait_for_selector("#new-schedule")
    assert shopper.inner_text("#case-status") == "已完成"
    assert "新合同" in shopper.inner_text("#new-schedule") and "%" in shopper.inner_text("#schedule-apr")
    assert_zh(shopper)
    assert ledger_check()["ok"] is True
    retire(sale)


@pytest.mark.browser
def test_a_repair_with_a_loaner_at_the_desk(page_as: Callable[..., Any], browser: Any, demo_shop: str,
                                            screenshot: Shot) -> None:
    from tests.aftersales.support import make_sale, retire, set_day
    from tests.aftersales.test_exchange_repair import device, shelf_phone

    shopper = page_as("shopper")
    sale = make_sale(down_payment="1000.00", shopper_user_id=_shopper())
    loaner = shelf_phone(sale, 999_00)
    set_day(40)  # a fault on day 40: repair, free under the warranty
    desk = _clerk_page(browser, demo_shop, sale.world.merchant_id)
    case_id = _open_at_desk(desk, sale.imei, "repair", "无法充电")
    desk.click("#decide-repair")
    desk.wait_for_selector("#desk-repair")
    desk.click("#desk-repair button:has-text('检测中')")
    desk.wait_for_selector("#desk-repair button:has-text('维修中')")
    desk.click("#desk-repair button:has-text('维修中')")
    desk.wait_for_selector("#desk-repair")
    assert desk.locator("#loaner-due").count() == 0  # not yet: a loaner is due after the policy's 3 days

    set_day(43)  # three days in repair: the 三包 loaner rule applies
    desk.reload()
    assert "应为顾客提供备用机" in desk.inner_text("#loaner-due")
    assert_zh(desk)
    screenshot(desk, "aftersales-desk-repair-loaner-due")
    shopper.goto(f"/shop/aftersales/{case_id}")
    assert "免费领取备用机" in shopper.inner_text("#loaner-offered")
    assert shopper.inner_text("#repair-status") == "维修中"
    assert_zh(shopper)
    screenshot(shopper, "aftersales-shopper-repair-loaner")

    desk.fill("#loaner", loaner)
    desk.click("#desk-repair button:has-text('借出备用机')")
    desk.wait_for_selector("#desk-repair")
    assert device(loaner)[0] == "loaned" and desk.locator("#loaner-due").count() == 0
    for step in ("已修好，待取机", "已取机"):
        desk.click(f"#desk-repair button:has-text('{step}')")
        desk.wait_for_load_state()
    assert desk.inner_text("#desk-status") == "已完成"
    assert device(loaner)[0] == "in_stock"
    assert_zh(desk)
    screenshot(desk, "aftersales-desk-repair-collected")
    shopper.reload()
    assert shopper.inner_text("#case-status") == "已完成"
    retire(sale)


@pytest.mark.browser
def test_a_complaint_filed_answered_and_resolved(page_as: Callable[..., Any], demo_shop: str,
                                                 screenshot: Shot) -> None:
    from tests.aftersales.support import make_sale, retire

    shopper = page_as("shopper")
    sale = make_sale(down_payment="1000.00", shopper_user_id=_shopper())
    text = f"月供比合同多扣了 {uuid.uuid4().hex[:4]}"
    shopper.goto(f"/shop/complaints/new?loan={sale.loan_id}")
    shopper.check("#cat-fees")
    shopper.fill("#text", text)
    shopper.click("#complaint-form button[type=submit]")
    shopper.wait_for_url("**/shop/aftersales")
    assert "待答复" in shopper.inner_text("body")
    assert_zh(shopper)
    screenshot(shopper, "aftersales-shopper-complaint-filed")

    ops = page_as("finance")
    ops.goto("/ops/aftersales")
    row = ops.locator("#complaints tr", has_text=text)
    assert "待答复" in row.inner_text()
    assert_zh(ops)
    screenshot(ops, "aftersales-ops-complaints")
    for action, answer in (("respond", "经核实为重复扣款，已安排退款"), ("resolve", "已退还多扣的12.00元")):
        row = ops.locator("#complaints tr", has_text=text)
        row.locator("input[name=text]").fill(answer)
        row.locator("select[name=action]").select_option(action)
        row.locator("button[type=submit]").click()
        ops.wait_for_load_state()
    shopper.goto("/shop/aftersales")
    card = shopper.locator(".card", has_text=text)
    assert "已解决" in card.inner_text() and "已退还多扣的12.00元" in card.inner_text()
    assert_zh(shopper)
    screenshot(shopper, "aftersales-shopper-complaint-resolved")
    retire(sale)


@pytest.mark.browser
def test_exchange_for_a_pricier_phone_paid_by_the_shopper(page_as: Callable[..., Any], browser: Any, demo_shop: str,
                                                          screenshot: Shot) -> None:
    from fenqi.aftersales.models import AftersalesCase
    from fenqi.payments.polling import poll_order
    from fenqi.payments.service import get_order
    from tests.aftersales.support import ledger_check, make_sale, retire, set_day
    from tests.aftersales.test_exchange_repair import device, shelf_phone
    from tests.payments.payments_loopback import committed, order_status, wait_for

    shopper = page_as("shopper")
    sale = make_sale(down_payment="1000.00", shopper_user_id=_shopper())
    pricier = shelf_phone(sale, sale.price_fen + 1_500_00)
    set_day(10)  # a fault on day 10: exchange or repair
    desk = _clerk_page(browser, demo_shop, sale.world.merchant_id)
    case_id = _open_at_desk(desk, sale.imei, "exchange", "听筒无声")
    desk.fill("form:has(#decide-exchange) input[name=new_imei]", pricier)
    desk.click("#decide-exchange")
    desk.wait_for_selector("#desk-difference")
    assert "¥1,500.00" in desk.inner_text("#desk-difference") and desk.inner_text("#desk-status") == "处理中"
    assert_zh(desk)
    screenshot(desk, "aftersales-desk-exchange-pricier")

    shopper.goto(f"/shop/aftersales/{case_id}")
    assert "¥1,500.00" in shopper.inner_text("#difference")
    assert_zh(shopper)
    screenshot(shopper, "aftersales-shopper-exchange-difference")
    shopper.click("#pay-difference")
    shopper.wait_for_url("**/_emulator/alipay/cashier/**")
    assert "1500.00" in shopper.inner_text("body")
    shopper.get_by_role("button", name="确认付款").click()
    with committed() as s:
        case = s.get(AftersalesCase, case_id)
        assert case is not None and case.difference_order
        number = case.difference_order
    if not wait_for(lambda: order_status(number) == "paid", timeout=5):
        with committed() as s:
            poll_order(s, get_order(s, number, lock=True))
    shopper.goto(f"/shop/aftersales/{case_id}")
    assert shopper.inner_text("#case-status") == "已完成"
    assert shopper.locator("#difference").count() == 0
    assert_zh(shopper)
    screenshot(shopper, "aftersales-shopper-exchange-pricier-done")
    assert device(pricier) == ("sold", sale.loan_id)
    assert ledger_check()["ok"] is True
    retire(sale)
