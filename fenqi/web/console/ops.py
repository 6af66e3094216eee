"""Operations console (/ops): the home page, dashboards, the manual review queue, reconciliation results,
and products and funding partners configuration. Loans and the overdue list are in console.loans."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.analytics import service as analytics
from fenqi.catalog.service import sku_name
from fenqi.funding.service import funder_json, real_funders, recent_policies, set_policy
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import AmountText, EntityId
from fenqi.kit.clock import business_date
from fenqi.kit.crypto import decrypt, mask_name
from fenqi.kit.errors import DomainError, InvalidInput
from fenqi.kit.web import SessionDep, request_language
from fenqi.origination.counter_offer import counter_offer
from fenqi.origination.lookups import applications_by_id
from fenqi.payments.reconcile import ACTIONS, decide, describe, runs_and_items
from fenqi.pricing.menu import apr_range
from fenqi.pricing.schemas import ProductIn
from fenqi.pricing.service import all_products, get_product, set_product_active, to_spec
from fenqi.pricing.service import create_product as create
from fenqi.risk.service import review, review_queue
from fenqi.web.console.dashboard import dashboard_charts
from fenqi.web.errors import NoMessage, page_error_text
from fenqi.web.render import render

router = APIRouter(prefix="/ops", include_in_schema=False)
ops_staff = require_roles("risk_officer", "collector", "finance")
officers = require_roles("risk_officer")
finance = require_roles("finance")
config_viewers = require_roles("risk_officer", "finance")
admins = require_roles("admin")
RANGES = (30, 90, 180)


@router.get("", response_class=HTMLResponse)
def home(request: Request, who: Principal = Depends(ops_staff), *, session: SessionDep
         ) -> HTMLResponse:
    today = business_date(session)
    open_loans, outstanding = analytics.outstanding_now(session)
    week = analytics.approval_per_day(session, start=today - timedelta(days=6), end=today)
    return render(request, "ops/home.html", {
        "today": today, "open_loans": open_loans, "outstanding": outstanding,
        "statuses": analytics.loans_by_status(session), "approval": analytics.approval_rate(week),
        "pending_reviews": len(review_queue(session, limit=200)), "who": who,
    })


# --- dashboards ------------------------------------------------------------------------------------


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, days: Annotated[int, Query(ge=1, le=3660)] = 90, who: Principal = Depends(ops_staff),
              *, session: SessionDep) -> HTMLResponse:
    days = days if days in RANGES else 90
    charts = dashboard_charts(session, request_language(request), days)
    return render(request, "ops/dashboard.html", {"c": charts, "days": days, "ranges": RANGES, "who": who})


# --- manual review ---------------------------------------------------------------------------------


@router.get("/reviews", response_class=HTMLResponse)
def reviews_page(request: Request, error: str = NoMessage, who: Principal = Depends(officers),
                 *, session: SessionDep) -> HTMLResponse:
    queue = review_queue(session, limit=100)
    ids = [d.application_id for d in queue if d.application_id is not None]
    apps = applications_by_id(session, ids)
    lang = request_language(request)
    names = _plan_names(session, {p.product_code for d in queue for p in d.allowed_plans}
                        | {a.product_code for a in apps.values()}, lang)
    phones = {code: sku_name(session, code, lang) for code in {a.sku_code for a in apps.values()}}
    cases = [{"d": d, "app": apps.get(d.application_id or 0), "plan_names": names, "phones": phones,
              "name": mask_name(decrypt(apps[d.application_id].name_enc)) if d.application_id in apps else "—"}
             for d in queue]
    done = review_queue(session, status="approved", limit=10) + review_queue(session, status="declined", limit=10)
    done.sort(key=lambda d: d.id or 0, reverse=True)
    return render(request, "ops/reviews.html", {"cases": cases, "done": done[:10], "error": error, "who": who})


def _plan_names(session: Session, codes: set[str], lang: str) -> dict[str, str]:
    names = {}
    for code in codes:
        try:
            product = get_product(session, code)
        except DomainError:
            names[code] = code
            continue
        names[code] = product.name_zh if lang == "zh" else product.name_en
    return names


@router.post("/reviews/{decision_id}")
def review_case(
    request: Request, decision_id: EntityId, verdict: str = Form(""), note: str = Form(""),
    plan: str = Form("", max_length=60), down_payment: Annotated[AmountText, Form()] = "",
    who: Principal = Depends(officers), *, session: SessionDep,
) -> Response:
    """Approve, decline, or approve with a counter-offer: another plan within the decision's limit."""
    if verdict not in ("approve", "decline", "counter"):
        raise InvalidInput("verdict (approve | decline | counter)", zh="请选择批准、拒绝或按调整方案批准",
                           en="Choose approve, decline or approve with a counter-offer")
    try:
        with session.begin_nested():
            if verdict == "counter":
                product, _, term = plan.partition("|")
                if not term.isdecimal():
                    raise InvalidInput(zh="请选择调整后的方案", en="Choose the plan to offer")
                counter_offer(session, decision_id, product=product, term=int(term),
                              down_payment=down_payment.strip() or None, note=note, reviewer_id=who.user_id)
            else:
                review(session, decision_id, approve=verdict == "approve", note=note, reviewer_id=who.user_id)
    except DomainError as exc:
        return reviews_page(request, page_error_text(request, exc), who, session=session)
    return RedirectResponse("/ops/reviews", 303)


# --- reconciliation --------------------------------------------------------------------------------


RECON_FILTERS = ("category", "status", "channel", "day")


@router.get("/reconciliation", response_class=HTMLResponse)
def reconciliation_page(request: Request, error: str = NoMessage, who: Principal = Depends(finance),
                        *, session: SessionDep, category: str = "", status: str = "",
                        channel: str = "", day: str = "", confirming: list[int] | None = None) -> HTMLResponse:
    """Runs and their discrepancies, filtered; approving asks for a confirmation first (`confirming`:
    the items awaiting it) and is done by someone other than who ran the reconciliation."""
    runs, items = runs_and_items(session, channel=channel, day=_day_or_none(day) if day else None, any_day=not day,
                                 category=category, status=status)
    lang = request_language(request)
    pending = [i for i in items if i.id in set(confirming or ())]
    return render(request, "ops/reconciliation.html", {
        "runs": runs, "items": items, "actions": ACTIONS, "error": error, "who": who,
        "filters": {"category": category, "status": status, "channel": channel, "day": day},
        "confirming": [{"id": i.id, "text": describe(i, lang)} for i in pending],
    })


def _day_or_none(raw: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"day {raw!r}: YYYY-MM-DD", zh="日期格式应为 年-月-日，例如 2026-12-01",
                           en="A date is written year-month-day, e.g. 2026-12-01") from None


def _decide_all(request: Request, session: Session, who: Principal, ids: list[int], verdict: str, note: str,
                confirmed: bool) -> Response:
    if verdict not in ("approve", "reject"):
        raise InvalidInput("verdict (approve | reject)", zh="请选择批准或驳回", en="Choose approve or reject")
    if not ids:
        raise InvalidInput("item_ids", zh="请至少勾选一笔差错", en="Tick at least one item")
    if verdict == "approve" and not confirmed:  # first show what approving will do
        return reconciliation_page(request, "", who, session=session, confirming=ids)
    errors = []
    for item_id in ids:
        try:
            with session.begin_nested():
                decide(session, item_id, approve=verdict == "approve", user_id=who.user_id, note=note, confirm=True)
        except DomainError as exc:
            errors.append(f"#{item_id}: {page_error_text(request, exc)}")
    if errors:
        return reconciliation_page(request, "；".join(errors), who, session=session)
    return RedirectResponse("/ops/reconciliation", 303)


@router.post("/reconciliation/items/{item_id}")
def decide_item(
    request: Request, item_id: EntityId, verdict: str = Form(""), note: str = Form(""), confirm: str = Form(""),
    who: Principal = Depends(finance), *, session: SessionDep,
) -> Response:
    return _decide_all(request, session, who, [item_id], verdict, note, confirm == "yes")


@router.post("/reconciliation/bulk")
def decide_items(
    request: Request, item_ids: list[EntityId] = Form([]), verdict: str = Form(""), note: str = Form(""),
    confirm: str = Form(""), who: Principal = Depends(finance), *, session: SessionDep,
) -> Response:
    """Approve or reject the ticked items at once (each in its own savepoint: one refusal names itself
    and leaves the others decided)."""
    return _decide_all(request, session, who, item_ids[:200], verdict, note, confirm == "yes")


# --- configuration: products and funding partners ---------------------------------------------------


@router.get("/products", response_class=HTMLResponse)
def products_page(request: Request, error: str = NoMessage, who: Principal = Depends(config_viewers),
                  *, session: SessionDep) -> HTMLResponse:
    products = all_products(session)
    today = business_date(session)
    aprs = {p.code: apr_range(to_spec(p), today) for p in products}
    return render(request, "ops/products.html", {"products": products, "aprs": aprs, "error": error, "who": who},
                  status_code=400 if error else 200)


@router.post("/products")
async def create_product(request: Request, who: Principal = Depends(admins), *, session: SessionDep
                         ) -> Response:
    from pydantic import ValidationError

    form = {k: str(v).strip() for k, v in (await request.form()).items() if k != "csrf_token" and str(v).strip()}
    try:
        try:
            terms = [int(t) for t in form.pop("terms", "").replace("，", ",").split(",") if t.strip()]
            data = ProductIn.model_validate({**form, "terms": terms})
        except (ValueError, ValidationError):
            raise InvalidInput("code, names, method, terms, rates", zh="请检查方案编号、名称、还款方式、期数和费率",
                                   en="Check the plan's code, names, method, terms and rates") from None
        with session.begin_nested():
            create(session, data)
    except DomainError as exc:
        return products_page(request, page_error_text(request, exc), who, session=session)
    return RedirectResponse("/ops/products", 303)


@router.post("/products/{code}/active")
def set_active(request: Request, code: str, active: str = Form(""), who: Principal = Depends(admins),
               *, session: SessionDep) -> Response:
    set_product_active(session, code, active == "yes")
    return RedirectResponse("/ops/products", 303)


@router.get("/funders", response_class=HTMLResponse)
def funders_page(request: Request, error: str = NoMessage, who: Principal = Depends(config_viewers),
                 *, session: SessionDep) -> HTMLResponse:
    today = business_date(session)
    funders = [funder_json(session, f, today) for f in real_funders(session)]
    policies = recent_policies(session)
    return render(request, "ops/funders.html", {"funders": funders, "policies": policies, "error": error,
                                                "who": who}, status_code=400 if error else 200)


@router.post("/funders/policy")
def set_routing_policy(
    request: Request, strategy: str = Form(""), pilot_funder: str = Form(""), pilot_share: str = Form("0"),
    note: str = Form(""), who: Principal = Depends(admins), *, session: SessionDep,
) -> Response:
    try:
        try:
            share = Decimal(pilot_share or "0")
        except InvalidOperation:
            raise InvalidInput("pilot_share", zh="试点比例应为 0 到 1 之间的小数，例如 0.1",
                                   en="The pilot share is a fraction from 0 to 1, e.g. 0.1") from None
        with session.begin_nested():
            set_policy(session, strategy=strategy, pilot_funder=pilot_funder or None, pilot_share=share,
                       note=note[:200])
    except DomainError as exc:
        return funders_page(request, page_error_text(request, exc), who, session=session)
    return RedirectResponse("/ops/funders", 303)
