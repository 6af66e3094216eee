"""The operations dashboard's figures (sales, approval rate, plan mix, outstanding principal, delinquency
buckets, funnel) as ECharts charts: the data is computed here, on the server; the browser only draws it.
A period of a month is shown by day, a quarter by week, half a year by month."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from fenqi.analytics import service as analytics
from fenqi.collections.status import bucket_label
from fenqi.kit.clock import business_date
from fenqi.web.console import echarts as ec

BUCKET_COLORS = ["#16a34a", "#facc15", "#fb923c", "#ef4444", "#7f1d1d"]


def _periods(sales: list[analytics.DaySales], approvals: list[analytics.DayApproval],
             key: Callable[[int, date], Hashable]) -> list[dict[str, Any]]:
    """Days summed into periods (the days with the same key, labelled by their first day), with the
    period's approval rate."""
    groups: dict[Hashable, list[int]] = {}
    for i, d in enumerate(sales):
        groups.setdefault(key(i, d.day), []).append(i)
    periods = []
    for indexes in groups.values():
        days, decided = [sales[i] for i in indexes], [approvals[i] for i in indexes]
        periods.append({"day": days[0].day, "loans": sum(d.loans for d in days),
                        "price_fen": sum(d.price_fen for d in days),
                        "applications": sum(d.applications for d in decided),
                        "rate": analytics.approval_rate(decided)})
    return periods


def _grouping(days: int, lang: str) -> tuple[Callable[[int, date], Hashable], str, str]:
    """(period key, axis name, "per ..." words) for a dashboard of `days` days."""
    if days <= 31:
        return (lambda i, d: i), ec.t(lang, "日期", "Date"), ec.t(lang, "每日", "per day")
    if days <= 120:
        return (lambda i, d: i // 7), ec.t(lang, "周（起始日）", "Week of"), ec.t(lang, "每周", "per week")
    return (lambda i, d: (d.year, d.month)), ec.t(lang, "月份", "Month"), ec.t(lang, "每月", "per month")


def _labels(periods: list[dict[str, Any]], by_month: bool, today: date, lang: str) -> list[str]:
    """Days as 6月5日; months as 6月 (with the year on the first and on January), a partial first month
    as 6月5日起 and the month still running as 12月至今."""
    if not by_month:
        return [ec.day_label(p["day"], lang) for p in periods]
    labels = [ec.month_label(d.year, d.month, lang) if i == 0 or d.month == 1 else ec.t(lang, f"{d.month}月", f"{d:%b}")
              for i, d in enumerate(p["day"] for p in periods)]
    if periods and periods[0]["day"].day != 1:
        labels[0] = ec.t(lang, f"{periods[0]['day'].month}月{periods[0]['day'].day}日起",
                         f"from {ec.day_label(periods[0]['day'], lang)}")
    if periods and (today + timedelta(days=1)).day != 1:
        labels[-1] = ec.t(lang, f"{labels[-1]}至今", f"{labels[-1]} to date")
    return labels


def dashboard_charts(session: Session, lang: str, days: int) -> dict[str, Any]:
    today = business_date(session)
    start = today - timedelta(days=days - 1)
    sales = analytics.sales_per_day(session, start=start, end=today)
    approvals = analytics.approval_per_day(session, start=start, end=today)
    mix = analytics.plan_mix(session, since=start)
    buckets = analytics.delinquency_buckets(session)
    outstanding = analytics.outstanding_per_day(session, start=start, end=today)
    funnel = analytics.funnel(session, start=start, end=today)
    key, axis_name, per = _grouping(days, lang)
    periods = _periods(sales, approvals, key)
    x = ec.category_axis(axis_name, _labels(periods, days > 120, today, lang))
    return {
        "sales": _sales(periods, x, per, lang),
        "approval": _approval(periods, x, per, lang),
        "mix": _mix(mix, lang),
        "outstanding": _outstanding(outstanding, lang),
        "buckets": _buckets(buckets, lang),
        "funnel": _funnel(funnel, lang),
        "figures": {"sales": sales, "approvals": approvals, "mix": mix, "buckets": buckets, "funnel": funnel,
                    "approval_rate": analytics.approval_rate(approvals),
                    "sold": sum(d.loans for d in sales), "amount": sum(d.price_fen for d in sales)},
    }


def _sales(periods: list[dict[str, Any]], x: dict[str, Any], per: str, lang: str) -> Markup:
    unit = ec.amount_unit((p["price_fen"] for p in periods), lang)
    option = ec.base(ec.t(lang, f"销售（{per}）", f"Sales ({per})"))
    option.update(xAxis=x, yAxis=[ec.value_axis(ec.t(lang, "笔数", "Loans"), counts=True),
                                  ec.value_axis(ec.t(lang, f"销售额（{unit.name}）", f"Sales ({unit.name})"),
                                                split=False)],
                  series=[{"type": "bar", "name": ec.t(lang, "成交笔数", "Loans"),
                           "data": [p["loans"] for p in periods], "itemStyle": {"color": "#f4a3ad"}},
                          {"type": "line", "name": ec.t(lang, f"销售额（{unit.name}）", f"Sales ({unit.name})"),
                           "yAxisIndex": 1, "data": [unit.of(p["price_fen"]) for p in periods],
                           "itemStyle": {"color": "#d7263d"}}])
    return ec.chart("chart-sales", option, lang)


def _approval(periods: list[dict[str, Any]], x: dict[str, Any], per: str, lang: str) -> Markup:
    option = ec.base(ec.t(lang, f"审批通过率（{per}）", f"Approval rate ({per})"))
    rates = [None if p["rate"] is None else (p["rate"] * 100).quantize(Decimal("0.1")) for p in periods]
    option.update(xAxis=x, yAxis=[ec.value_axis(ec.t(lang, "通过率", "Approval rate"), percent=True),
                                  ec.value_axis(ec.t(lang, "申请数", "Applications"), split=False, counts=True)],
                  series=[{"type": "line", "name": ec.t(lang, "通过率（%）", "Approval rate (%)"), "data": rates,
                           "connectNulls": True, "itemStyle": {"color": "#2563eb"}, "z": 3},
                          {"type": "bar", "name": ec.t(lang, "申请数", "Applications"), "yAxisIndex": 1,
                           "data": [p["applications"] for p in periods], "itemStyle": {"color": "#c7d2fe"}}])
    return ec.chart("chart-approval", option, lang)


def _mix(mix: list[analytics.PlanShare], lang: str) -> Markup:
    products: dict[str, int] = {}
    for share in mix:
        name = f"{share.name_zh if lang == 'zh' else share.name_en} × {share.term}{ec.t(lang, '期', '')}"
        products[name] = products.get(name, 0) + share.loans
    option = ec.base(ec.t(lang, "方案结构（笔数）", "Plan mix (loans)"), legend=False)
    option["tooltip"] = {"trigger": "item", "confine": True, "formatter": "{b}<br>{c} ({d}%)"}
    option["series"] = [{"type": "pie", "radius": ["30%", "52%"], "center": ["50%", "56%"],
                         "avoidLabelOverlap": True, "labelLayout": {"hideOverlap": True},
                         "label": {"formatter": "{b}\n{d}%", "width": 150, "overflow": "break"},
                         "labelLine": {"length": 8, "length2": 8},
                         "data": [{"name": k, "value": v} for k, v in products.items()]}]
    return ec.chart("chart-mix", option, lang)


def _outstanding(outstanding: list[tuple[date, int]], lang: str) -> Markup:
    unit = ec.amount_unit((v for _, v in outstanding), lang)
    option = ec.base(ec.t(lang, "在贷本金余额", "Principal outstanding"), legend=False)
    option.update(xAxis=ec.category_axis(ec.t(lang, "日期", "Date"), [ec.day_label(d, lang) for d, _ in outstanding]),
                  yAxis=ec.value_axis(unit.name),
                  series=[{"type": "line", "name": ec.t(lang, f"在贷本金（{unit.name}）", f"Principal ({unit.name})"),
                           "data": [unit.of(v) for _, v in outstanding], "showSymbol": False, "areaStyle": {},
                           "itemStyle": {"color": "#0f766e"}}])
    return ec.chart("chart-outstanding", option, lang)


def _buckets(buckets: list[analytics.BucketFigure], lang: str) -> Markup:
    unit = ec.amount_unit((b.principal_fen for b in buckets), lang)
    # Two lines under each bar: "M1" and its days past due.
    names = [bucket_label(b.bucket, lang).replace("（", "\n（").replace(" (", "\n(").replace(" past due", "")
             for b in buckets]
    option = ec.base(ec.t(lang, "逾期分布", "Delinquency buckets"))
    option.update(xAxis=ec.category_axis(ec.t(lang, "逾期分组", "Bucket"), names),
                  yAxis=[ec.value_axis(ec.t(lang, "笔数", "Loans"), counts=True),
                         ec.value_axis(ec.t(lang, f"本金（{unit.name}）", f"Principal ({unit.name})"), split=False)],
                  series=[{"type": "bar", "name": ec.t(lang, "笔数", "Loans"),
                           "data": [{"value": b.loans, "itemStyle": {"color": BUCKET_COLORS[i % len(BUCKET_COLORS)]}}
                                    for i, b in enumerate(buckets)]},
                          {"type": "scatter", "name": ec.t(lang, f"本金（{unit.name}）", f"Principal ({unit.name})"),
                           "yAxisIndex": 1, "symbolSize": 12, "itemStyle": {"color": "#1f2430"},
                           "data": [unit.of(b.principal_fen) for b in buckets]}])
    option["xAxis"]["axisLabel"] = {"interval": 0, "fontSize": 11}
    option["xAxis"]["nameGap"] = 40
    return ec.chart("chart-buckets", option, lang)


def _funnel(steps: list[analytics.FunnelStep], lang: str) -> Markup:
    option = ec.base(ec.t(lang, "转化漏斗", "Funnel"), legend=False)
    option["tooltip"] = {"trigger": "item", "confine": True, "formatter": "{b}: {c}"}
    option["series"] = [{
        "type": "funnel", "sort": "none", "left": "15%", "width": "70%", "top": 44, "bottom": 12, "minSize": "30%",
        "gap": 2, "itemStyle": {"color": "#d7263d"},
        "label": {"position": "inside", "formatter": "{b}  {c}", "color": "#fff"},
        "data": [{"name": s.zh if lang == "zh" else s.en, "value": s.count} for s in steps]}]
    return ec.chart("chart-funnel", option, lang)
