"""A trainee clerk's normal-sale scenario in a real browser: from the training page to the till filled with
the sample shopper, the decision, contract and signature, the practice payment and the phone handed over;
then the store manager sees the clerk's checklist. Screenshots under test-artifacts/ (training-*.png)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fenqi.kit.db import session_scope
from tests.origination.world import build_world

pytestmark = pytest.mark.browser


def _signed_in(browser: Any, live_server: str, role: str, merchant_id: int, name: str) -> Any:
    from fenqi.identity.service import create_user
    from fenqi.identity.sessions import SESSION_COOKIE, start_session

    with session_scope() as s:
        token = start_session(s, create_user(s, role=role, display_name=name, merchant_id=merchant_id))
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900},
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(20_000)
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server, "httpOnly": True,
                          "sameSite": "Lax"}])
    return context.new_page()


def test_trainee_walks_the_sale_scenario_and_the_manager_sees_it(
    browser: Any, live_server: str, screenshot: Callable[[Any, str], Path]
) -> None:
    from fenqi.catalog.service import get_merchant_by_code
    from fenqi.training import seed as training_seed

    with session_scope() as s:
        build_world(s, suffix="TRB")
        training_seed.seed(s)
        merchant_id = get_merchant_by_code(s, training_seed.MERCHANT[0]).id
    clerk = _signed_in(browser, live_server, "clerk", merchant_id, "浏览器学员")
    try:
        clerk.goto("/merchant/training")
        assert clerk.locator("#training-banner").is_visible()
        clerk.locator("#start-sale").click()
        clerk.wait_for_url(re.compile(r"/merchant/till\?sample=sale$"))
        assert clerk.get_by_label("姓名").input_value() == "张练习"
        clerk.get_by_role("button", name="提交申请").click()
        clerk.wait_for_url(re.compile(r"/merchant/applications/\d+$"))
        assert clerk.locator("#app-status").inner_text() == "已批准"
        clerk.get_by_role("button", name="生成电子合同").click()
        clerk.wait_for_selector("#contract-link")
        clerk.get_by_label("顾客已阅读合同并同意签署").check()
        clerk.get_by_role("button", name="签约并生成首付订单").click()
        clerk.wait_for_selector("#practice-pay")
        clerk.get_by_role("button", name="模拟顾客付款（培训）").click()
        clerk.wait_for_selector("#handover")
        clerk.goto("/merchant/training")
        row = clerk.locator("#checklist tbody tr")
        assert row.count() == 1 and "浏览器学员" in row.inner_text()
        for step in ("sale.submitted", "sale.approved", "sale.signed", "sale.paid"):
            assert "已完成" in row.locator(f'td[data-step="{step}"]').inner_text(), step
        screenshot(clerk, "training-clerk-checklist")
    finally:
        clerk.context.close()

    manager = _signed_in(browser, live_server, "merchant_owner", merchant_id, "浏览器店长")
    try:
        manager.goto("/merchant/training")
        mine = manager.locator("#checklist tbody tr", has_text="浏览器学员")
        assert "已完成" in mine.locator('td[data-step="sale.paid"]').inner_text()
        assert manager.locator("#training-reset").is_visible()
        screenshot(manager, "training-manager-checklist")
    finally:
        manager.context.close()
