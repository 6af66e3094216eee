"""Operations console: the business's own figures (/ops/analytics) — the sales funnel, portfolio quality and
product performance with suggestions, each table with its CSV download (the analytics API)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from fenqi.analytics import funnel as fn
from fenqi.analytics import portfolio as pf
from fenqi.analytics import tables
from fenqi.analytics.api import analysts, period, product_figures
from fenqi.identity.deps import Principal
from fenqi.kit.errors import DomainError
from fenqi.kit.web import get_session, request_language
from fenqi.web.render import render

router = APIRouter(prefix="/ops/analytics", include_in_schema=False)
Grouping = Annotated[str, Query(pattern="^(all|store|clerk|channel|price_band|term|product)$")]


@router.get("", response_class=HTMLResponse)
def analytics_page(
    request: Request, start: date | None = None, end: date | None = None, by: Grouping = "all",
    who: Principal = Depends(analysts), session: Session = Depends(get_session),
) -> HTMLResponse:
    lang = request_language(request)
    error = ""
    first, last = period(session, start, end)
    f = fn.funnel(session, start=first, end=last, dimension=by)
    rows, stores, found = product_figures(session, None, None)
    try:
        day, el = pf.expected_loss(session)
    except DomainError as exc:  # pragma: no cover - defaults are valid
        error, day, el = exc.message(lang), None, []
    sections = [
        (tables.t(lang, "销售漏斗", "Sales funnel"), tables.funnel_table(f, lang)),
        (tables.t(lang, "流失原因", "Drop-off reasons"), tables.drop_off_table(f, lang)),
        (tables.t(lang, "账龄逾期曲线（30天以上）", "Vintage curves (30+ dpd)"),
         tables.vintage_table(pf.vintages(session), lang)),
        (tables.t(lang, "月度迁徙率", "Month-to-month roll rates"), tables.roll_table(pf.roll_rates(session), lang)),
        (tables.t(lang, "核销与回收", "Losses and recoveries"), tables.loss_table(pf.losses(session), lang)),
        (tables.t(lang, "预期损失", "Expected loss"), tables.expected_loss_table(el, lang)),
        (tables.t(lang, "产品表现（近一年）", "Product performance (last year)"), tables.product_table(rows, lang)),
        (tables.t(lang, "门店逾期对比", "Stores' delinquency"), tables.store_table(stores, lang)),
    ]
    return render(request, "ops/analytics.html", {
        "who": who, "sections": sections, "suggestions": found, "start": first, "end": last, "by": by,
        "groupings": fn.DIMENSIONS, "snapshot_date": day, "error": error,
    })
