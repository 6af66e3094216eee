"""The merchant console (/merchant): a till order for a walk-in shopper, application status, today's
sales and settlement statements. Clerks and owners see only their own merchant's records."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fenqi.analytics import service as analytics
from fenqi.analytics.funnel import record_plan_view
from fenqi.catalog.service import (
    get_merchant,
    is_training,
    list_skus,
    set_hb_seller_percent,
    sku_name,
    stores_of_merchant,
)
from fenqi.funding.disbursement import settlement_statement
from fenqi.identity.deps import Principal, require_roles
from fenqi.identity.service import audit
from fenqi.kit.bounds import BOUNDARY_ERRORS, AmountText, EntityId, parse_id
from fenqi.kit.clock import business_date
from fenqi.kit.errors import DomainError, InvalidInput
from fenqi.kit.web import SessionDep, request_language
from fenqi.origination import service as origination
from fenqi.origination import signing
from fenqi.origination import suggestions as suggested
from fenqi.origination.consents import CURRENT, TEXTS, ConsentKind
from fenqi.origination.lookups import merchant_applications
from fenqi.origination.schemas import ApplicationIn
from fenqi.payments.service import find_order, order_page_url
from fenqi.payments.settings import get_payment_settings
from fenqi.pricing.service import get_product
from fenqi.training import service as training
from fenqi.web import decisions
from fenqi.web.console import echarts as ec
from fenqi.web.console.common import merchant_in_scope, parse_day, yuan
from fenqi.web.console.till import device_of as _device
from fenqi.web.console.till import ip_of as _ip
from fenqi.web.console.till import plan_names as _plan_names
from fenqi.web.console.till import qr_svg as _qr_svg
from fenqi.web.console.till import require_answers, till_phone_and_plans
from fenqi.web.console.till_huabei import till_options
from fenqi.web.errors import NoMessage, page_error_text
from fenqi.web.labels import ANSWERS, QUESTIONS
from fenqi.web.render import render

if TYPE_CHECKING:  # applications come from origination's services; its table is not read here
    from fenqi.origination.models import Application

router = APIRouter(prefix="/merchant", include_in_schema=False)
staff = require_roles("clerk", "merchant_owner")
sellers = require_roles("clerk")  # the till: an owner watches, a clerk sells (admin passes every check)
owners = require_roles("merchant_owner")  # the merchant's settings

# The shopper's answers: the same questions and words as the shopper's own form (fenqi/web/labels.py).
PROFILE_CHOICES: dict[str, list[tuple[str, str, str]]] = {
    key: [(value, zh, en) for value, (zh, en) in answers.items()] for key, answers in ANSWERS.items()
}
NUMBERS = ("employment_years", "residence_years", "dependants", "existing_credits", "existing_loans")
SHOPPER_FIELDS = ("name", "id_number", "phone", "bank_card")
AT_SUBMIT = (ConsentKind.CREDIT_INQUIRY, ConsentKind.PERSONAL_INFO)
_TILL_FIELDS = {"sku": ("手机", "phone"), "imei": ("手机 IMEI", "phone IMEI"), "product": ("分期方案", "plan"),
                "term": ("期数", "term"), "down_payment": ("首付", "down payment"),
                "consents": ("授权同意", "consents"), "dependants": ("供养人数", "dependants"),
                "existing_credits": ("信用卡张数", "credit cards")}


def _error_text(request: Request, exc: DomainError) -> str:
    return page_error_text(request, exc)


# --- home and today's sales ------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def home(
    request: Request, merchant: EntityId | None = None, who: Principal = Depends(staff),
    *, session: SessionDep,
) -> HTMLResponse:
    merchant_id = merchant_in_scope(session, who, merchant)
    today = business_date(session)
    sales = analytics.sales_per_day(session, start=today - timedelta(days=29), end=today, merchant_id=merchant_id)
    recent = origination.list_applications(session, who, None, 8) if who.role != "admin" else (
        merchant_applications(session, merchant_id, limit=8))
    lang = request_language(request)
    sales_chart = _sales_chart(sales, lang)
    return render(request, "merchant/home.html", {
        "merchant": get_merchant(session, merchant_id), "today": today, "today_sales": sales[-1],
        "month_loans": sum(d.loans for d in sales), "month_amount": sum(d.price_fen for d in sales),
        "recent": _rows(session, recent, lang), "sales_chart": sales_chart, "who": who,
        "hb_rates": sorted(get_payment_settings().hb_fee_rates().items()),
    })


def _sales_chart(sales: list[analytics.DaySales], lang: str) -> Markup:
    unit = ec.amount_unit((d.price_fen for d in sales), lang)
    option = ec.base(ec.t(lang, f"近30天销售额（{unit.name}）", f"Sales, last 30 days ({unit.name})"), legend=False)
    option.update(xAxis=ec.category_axis(ec.t(lang, "日期", "Date"), [ec.day_label(d.day, lang) for d in sales]),
                  yAxis=ec.value_axis(unit.name),
                  series=[{"type": "bar", "name": ec.t(lang, "销售额", "Sales"), "itemStyle": {"color": "#d7263d"},
                           "data": [unit.of(d.price_fen) for d in sales]}])
    return ec.chart("merchant-sales", option, lang, height=260)


@router.post("/huabei")
async def huabei_setting(
    request: Request, who: Principal = Depends(owners), *, session: SessionDep,
) -> Response:
    """Who pays Alipay's 花呗分期 fee at this merchant's cashier: the shopper (0) or the merchant (100, 免息)."""
    form = await request.form()
    raw_merchant = str(form.get("merchant", ""))
    merchant_id = merchant_in_scope(session, who, parse_id(raw_merchant, field="merchant") if raw_merchant else None)
    raw = str(form.get("hb_fq_seller_percent", ""))
    if raw not in ("0", "100"):
        raise InvalidInput("hb_fq_seller_percent", zh="请选择由顾客还是商家承担花呗分期手续费",
                           en="Choose whether the shopper or the merchant pays the Huabei fee")
    set_hb_seller_percent(session, merchant_id, int(raw))
    audit(session, actor_user_id=who.user_id, action="merchant.hb_fq_seller_percent", subject=f"merchant:{merchant_id}",
          detail=raw)
    return RedirectResponse(f"/merchant?merchant={merchant_id}#huabei", 303)


@router.get("/sales", response_class=HTMLResponse)
def sales_page(
    request: Request, day: str | None = None, merchant: EntityId | None = None, who: Principal = Depends(staff),
    *, session: SessionDep,
) -> HTMLResponse:
    merchant_id = merchant_in_scope(session, who, merchant)
    on = parse_day(day, business_date(session))
    statement = settlement_statement(session, merchant_id=merchant_id, start=on, end=on)
    return render(request, "merchant/sales.html", {"day": on, "statement": statement, "who": who})


@router.get("/statements", response_class=HTMLResponse)
def statements_page(
    request: Request, start: str | None = None, end: str | None = None, merchant: EntityId | None = None,
    who: Principal = Depends(staff), *, session: SessionDep,
) -> HTMLResponse:
    merchant_id = merchant_in_scope(session, who, merchant)
    today = business_date(session)
    to = parse_day(end, today)
    since = parse_day(start, to.replace(day=1))
    error, statement = "", None
    try:
        statement = settlement_statement(session, merchant_id=merchant_id, start=since, end=to)
    except DomainError as exc:
        error = _error_text(request, exc)
    return render(request, "merchant/statements.html",
                  {"start": since, "end": to, "statement": statement, "error": error, "who": who})


# --- applications ----------------------------------------------------------------------------------


def _row(app: Application) -> dict[str, Any]:
    return {"id": app.id, "status": app.status, "date": app.business_date, "name": origination.masked_name(app),
            "sku": app.sku_code, "price_fen": app.price_fen, "term": app.term, "product": app.product_code,
            "loan_id": app.loan_id, "paid": app.down_payment_paid}


def _plan_name(session: Session, code: str, lang: str) -> str:
    try:
        product = get_product(session, code)
    except DomainError:
        return code
    return product.name_zh if lang == "zh" else product.name_en


def _rows(session: Session, apps: Iterable[Application], lang: str) -> list[dict[str, Any]]:
    """The applications as a table lists them: the phone and the plan by their names, not their codes
    (each looked up once however many rows share it)."""
    phones: dict[str, str] = {}
    plans: dict[str, str] = {}
    rows = []
    for app in apps:
        row = _row(app)
        if app.sku_code not in phones:
            phones[app.sku_code] = sku_name(session, app.sku_code, lang)
        if app.product_code not in plans:
            plans[app.product_code] = _plan_name(session, app.product_code, lang)
        row.update(phone=phones[app.sku_code], plan=plans[app.product_code])
        rows.append(row)
    return rows


@router.get("/applications", response_class=HTMLResponse)
def applications_page(
    request: Request, status: str = "", who: Principal = Depends(staff), *, session: SessionDep,
) -> HTMLResponse:
    merchant_id = merchant_in_scope(session, who)
    apps = merchant_applications(session, merchant_id, status, limit=100)
    return render(request, "merchant/applications.html",
                  {"rows": _rows(session, apps, request_language(request)), "status": status, "who": who})


@router.get("/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    request: Request, application_id: EntityId, error: str = NoMessage, who: Principal = Depends(staff),
    *, session: SessionDep,
) -> HTMLResponse:
    app = origination.get_application(session, application_id, who)
    return _application_view(request, session, app, who, error)


def _application_view(request: Request, session: Session, app: Application, who: Principal, error: str,
                      status_code: int = 200) -> HTMLResponse:
    today = business_date(session)
    offer, contract, order = None, None, None
    if app.status == "approved":
        try:
            offer = signing.offer(session, app)
        except DomainError as exc:
            if origination.plan_allowed(app):  # otherwise the plan chooser says it, with the choices
                error = error or _error_text(request, exc)
        latest = signing.latest_contract(session, app.id)
        if latest is not None and latest.start_date == today and not latest.signed:
            contract = latest
    if app.payment_order:
        found = find_order(session, app.payment_order)
        if found is not None:
            cashier = order_page_url(found.out_trade_no)
            order = {"no": found.out_trade_no, "status": found.status, "amount_fen": found.amount_fen,
                     "channel": found.channel, "cashier": cashier, "qr": _qr_svg(found.pay_url or cashier),
                     "training": found.training}
    text = TEXTS[(ConsentKind.E_CONTRACT, CURRENT[ConsentKind.E_CONTRACT])]
    lang = request_language(request)
    adjusted = decisions.adjusted_view(session, app, lang)
    return render(request, "merchant/application.html", {
        "reasons": decisions.reasons(app, lang), "suggestions": decisions.suggestion_views(session, app, lang),
        "adjusted": adjusted,
        "outcome": decisions.outcome_text(session, app, lang, adjusted_plan=adjusted is not None),
        "phone": sku_name(session, app.sku_code, request_language(request)),
        "plan_names": _plan_names(session, app, request_language(request)),
        "app": app, "row": _row(app), "offer": offer, "contract": contract, "order": order, "error": error,
        "econtract": text, "who": who, "can_sell": who.role in ("clerk", "admin"),
        "plan_ok": origination.plan_allowed(app) if app.status == "approved" else True,
    }, status_code=status_code)


@router.post("/applications/{application_id}/contract")
def draw_contract(
    request: Request, application_id: EntityId, who: Principal = Depends(sellers),
    *, session: SessionDep,
) -> Response:
    app = origination.get_application(session, application_id, who)
    try:
        with session.begin_nested():
            signing.generate_contract(session, app)
    except DomainError as exc:
        return _application_view(request, session, app, who, _error_text(request, exc), exc.status)
    return RedirectResponse(f"/merchant/applications/{app.id}#contract", 303)


@router.post("/applications/{application_id}/plan")
async def change_plan(
    request: Request, application_id: EntityId, who: Principal = Depends(sellers),
    *, session: SessionDep,
) -> Response:
    """Risk-based pricing: the decision may allow only some plans (or a smaller amount); pick one of them."""
    form = await request.form()
    app = origination.get_application(session, application_id, who)
    product, _, term = str(form.get("plan", "")).partition("|")
    try:
        if not term.isdecimal():
            raise InvalidInput("plan", zh="请选择一个方案", en="Choose a plan")
        with session.begin_nested():
            origination.change_plan(session, app, product=product, term=int(term),
                                    down_payment=str(form.get("down_payment", "")).strip() or None)
    except DomainError as exc:
        return _application_view(request, session, app, who, _error_text(request, exc), exc.status)
    return RedirectResponse(f"/merchant/applications/{app.id}#offer", 303)


@router.post("/applications/{application_id}/suggestion")
async def take_suggestion(
    request: Request, application_id: EntityId, who: Principal = Depends(sellers),
    *, session: SessionDep,
) -> Response:
    """After a decline: apply again on a plan the rules would approve, with the shopper's details kept."""
    form = await request.form()
    app = origination.get_application(session, application_id, who)
    try:
        with session.begin_nested():
            result = suggested.take(session, app, str(form.get("suggestion", ""))[:200], who,
                                    origination.Origin(ip=_ip(request), device=_device(request)))
    except DomainError as exc:
        return _application_view(request, session, app, who, _error_text(request, exc), exc.status)
    return RedirectResponse(f"/merchant/applications/{result.application.id}", 303)


@router.post("/applications/{application_id}/sign")
async def sign(
    request: Request, application_id: EntityId, who: Principal = Depends(sellers),
    *, session: SessionDep,
) -> Response:
    form = await request.form()
    app = origination.get_application(session, application_id, who)
    try:
        if form.get("agree") != "yes":
            raise InvalidInput("e_contract", zh="请勾选顾客已阅读并同意合同",
                               en="The shopper must agree to the contract")
        contract = signing.latest_contract(session, app.id)
        with session.begin_nested():
            signing.sign(session, app, contract_sha256=str(form.get("contract_sha256", "")) or (
                contract.sha256 if contract else ""), consent_version=str(form.get("consent_version", "")),
                imei=str(form.get("imei", "")).strip() or None, channel=str(form.get("channel", "alipay")),
                principal=who, origin=origination.Origin(ip=_ip(request), device=_device(request)))
    except DomainError as exc:
        return _application_view(request, session, app, who, _error_text(request, exc), exc.status)
    return RedirectResponse(f"/merchant/applications/{app.id}#payment", 303)


@router.post("/applications/{application_id}/handover")
def handover(request: Request, application_id: EntityId, who: Principal = Depends(sellers), *,
              session: SessionDep) -> Response:
    """交付: the phone given to the shopper; the receipt follows."""
    app = origination.get_application(session, application_id, who)
    try:
        with session.begin_nested():
            signing.hand_over(session, app, who)
    except DomainError as exc:
        return _application_view(request, session, app, who, _error_text(request, exc), exc.status)
    return RedirectResponse(f"/merchant/applications/{app.id}/receipt", 303)


# --- the till: an order for a walk-in shopper --------------------------------------------------------


def _till_context(session: Session, who: Principal, values: dict[str, Any], error: str, lang: str = "zh",
                  ) -> dict[str, Any]:
    merchant_id = merchant_in_scope(session, who)
    stores = stores_of_merchant(session, merchant_id)
    consents = [TEXTS[(k, CURRENT[k])] for k in AT_SUBMIT]
    phone, plans, found_error = till_phone_and_plans(session, values, merchant_id, lang)
    shelves = merchant_id if is_training(session, merchant_id) else None  # practice sells from its own shelf
    hb = till_options(session, values["imei"], merchant_id) if phone and values.get("imei") and shelves is None else []
    return {"stores": stores, "skus": [s for s in list_skus(session, shelves_of=shelves) if s.stock > 0],
            "huabei": hb, "hb_nonce": secrets.token_urlsafe(12),
            "plans": plans, "phone": phone, "choices": PROFILE_CHOICES, "consents": consents, "v": values,
            "error": error or found_error, "who": who, "merchant_id": merchant_id, "training": shelves is not None}


@router.get("/till", response_class=HTMLResponse)
def till_page(
    request: Request, imei: str = Query("", max_length=40), sku: str = Query("", max_length=60),
    down_payment: AmountText = "", sample: str = Query("", max_length=20), who: Principal = Depends(sellers),
    *, session: SessionDep,
) -> HTMLResponse:
    """Step one scans the phone (or picks the model); the page then lists only that phone's plans, each with
    its monthly payment and APR, above the shopper's form. `sample` (a training store only): the phone and
    the form filled for one of the training scenarios' sample shoppers."""
    values: dict[str, Any] = {"imei": imei.strip(), "sku": sku.strip(), "down_payment": down_payment.strip()}
    merchant_id = merchant_in_scope(session, who)
    if sample in training.SAMPLES and is_training(session, merchant_id):
        consents = {f"consent_{k.value}": CURRENT[k] for k in AT_SUBMIT}
        values = training.sample_form(session, merchant_id, sample, consents)
    context = _till_context(session, who, values, "", request_language(request))
    if context["phone"] is not None:
        values["sku"] = context["phone"].code
    record_plan_view(session, channel="store", price_fen=context["phone"].price_fen if context["phone"] else 0,
                     sku_code=values["sku"], merchant_id=context["merchant_id"], clerk_user_id=who.user_id or None)
    return render(request, "merchant/till.html", context)


def application_from_form(form: dict[str, str]) -> ApplicationIn:
    """The till form as the origination API's ApplicationIn (the same validation as the REST API)."""
    require_answers(form, PROFILE_CHOICES)
    product, _, term = form.get("plan", "").partition("|")
    profile: dict[str, Any] = {k: form.get(k) or None for k in PROFILE_CHOICES}
    profile = {k: v for k, v in profile.items() if v}
    profile["monthly_income"] = form.get("monthly_income", "").strip()
    for key in NUMBERS:
        if form.get(key, "").strip():
            profile[key] = form[key].strip()
    profile["is_full_time_student"] = form.get("employment") == "student"
    consents = [{"kind": k.value, "version": form.get(f"consent_{k.value}", "")} for k in AT_SUBMIT
                if form.get(f"consent_{k.value}")]
    try:
        return ApplicationIn.model_validate({
            "store": form.get("store", ""), "sku": form.get("sku", ""), "imei": form.get("imei", "").strip() or None,
            "product": product, "term": term or 0, "down_payment": form.get("down_payment", "").strip() or None,
            **{k: form.get(k, "").strip() for k in SHOPPER_FIELDS}, "profile": profile, "consents": consents,
        })
    except ValidationError as exc:
        bounded = [e for e in exc.errors() if e["type"] in BOUNDARY_ERRORS]
        if bounded:  # an amount or id out of bounds: the same refusal as the API's
            raise BOUNDARY_ERRORS[bounded[0]["type"]](str(bounded[0]["loc"][-1])) from None
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        raise _fields_to_check(fields) from None


def _fields_to_check(fields: list[str]) -> InvalidInput:
    """The till's fields to check again, by their labels on the form (the codes stay the detail)."""
    named = [QUESTIONS.get(f, _TILL_FIELDS.get(f, ("", ""))) for f in fields]
    zh = "、".join(n[0] for n in named if n[0]) or "表单内容"
    en = ", ".join(n[1] for n in named if n[1]) or "the form"
    return InvalidInput(", ".join(fields), zh=f"请检查：{zh}", en=f"Please check: {en}")


@router.post("/till")
async def till_submit(request: Request, who: Principal = Depends(sellers), *, session: SessionDep
                      ) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    form.pop("csrf_token", None)
    try:
        body = application_from_form(form)
        with session.begin_nested():  # a refusal half-way leaves nothing behind
            result = origination.submit(session, body, who, origination.Origin(ip=_ip(request),
                                                                               device=_device(request)))
    except DomainError as exc:
        context = _till_context(session, who, form, _error_text(request, exc), request_language(request))
        return render(request, "merchant/till.html", context, status_code=exc.status)
    return RedirectResponse(f"/merchant/applications/{result.application.id}", 303)


__all__ = ["application_from_form", "router", "yuan"]
