"""The scorecard's pages: the ranking per role, every indicator with its window (or source) and sample
size, how the ranking moves when a weight moves ±10%, a what-if weight form, per-business weights and
recorded indicators (administrators enter them; finance and risk officers read)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.db import Session
from fenqi.kit.errors import DomainError
from fenqi.kit.web import SessionDep, request_language
from fenqi.partners import scorecard as sc
from fenqi.partners import service
from fenqi.partners.errors import InvalidPartner
from fenqi.partners.indicators import (
    BY_KEY,
    CRITERIA,
    INDICATORS,
    RECORDED,
    ROLE_LABELS,
    STATUS_LABELS,
    fmt_value,
)
from fenqi.partners.report import comparison_csv, comparison_pdf
from fenqi.web.render import render

router = APIRouter()
maintains = require_roles("admin")
reads = require_roles("admin", "finance", "risk_officer")


@router.get("/ops/partners", response_class=HTMLResponse, include_in_schema=False)
def partners_page(request: Request, session: SessionDep,
                  who: Principal = Depends(reads)) -> HTMLResponse:
    return render(request, "ops/partners.html", {
        "partners": service.list_partners(session), "roles": ROLE_LABELS, "statuses": STATUS_LABELS,
        "licences": service.LICENCE_NAMES,
    })


def _page(request: Request, session: Session, who: Principal, business: str, days: int,
          error: str | None = None, status: int = 200) -> HTMLResponse:
    lang = request_language(request)
    overrides = sc.weight_overrides(request.query_params)
    try:
        card = sc.card_for(session, business, days, overrides)
        what_if = overrides is not None
    except DomainError as exc:
        error, status = exc.message(lang), 400
        card, what_if = sc.scorecard(session, business="default", days=sc.DEFAULT_DAYS), False
    by_criterion = {c: [i for i in INDICATORS if i.criterion == c] for c in CRITERIA}
    return render(request, "ops/partner_scorecard.html", {
        "who": who, "card": card, "criteria": CRITERIA, "by_criterion": by_criterion, "roles": ROLE_LABELS,
        "fmt": fmt_value, "businesses": sc.businesses(session), "days": days, "what_if": what_if,
        "recorded": [BY_KEY[k] for k in RECORDED], "error": error, "today": card.end.isoformat(),
        "query": request.url.query,
    }, status_code=status)


@router.get("/ops/partners/scorecard", response_class=HTMLResponse, include_in_schema=False)
def scorecard_page(request: Request, business: str = Query("default", max_length=40),
                   days: int = Query(sc.DEFAULT_DAYS, ge=7, le=730), *, session: SessionDep,
                   who: Principal = Depends(reads)) -> HTMLResponse:
    return _page(request, session, who, business, days)


@router.post("/ops/partners/scorecard/weights", include_in_schema=False)
def save_weights(request: Request, business: str = Form("default"), w_stability: str = Form("1"),
                 w_market: str = Form("1"), w_cost: str = Form("1"), w_credit: str = Form("1"),
                 w_flexibility: str = Form("1"), w_service: str = Form("1"), *, session: SessionDep,
                 who: Principal = Depends(maintains)) -> Response:
    raw = {"stability": w_stability, "market": w_market, "cost": w_cost, "credit": w_credit,
           "flexibility": w_flexibility, "service": w_service}
    try:
        weights = sc.parse_weights(raw)
        with session.begin_nested():
            sc.save_weights(session, sc.checked_business(business), weights, who.user_id)
    except DomainError as exc:
        return _page(request, session, who, "default", sc.DEFAULT_DAYS, exc.message(request_language(request)), 400)
    return RedirectResponse(f"/ops/partners/scorecard?business={business}", 303)


@router.post("/ops/partners/scorecard/recorded", include_in_schema=False)
def record(request: Request, code: str = Form(""), indicator: str = Form(""), value: str = Form(""),
           source: str = Form(""), as_of: str = Form(""), *, session: SessionDep,
           who: Principal = Depends(maintains)) -> Response:
    try:
        try:
            amount, day = Decimal(value.strip()), date.fromisoformat(as_of.strip())
        except (InvalidOperation, ValueError):
            raise InvalidPartner(zh="合作方评分：请填写数字和日期（YYYY-MM-DD）",
                                 en="Partner scorecard: a number and a date (YYYY-MM-DD)") from None
        with session.begin_nested():
            sc.record_indicator(session, code=code, indicator=indicator, value=amount, source=source[:200],
                                as_of=day, user_id=who.user_id)
    except DomainError as exc:
        return _page(request, session, who, "default", sc.DEFAULT_DAYS, exc.message(request_language(request)), 400)
    return RedirectResponse("/ops/partners/scorecard", 303)


@router.get("/ops/partners/report.{fmt}", include_in_schema=False)
def report(request: Request, fmt: str, business: str = Query("default", max_length=40),
           days: int = Query(sc.DEFAULT_DAYS, ge=7, le=730), *, session: SessionDep,
           who: Principal = Depends(reads)) -> Response:
    """The comparison as CSV (UTF-8 with a BOM) or as a PDF report with charts."""
    if fmt not in ("csv", "pdf"):
        raise InvalidPartner(zh="报告格式只有 CSV 和 PDF", en="The report is CSV or PDF")
    card = sc.card_for(session, business, days, sc.weight_overrides(request.query_params))
    name = f"partners-{card.business}-{card.end.isoformat()}.{fmt}"
    if fmt == "csv":
        return Response(comparison_csv(card), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(comparison_pdf(card), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
