"""A decline the shopper can act on, in Chromium on a phone-sized screen: the reasons in plain Chinese, the
plans the rules would approve, one tap on one of them and the new application is approved. The decline
page passes axe-core, and reads the same in English. Screenshots: test-artifacts/decline-*.png."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from fenqi.kit.db import session_scope
from tests.origination.world import World, clean_id_number
from tests.web_shopper.test_shopper_browser import assert_chinese_renders, assert_fits_the_phone, phone

pytestmark = pytest.mark.browser
# iPhone 16 256GB 黑色, ¥6,999, which no other browser test sells: ¥1,000 down on 12 months is ¥533 a
# month, far above half of a ¥700 income.
SKU, STORE = "IP16-256-2", "S-SH-XJH"


def _signed_in(page: Any, live_server: str, mobile: str) -> None:
    from fenqi.identity.service import create_user
    from fenqi.identity.sessions import SESSION_COOKIE, start_session

    with session_scope() as s:
        token = start_session(s, create_user(s, role="shopper", display_name="建议顾客", phone=mobile))
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server, "httpOnly": True,
                               "sameSite": "Lax"}])


def test_a_declined_shopper_takes_a_suggestion_and_is_approved(
    browser: Any, demo_shop: str, screenshot: Any, artifacts_dir: Path
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    from tests.web_shopper.conftest import csrf_of
    from tests.web_shopper.test_shopper_pages import form

    rng = random.Random()
    mobile = f"1390014{rng.randrange(10_000):04d}"
    born = date(1980, 1, 1) + timedelta(days=rng.randrange(6000))
    with phone(browser, demo_shop, artifacts_dir, "decline-suggestion") as page:
        _signed_in(page, demo_shop, mobile)
        page.goto(f"/shop/apply?sku={SKU}&product=EI-12&term=12&down_payment=1000.00")
        data = {**form(World("", 0, 0, STORE, STORE, SKU, SKU), name="赵建议", id_number=clean_id_number(born),
                       phone=mobile, monthly_income="700.00"), "csrf_token": csrf_of(page.content())}
        posted = page.request.post("/shop/apply", form=data, max_redirects=0)
        assert posted.status == 303, posted.text()
        page.goto(posted.headers["location"])

        decision = page.locator("#decision")
        assert "很抱歉" in decision.inner_text()
        reasons = page.locator("#reasons li").all_inner_texts()
        assert reasons.count("每月还款额占您月收入的比例偏高") == 1, reasons
        cards = page.locator("#suggestions form.suggestion")
        assert cards.count() >= 1
        first = cards.first.inner_text()
        assert "年化利率" in first and "月供 ¥" in first
        assert re.search(r"首付提高到 ¥[\d,]+\.00|分期期数延长到 \d+ 期|换一款更实惠的手机", first), first
        assert "400-800-8888" in page.inner_text("#service-phone")
        assert_chinese_renders(page)
        assert_fits_the_phone(page)
        results = Axe().run(page, options={"resultTypes": ["violations"]})
        serious = [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, serious
        screenshot(page, "decline-01-reasons-and-suggestions")

        declined_url = page.url
        _in_english(page, declined_url, screenshot)
        cards.first.get_by_role("button", name="按此方案重新申请").click()
        page.wait_for_url(re.compile(r".*/shop/applications/\d+$"))
        assert page.url != declined_url
        assert "恭喜，审批已通过" in page.inner_text("#decision")
        assert_fits_the_phone(page)
        screenshot(page, "decline-02-suggestion-approved")
        page.get_by_role("link", name="查看合同并签署").click()
        page.wait_for_url("**/offer")
        assert "年化利率" in page.inner_text("body")


def _in_english(page: Any, url: str, screenshot: Any) -> None:
    """The same decline in English: the reasons once, in plain words, and what would change the outcome."""
    page.goto(f"{url}?lang=en")
    assert "We are sorry" in page.inner_text("#decision")
    reasons = page.locator("#reasons li").all_inner_texts()
    assert reasons.count("The monthly payment is high compared with your income") == 1, reasons
    first = page.locator("#suggestions form.suggestion").first.inner_text()
    assert "APR" in first and "monthly ¥" in first and "年化" not in first
    suggestion = r"Raise the down payment to ¥[\d,]+\.00|Spread it over \d+ months|A less expensive phone"
    assert re.search(suggestion, first), first
    assert_fits_the_phone(page)
    screenshot(page, "decline-01-reasons-and-suggestions-en")
    page.goto(f"{url}?lang=zh")  # back to Chinese (the choice is remembered in a cookie)
    assert "很抱歉" in page.inner_text("#decision")
