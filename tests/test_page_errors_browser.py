"""In a real browser: a bad link on the shop and in the consoles shows an error page in the page's language with
a way on, which leads somewhere that works (screenshots in test-artifacts/)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_bad_links_show_pages_with_a_way_on_in_chinese_and_english(
    browser_page: Any, page_as: Callable[..., Any], screenshot: Callable[..., Any]
) -> None:
    page = browser_page
    answer = page.goto("/shop/phones/no-such-phone")
    assert answer.status == 404 and "text/html" in answer.headers["content-type"]
    assert "没有这款手机" in page.locator("[role=alert]").inner_text()
    screenshot(page, "error-page-shop-zh")
    page.get_by_role("link", name="返回").click()
    page.wait_for_url("**/shop")
    assert page.locator("h1, .phones").count() > 0

    ops = page_as("admin")
    answer = ops.goto("/ops/loans/not-a-number?lang=en")
    assert answer.status == 400 and "text/html" in answer.headers["content-type"]
    assert ops.locator("html").get_attribute("lang") == "en"
    assert "Invalid id" in ops.locator("[role=alert]").inner_text()
    screenshot(ops, "error-page-ops-en")
    ops.get_by_role("link", name="Back to the console").click()
    ops.wait_for_url("**/ops")
    answer = ops.goto("/ops/dashboard?days=soon&lang=zh")  # (the English choice is remembered until changed)
    assert answer.status == 422 and "链接中的数字无效" in ops.locator("[role=alert]").inner_text()
