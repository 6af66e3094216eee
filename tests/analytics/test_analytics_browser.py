"""The analytics page in a real browser: a risk officer opens it from the console's menu, groups the funnel by
channel, follows a CSV link, and reads the page in English. Screenshot: test-artifacts/console-analytics.png."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_risk_officer_reads_the_analytics_page(page_as: Callable[..., Any], screenshot: Callable[..., Path]) -> None:
    page = page_as("risk_officer")
    page.goto("/ops")
    page.click("nav >> text=经营分析")
    page.wait_for_url("**/ops/analytics")
    for heading in ("调整建议", "销售漏斗", "账龄逾期曲线（30天以上）", "月度迁徙率", "预期损失", "产品表现（近一年）"):
        assert page.locator(f"h2:has-text('{heading}')").count() == 1
    page.select_option("#by", "channel")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**by=channel**")
    assert page.locator("#funnel th").first.inner_text() == "渠道"
    href = page.locator("#roll_rates a:has-text('导出CSV')").get_attribute("href")
    got = page.request.get(href)
    assert got.status == 200 and got.body().startswith(b"\xef\xbb\xbf")
    screenshot(page, "console-analytics")
    page.goto("/ops/analytics?lang=en")
    assert page.locator("h2:has-text('Sales funnel')").count() == 1
