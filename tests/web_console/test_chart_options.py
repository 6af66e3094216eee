"""The charts' option helpers: the unit of an amount axis and the Chinese and English axis labels."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fenqi.web.console import echarts as ec


def test_large_amounts_are_shown_in_wan_yuan_on_chinese_pages() -> None:
    small = ec.amount_unit([9_999_999, 0], "zh")  # 99,999.99 yuan
    assert (small.name, small.of(9_999_999)) == ("元", Decimal("99999.99"))
    wan = ec.amount_unit([123_456_789, 5_000_000], "zh")  # 1,234,567.89 yuan
    assert (wan.name, wan.of(123_456_789), wan.of(5_000_000)) == ("万元", Decimal("123.46"), Decimal("5.00"))
    thousand = ec.amount_unit([123_456_789], "en")
    assert (thousand.name, thousand.of(123_456_789)) == ("CNY thousand", Decimal("1234.57"))
    assert ec.amount_unit([], "zh").name == "元"


def test_axis_labels_in_the_page_language() -> None:
    assert ec.day_label(date(2026, 3, 5), "zh") == "3月5日" and ec.day_label(date(2026, 3, 5), "en") == "Mar 5"
    assert ec.month_label(2026, 11, "zh") == "2026年11月" and ec.month_label(2026, 11, "en") == "Nov 2026"
    html = str(ec.chart("c1", {"title": {"text": "销售 <b>"}}, "zh"))
    assert 'data-locale="zh"' in html and 'aria-label="销售 &lt;b&gt;"' in html and "<b>" not in html
