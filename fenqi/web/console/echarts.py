"""Charts of the consoles: Apache ECharts options built here from the server's figures, drawn in the browser
by /static/console/charts.js with the echarts.min.js this app serves itself (no CDN), in the page's language
(ECharts' built-in zh/en locale). Amounts on an axis are in 万元 on Chinese pages (thousand CNY on English
ones) once they are large, so that ticks stay short and readable."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from markupsafe import Markup

SCRIPT = "/static/console/vendor/echarts.min.js"
FONT = '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
PALETTE = ["#d7263d", "#2563eb", "#0f766e", "#f59e0b", "#7c3aed", "#92400e", "#65a30d", "#0891b2", "#475569"]


def t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


@dataclass(frozen=True, slots=True)
class AmountUnit:
    """How amounts are shown on an axis: divided by `yuan` yuan, named `name`."""

    yuan: int
    name: str

    def of(self, fen: int) -> Decimal:
        return (Decimal(fen) / 100 / self.yuan).quantize(Decimal("0.01"), ROUND_HALF_UP)


def amount_unit(fens: Iterable[int], lang: str) -> AmountUnit:
    """元 while the largest amount is under 100,000 yuan; above, 万元 (zh) or thousand CNY (en)."""
    largest = max((abs(f) for f in fens), default=0)
    if largest < 100_000 * 100:
        return AmountUnit(1, t(lang, "元", "CNY"))
    return AmountUnit(10_000, "万元") if lang == "zh" else AmountUnit(1_000, "CNY thousand")


def day_label(day: date, lang: str) -> str:
    return f"{day.month}月{day.day}日" if lang == "zh" else f"{day:%b} {day.day}"


def month_label(year: int, month: int, lang: str) -> str:
    return f"{year}年{month}月" if lang == "zh" else f"{date(year, month, 1):%b %Y}"


def title(text: str) -> dict[str, Any]:
    return {"text": text, "left": "center", "top": 4, "textStyle": {"fontSize": 15, "fontWeight": "bold"}}


def category_axis(name: str, labels: list[str]) -> dict[str, Any]:
    """A category x axis; ECharts hides labels that would overlap (interval "auto")."""
    return {"type": "category", "name": name, "nameLocation": "middle", "nameGap": 28, "data": labels,
            "axisTick": {"alignWithLabel": True}, "axisLabel": {"hideOverlap": True}}


def value_axis(name: str, *, percent: bool = False, split: bool = True, counts: bool = False) -> dict[str, Any]:
    """A value axis from 0; `counts`: whole numbers only (no 0.2 loans); `percent`: 0–100 %."""
    axis: dict[str, Any] = {"type": "value", "name": name, "min": 0, "splitLine": {"show": split}}
    if counts:
        axis["minInterval"] = 1
    if percent:
        axis.update({"max": 100, "axisLabel": {"formatter": "{value}%"}})
    return axis


def base(heading: str, *, legend: bool = True) -> dict[str, Any]:
    option: dict[str, Any] = {"title": title(heading), "color": PALETTE, "animation": False,
                              "tooltip": {"trigger": "axis", "confine": True},
                              "grid": {"left": 16, "right": 16, "top": 74 if legend else 56, "bottom": 12}}
    if legend:
        option["legend"] = {"top": 30, "type": "scroll"}
    return option


def chart(element_id: str, option: dict[str, Any], lang: str, *, height: int = 300) -> Markup:
    """The chart's <div>: its ECharts option as JSON (drawn by /static/console/charts.js), its language and
    its title as the accessible name."""
    text = json.dumps(option, ensure_ascii=False, default=_json_default)
    name = option.get("title", {}).get("text", "")
    return Markup('<div class="chart" id="{}" data-option="{}" data-locale="{}" style="height:{}px" role="img" '
                  'aria-label="{}"></div>').format(element_id, text, lang, height, name)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)  # exact; ECharts reads numeric strings as numbers
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
