"""Public pages: the phones on sale ("from ¥X/月"; the site's home page `/` and `/shop`) and the plan chooser
of one phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from fenqi.analytics.funnel import record_plan_view
from fenqi.catalog.service import SkuView, get_sku, list_skus
from fenqi.identity.deps import Principal, optional_principal
from fenqi.kit.bounds import AmountText
from fenqi.kit.clock import business_date
from fenqi.kit.errors import DomainError, InvalidInput
from fenqi.kit.money import from_fen, parse_yuan
from fenqi.kit.settings import get_settings
from fenqi.kit.web import SessionDep, request_language
from fenqi.pricing.menu import PlanOption, ProductSpec, plan_menu
from fenqi.pricing.service import active_products, to_spec
from fenqi.web.errors import page_error_text
from fenqi.web.render import render
from fenqi.web.shopper import huabei_sale, personal
from fenqi.web.shopper.common import yuan_text

router = APIRouter()


def _specs(session: Session) -> list[ProductSpec]:
    return [to_spec(p) for p in active_products(session, business_date(session))]


def _menu(session: Session, specs: list[ProductSpec], price: Decimal, down: Decimal | None = None) -> list[PlanOption]:
    settings = get_settings()
    return plan_menu(price, specs, settings.plan_terms, business_date(session), settings.apr_cap, down)


@dataclass(frozen=True, slots=True)
class Lowest:
    """"From ¥X/月" and what it assumes: the plan's term, down payment and APR."""

    monthly: Decimal
    term: int
    down_payment: Decimal
    apr: Decimal


@lru_cache(maxsize=1024)
def _lowest_monthly(price: Decimal, specs: tuple[ProductSpec, ...], start: date, cap: Decimal,
                    terms: tuple[int, ...]) -> Lowest | None:
    """"From ¥X/月": the lowest of the plans' highest monthly payment (no month of that plan costs more),
    with the term, down payment and APR of that plan (on a tie, the smaller down payment, then the lower APR).
    Pure in its arguments (the products as they are now, the business date), so the catalog reuses it."""
    plans = [
        Lowest(max(i.total for i in o.quote.installments), o.quote.request.term, o.quote.request.down_payment,
               o.quote.apr)
        for o in plan_menu(price, list(specs), list(terms), start, cap)
    ]
    return min(plans, key=lambda p: (p.monthly, p.down_payment, p.apr)) if plans else None


@router.get("/", response_class=HTMLResponse)  # the site's front door is the shop
@router.get("/shop", response_class=HTMLResponse)
def catalog_page(
    request: Request, brand: str = "", *, session: SessionDep,
    _: Principal | None = Depends(optional_principal),
) -> HTMLResponse:
    specs, settings, today = tuple(_specs(session)), get_settings(), business_date(session)
    skus = list_skus(session)
    brands = sorted({s.brand for s in skus})
    shown = [s for s in skus if not brand or s.brand.lower() == brand.lower()]
    lowest: dict[int, Lowest | None] = {}
    for sku in shown:
        if sku.price_fen not in lowest:
            lowest[sku.price_fen] = _lowest_monthly(from_fen(sku.price_fen), specs, today, settings.apr_cap,
                                                    tuple(settings.plan_terms))
    items = [{"sku": s, "price": f"{from_fen(s.price_fen):,.2f}", "from": _from(lowest[s.price_fen])}
             for s in shown]
    return render(request, "shopper/catalog.html", {"items": items, "brands": brands, "brand": brand})


def _from(low: Lowest | None) -> dict[str, Any] | None:
    if low is None:
        return None
    return {"monthly": f"{low.monthly:,.2f}", "term": low.term, "down": f"{low.down_payment:,.2f}",
            "no_down": low.down_payment == 0, "apr": low.apr}


def plan_view(option: PlanOption, lang: str) -> dict[str, Any]:
    """One plan as the chooser shows it (amounts formatted for people; the schedule on demand)."""
    j = option.to_json()
    q = option.quote
    return {
        "product": j["product"], "name": j["name"]["zh" if lang == "zh" else "en"], "method": j["method"],
        "term": j["term"], "apr": j["apr"], "down_payment": j["down_payment"],
        "down_payment_text": yuan_text(j["down_payment"]), "financed": yuan_text(j["financed"]),
        "first": yuan_text(j["first_installment"]), "max": yuan_text(j["max_installment"]),
        "level": j["first_installment"] == j["max_installment"] and len({i.total for i in q.installments}) == 1,
        "total_cost": yuan_text(j["total_cost"]), "total_repayment": yuan_text(j["total_repayment"]),
        "total_paid_d": total_paid(option), "total_paid": f"{total_paid(option):,.2f}",
        "schedule": [
            {"period": i.period, "due_date": i.due_date.isoformat(), "principal": f"{i.principal:,.2f}",
             "charge": f"{i.interest + i.fee:,.2f}", "total": f"{i.total:,.2f}"}
            for i in q.installments
        ],
    }


@router.get("/shop/phones/{code}", response_class=HTMLResponse)
def plans_page(
    code: str, request: Request, down_payment: AmountText = "", income: AmountText = "", *, session: SessionDep,
    who: Principal | None = Depends(optional_principal),
) -> HTMLResponse:
    sku = get_sku(session, code)
    lang = request_language(request)
    error, down, monthly_income = "", None, None
    try:
        if down_payment.strip():
            down = parse_yuan(down_payment, field="down_payment")
        if income.strip():
            monthly_income = parse_yuan(income, field="monthly_income")
            if monthly_income <= 0:
                raise InvalidInput(zh="月收入须为大于 0 的金额（元）", en="Enter your monthly income above 0 (yuan)")
    except DomainError as exc:
        error = page_error_text(request, exc)
    options = _menu(session, _specs(session), from_fen(sku.price_fen), down)
    if down is not None and not options and not error:
        error = "该首付金额下没有可用方案" if lang == "zh" else "No plan is available with this down payment"
    token, new_visitor = personal.visitor_token(request)
    if down is None and not error:  # the menu first shown (not each down payment tried): the funnel's first step
        shopper = who.user_id if who is not None and who.role == "shopper" else None
        record_plan_view(session, channel="online", price_fen=sku.price_fen, sku_code=sku.code,
                         shopper_user_id=shopper, visitor="" if shopper else token)
    shown = personal.variant(session, who, token, sku.code)
    fit = personal.shopper_fit(session, who, monthly_income)
    advice = personal.advise(options, fit)
    plans = [plan_view(o, lang) for o in options]
    personal.mark(plans, options, advice, fit, shown.highlight, lang)
    rec_term = advice.recommended.quote.request.term if advice.recommended is not None else None
    terms = personal.order_terms(by_term(plans), shown.order, rec_term)
    response = render(request, "shopper/plans.html", {
        "sku": sku, "name": _name(sku, lang), "price": f"{from_fen(sku.price_fen):,.2f}",
        "terms": terms, "huabei": huabei_sale.plan_context(session, sku, terms), "down_payment": down_payment,
        "income": income, "error": error, "advice": personal.explanation(advice, fit, lang),
        "recommended": next((p for p in plans if p["recommended"]), None), "variant": shown,
    })
    if new_visitor:
        personal.set_visitor(response, token)
    return response


def _name(sku: SkuView, lang: str) -> str:
    return sku.name_zh if lang == "zh" else sku.name_en


def total_paid(option: PlanOption) -> Decimal:
    """What the shopper really pays for the phone on this plan: the down payment, every installment and
    every fee (installments include their interest and fee)."""
    return option.quote.request.down_payment + option.quote.total_repayment


def by_term(plans: list[dict[str, Any]]) -> list[tuple[int, list[dict[str, Any]]]]:
    """Plans grouped by term, each group side by side, the least really paid first (then the lower APR);
    the cheapest of each term is marked, the others say how much more they cost."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for p in plans:
        groups.setdefault(p["term"], []).append(p)
    for group in groups.values():
        group.sort(key=lambda p: (p["total_paid_d"], Decimal(p["apr"]), p["product"]))
        least = group[0]["total_paid_d"]
        for p in group:
            p["cheapest"] = p["total_paid_d"] == least
            p["more"] = f"{p['total_paid_d'] - least:,.2f}"
    return sorted(groups.items())
