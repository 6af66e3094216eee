"""Operations console: the business's own figures (/ops/analytics) — the sales funnel, portfolio quality and
product performance with suggestions, each table with its CSV download (the analytics API)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from fenqi.analytics import funnel as fn
from fenqi.analytics import portfolio as pf
from fenqi.analytics import tables
from fenqi.analytics.api import GROUPING, RateText, analysts, pdf_response, period, product_figures, provision_overrides
from fenqi.analytics.review import review_pdf
from fenqi.identity.deps import Principal
from fenqi.kit.errors import DomainError
from fenqi.kit.web import SessionDep, request_language
from fenqi.web.console import echarts as ec
from fenqi.web.errors import error_page, page_error_text
from fenqi.web.render import render

router = APIRouter(prefix="/ops/analytics", include_in_schema=False)
Grouping = Annotated[str, Query(pattern=GROUPING)]


@router.get("", response_class=HTMLResponse)
def analytics_page(
    request: Request, start: date | None = None, end: date | None = None, by: Grouping = "all",
    current: RateText = None, d1_29: RateText = None, d30_59: RateText = None, d60_89: RateText = None,
    d90p: RateText = None, who: Principal = Depends(analysts), *, session: SessionDep,
) -> HTMLResponse:
    lang = request_language(request)
    error = ""
    first, last = period(session, start, end)
    f = fn.funnel(session, start=first, end=last, dimension=by)
    rows, stores, found = product_figures(session, None, None)
    try:
        rates = provision_overrides(current=current, d1_29=d1_29, d30_59=d30_59, d60_89=d60_89, d90p=d90p)
    except DomainError as exc:
        error, rates = page_error_text(request, exc), pf.provision_rates()
    day, el = pf.expected_loss(session, rates=rates)
    vintages = pf.vintages(session)
    sections = [
        (tables.t(lang, "销售漏斗", "Sales funnel"), tables.funnel_table(f, lang)),
        (tables.t(lang, "流失原因", "Drop-off reasons"), tables.drop_off_table(f, lang)),
        (tables.t(lang, "账龄逾期曲线（30天以上）", "Vintage curves (30+ dpd)"),
         tables.vintage_table(vintages, lang)),
        (tables.t(lang, "月度迁徙率", "Month-to-month roll rates"), tables.roll_table(pf.roll_rates(session), lang)),
        (tables.t(lang, "核销与回收", "Losses and recoveries"), tables.loss_table(pf.losses(session), lang)),
        (tables.t(lang, "预期损失", "Expected loss"), tables.expected_loss_table(el, lang)),
        (tables.t(lang, "产品表现（近一年）", "Product performance (last year)"), tables.product_table(rows, lang)),
        (tables.t(lang, "门店逾期对比", "Stores' delinquency"), tables.store_table(stores, lang)),
    ]
    return render(request, "ops/analytics.html", {
        "who": who, "sections": sections, "suggestions": found, "start": first, "end": last, "by": by,
        "groupings": fn.DIMENSIONS, "snapshot_date": day, "error": error,
        "review_month": f"{last.replace(day=1) - timedelta(days=1):%Y-%m}",
        "vintage_chart": vintage_chart(vintages, lang), "rates": rates, "state_labels": pf.STATE_LABELS,
    })


@router.get("/review.pdf", response_model=None)
def review_download(
    request: Request, month: Annotated[str, Query(max_length=12)] = "", who: Principal = Depends(analysts),
    *, session: SessionDep,
) -> Response:
    """The monthly review PDF, or this page's error page for a month that is not one."""
    try:
        return pdf_response(review_pdf(session, month.strip()), month.strip())
    except DomainError as exc:
        return error_page(request, exc.status, page_error_text(request, exc))


def vintage_chart(vintages: list[pf.Vintage], lang: str) -> Any:
    """One curve per booking month (every product together): the share of its loans 30+ days past due or
    written off, by months on book."""
    months: dict[str, tuple[int, list[int]]] = {}
    for v in vintages:
        loans, bad = months.get(v.month, (0, []))
        bad = bad + [0] * (len(v.bad) - len(bad))
        months[v.month] = (loans + v.loans, [b + (v.bad[i] if i < len(v.bad) else 0) for i, b in enumerate(bad)])
    series = [{"type": "line", "name": _month_name(month, lang), "connectNulls": False,
               "data": [(Decimal(b) / loans * 100).quantize(Decimal("0.01")) if loans else None for b in bad]}
              for month, (loans, bad) in sorted(months.items())]
    longest = max((len(bad) for _, bad in months.values()), default=0)
    option = ec.base(tables.t(lang, "账龄逾期曲线：30天以上逾期或核销占比",
                              "Vintage curves: share 30+ dpd or written off"))
    option.update(xAxis=ec.category_axis(tables.t(lang, "账龄（月）", "Months on book"),
                                         [str(k) for k in range(longest)]),
                  yAxis=ec.value_axis(tables.t(lang, "占比（%）", "Share (%)")), series=series)
    option["xAxis"]["boundaryGap"] = False
    return ec.chart("vintage-chart", option, lang, height=340)


def _month_name(month: str, lang: str) -> str:
    """"2026-01" → 2026年1月 (zh) or Jan 2026."""
    year, _, number = month.partition("-")
    return ec.month_label(int(year), int(number), lang) if year.isdecimal() and number.isdecimal() else month
