"""Promotions in the consoles: the merchant's campaigns (/merchant/campaigns: each campaign's budget, what
its sales have taken and what is left; owners start and stop their own), the clerks' share links
(/merchant/share-links) and the coupons operations issue (/ops/coupons)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_merchant_by_code, list_skus
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import AmountText, EntityId
from fenqi.kit.clock import business_date
from fenqi.kit.errors import DomainError
from fenqi.kit.money import parse_yuan
from fenqi.kit.web import SessionDep, request_language
from fenqi.pricing.service import active_products
from fenqi.promotions import coupons, service, share_links
from fenqi.promotions.errors import InvalidCampaign
from fenqi.promotions.schemas import CampaignIn, CouponIssueIn, CouponOut, ShareLinkIn
from fenqi.web.console.common import merchant_in_scope
from fenqi.web.render import render

router = APIRouter(prefix="/merchant/campaigns", include_in_schema=False)
sees = require_roles("clerk", "merchant_owner")
runs = require_roles("merchant_owner")


def _page(request: Request, session: Session, who: Principal, merchant_id: int, error: str = "",
          status: int = 200) -> HTMLResponse:
    today = business_date(session)
    products = [p for p in active_products(session, today) if p.cost_bearer == "merchant"]
    names = {p.code: (p.name_zh, p.name_en) for p in products}
    return render(request, "merchant/campaigns.html", {
        "who": who, "campaigns": service.list_campaigns(session, merchant_id), "products": products,
        "names": names, "today": today, "until": today + timedelta(days=30), "error": error, "merchant_id": merchant_id,
    }, status_code=status)


@router.get("", response_class=HTMLResponse)
def campaigns_page(
    request: Request, merchant: EntityId | None = None, who: Principal = Depends(sees),
    *, session: SessionDep,
) -> HTMLResponse:
    return _page(request, session, who, merchant_in_scope(session, who, merchant))


def _budget(raw: str) -> Decimal:
    try:
        value = Decimal(raw.replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        raise InvalidCampaign.saying("预算须为金额，如 5000.00", "the budget must be an amount, e.g. 5000.00") from None
    return value


@router.post("", response_model=None)
def start_campaign(
    request: Request, code: Annotated[str, Form(max_length=40)], name_zh: Annotated[str, Form(max_length=80)],
    product_code: Annotated[str, Form(max_length=40)], starts_on: Annotated[date, Form()],
    ends_on: Annotated[date, Form()], budget: Annotated[str, Form(max_length=20)],
    terms: Annotated[list[int] | None, Form()] = None, sku_codes: Annotated[str, Form(max_length=2000)] = "",
    merchant: EntityId | None = None, who: Principal = Depends(runs), *, session: SessionDep,
) -> Response:
    merchant_id = merchant_in_scope(session, who, merchant)
    try:
        data = CampaignIn(
            code=code.strip(), name_zh=name_zh.strip(), name_en=name_zh.strip(), product_code=product_code,
            starts_on=starts_on, ends_on=ends_on, terms=terms or [], budget=_budget(budget),
            sku_codes=[s.strip() for s in sku_codes.replace("，", ",").split(",") if s.strip()],
        )
        service.create_campaign(session, data, merchant_id=merchant_id, actor_user_id=who.user_id)
    except ValidationError:
        zh = "请检查活动编号（字母、数字、-、_）、名称、期数和预算"
        en = "Check the code (letters, digits, - and _), the name, the terms and the budget"
        return _page(request, session, who, merchant_id, zh if request_language(request) == "zh" else en, 400)
    except DomainError as exc:
        return _page(request, session, who, merchant_id, exc.message(request_language(request)), exc.status)
    return RedirectResponse("/merchant/campaigns", status_code=303)


@router.post("/{code}/stop", response_model=None)
def stop(
    request: Request, code: str, who: Principal = Depends(runs), *, session: SessionDep,
) -> Response:
    merchant_id = merchant_in_scope(session, who, None)
    found = service.get_campaign(session, code[:40])
    if found.merchant_id != merchant_id and who.role != "admin":
        return _page(request, session, who, merchant_id, "", 403)
    service.stop_campaign(session, found.code)
    return RedirectResponse("/merchant/campaigns", status_code=303)


# --- share links (/merchant/share-links) ------------------------------------------------------------

links = APIRouter(prefix="/merchant/share-links", include_in_schema=False)
sharers = require_roles("clerk", "merchant_owner")


def _links_page(request: Request, session: Session, who: Principal, error: str = "", status: int = 200
                ) -> HTMLResponse:
    lang = request_language(request)
    products = active_products(session, business_date(session))
    mine = who.user_id if who.role == "clerk" else None
    return render(request, "merchant/share_links.html", {
        "who": who, "links": share_links.links_of(session, merchant_id=int(who.merchant_id or 0), clerk_user_id=mine),
        "phones": {s.code: s.name_zh if lang == "zh" else s.name_en for s in list_skus(session)},
        "products": products, "names": {p.code: (p.name_zh, p.name_en) for p in products},
        "error": error,
    }, status_code=status)


@links.get("", response_class=HTMLResponse)
def share_links_page(request: Request, who: Principal = Depends(sharers), *, session: SessionDep) -> HTMLResponse:
    return _links_page(request, session, who)


@links.post("", response_model=None)
def make_share_link(
    request: Request, sku: Annotated[str, Form(max_length=60)], plan: Annotated[str, Form(max_length=50)] = "",
    who: Principal = Depends(sharers), *, session: SessionDep,
) -> Response:
    product, _, term = plan.partition(":")
    try:
        share_links.create(session, ShareLinkIn(sku=sku, product=product or None,
                                                term=int(term) if term.isdecimal() else None),
                           merchant_id=int(who.merchant_id or 0), clerk_user_id=who.user_id)
    except DomainError as exc:
        return _links_page(request, session, who, exc.message(request_language(request)), exc.status)
    except ValidationError:
        zh, en = "请选择手机和方案", "Choose a phone and a plan"
        return _links_page(request, session, who, zh if request_language(request) == "zh" else en, 400)
    return RedirectResponse("/merchant/share-links", status_code=303)



# --- coupons (/ops/coupons): operations issue them to one shopper or a list --------------------------

ops_coupons = APIRouter(prefix="/ops/coupons", include_in_schema=False)
issuers = require_roles("finance", "admin")


def _coupons_page(request: Request, session: Session, who: Principal, error: str = "", status: int = 200,
                  issued: list[CouponOut] | None = None) -> HTMLResponse:
    today = business_date(session)
    products = [p for p in active_products(session, today) if p.annual_rate + p.fee_rate > 0
                and p.method != "interest-free"]
    return render(request, "ops/coupons.html", {
        "who": who, "batches": coupons.batches(session), "products": products, "today": today,
        "until": today + timedelta(days=30), "error": error, "issued": issued or [], "kinds": coupons.KINDS,
    }, status_code=status)


@ops_coupons.get("", response_class=HTMLResponse)
def coupons_page(request: Request, who: Principal = Depends(issuers), *, session: SessionDep) -> HTMLResponse:
    return _coupons_page(request, session, who)


@ops_coupons.post("", response_model=None)
def issue_coupons(
    request: Request, batch: Annotated[str, Form(max_length=40)], name_zh: Annotated[str, Form(max_length=80)],
    kind: Annotated[str, Form(max_length=16)], merchant_code: Annotated[str, Form(max_length=40)],
    valid_from: Annotated[date, Form()], valid_to: Annotated[date, Form()],
    phones: Annotated[str, Form(max_length=20_000)], rate_cut: Annotated[str, Form(max_length=10)] = "",
    products: Annotated[list[str] | None, Form()] = None, terms: Annotated[list[int] | None, Form()] = None,
    min_price: Annotated[AmountText, Form()] = "", who: Principal = Depends(issuers), *, session: SessionDep,
) -> Response:
    lang = request_language(request)
    numbers = [p for p in phones.replace("，", ",").replace(",", "\n").split() if p.strip()]
    try:
        cut = Decimal(rate_cut.strip().rstrip("%") or "0") / (100 if rate_cut.strip() else 1)
        data = CouponIssueIn(
            batch=batch.strip(), kind=kind, rate_cut=cut if kind == "rate_cut" else Decimal(0),
            name_zh=name_zh.strip(), name_en=name_zh.strip(),
            merchant_id=get_merchant_by_code(session, merchant_code.strip()).id, valid_from=valid_from,
            valid_to=valid_to, product_codes=products or [], terms=terms or [],
            min_price=parse_yuan(min_price, field="min_price") if min_price.strip() else Decimal(0),
            phones=numbers)
        made = coupons.issue(session, data, actor_user_id=who.user_id)
    except (ValidationError, InvalidOperation):
        zh = ("请检查批次编号（字母、数字、-、_）、名称、减息幅度（如 5 表示 5 个百分点）、"
              "手机号（每行一个，最多 1000 个）")
        en = "Check the issue code (letters, digits, - and _), the name, the rate cut (5 means 5 points) and the " \
             "mobile numbers (one a line, at most 1,000)"
        return _coupons_page(request, session, who, zh if lang == "zh" else en, 400)
    except DomainError as exc:
        return _coupons_page(request, session, who, exc.message(lang), exc.status)
    return _coupons_page(request, session, who, issued=made)
