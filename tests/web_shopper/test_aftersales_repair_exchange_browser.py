"""In a browser at the store desk: a repair under warranty that fails twice (the fault is back when the phone
is ready) is turned into an exchange, and the desk completes the exchange to a phone of the same price — the
case is completed, the new IMEI is bound to the loan and the old phone is back in stock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.web_shopper.test_aftersales_desk_browser import _clerk_page, _open_at_desk, assert_zh

Shot = Callable[[Any, str], Path]


def _move(desk: Any, step: str) -> None:
    desk.click(f"#desk-repair button:has-text('{step}')")
    desk.wait_for_load_state()


@pytest.mark.browser
def test_a_repair_that_fails_twice_becomes_an_exchange_at_the_desk(browser: Any, demo_shop: str,
                                                                   screenshot: Shot) -> None:
    from tests.aftersales.support import call, ledger_check, make_sale, retire, set_day
    from tests.aftersales.test_exchange_repair import device, shelf_phone

    sale = make_sale(down_payment="1000.00")
    same_price = shelf_phone(sale, sale.price_fen)
    set_day(40)  # a fault on day 40: repair only, free under the warranty
    desk = _clerk_page(browser, demo_shop, sale.world.merchant_id)
    case_id = _open_at_desk(desk, sale.imei, "repair", "屏幕闪烁")
    assert desk.locator("#decide-exchange").count() == 0  # not yet an exchange
    desk.click("#decide-repair")
    desk.wait_for_selector("#desk-repair")
    for step in ("检测中", "维修中", "已修好，待取机", "未修好，重新维修", "已修好，待取机"):
        _move(desk, step)
    assert desk.locator("#desk-repair button:has-text('转为换货')").count() == 0  # one failed repair is not enough
    _move(desk, "未修好，重新维修")
    repair = desk.inner_text("#desk-repair")
    assert "未修复次数 2" in repair and "维修中" in repair
    assert "同一故障已维修2次仍未修复，可为您换货" in desk.inner_text("body")
    assert_zh(desk)
    screenshot(desk, "aftersales-desk-repair-failed-twice")

    _move(desk, "转为换货")
    desk.wait_for_selector("#decide-exchange")
    assert desk.inner_text("#desk-status") == "已验机，待处理"
    desk.fill("form:has(#decide-exchange) input[name=new_imei]", same_price)
    desk.click("#decide-exchange")
    desk.wait_for_load_state()
    assert desk.inner_text("#desk-status") == "已完成", desk.inner_text("body")
    body = desk.inner_text("body")
    assert "维修转为换货" in body and "已换新机" in body and "转为换货" in desk.inner_text("#desk-repair")
    assert desk.locator("#desk-difference").count() == 0  # same price: nothing to pay
    assert_zh(desk)
    screenshot(desk, "aftersales-desk-repair-became-exchange")

    case = call(demo_shop, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.clerk).json()
    assert case["status"] == "completed" and case["outcome"] == "exchange" and case["new_imei"] == same_price
    assert device(same_price) == ("sold", sale.loan_id)
    assert device(sale.imei) == ("in_stock", None)
    assert ledger_check()["ok"] is True
    retire(sale)
