"""The application form: checked field by field in the browser (static/shopper JS in the template) and
again here, errors shown next to each field in the page's language with the shopper's entries kept;
then origination decides at once and the shopper lands on the decision page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_sku
from fenqi.catalog.stock import device_in_stock, stores_with_stock
from fenqi.identity.deps import Principal
from fenqi.identity.service import verified_phone
from fenqi.kit.bounds import AmountText
from fenqi.kit.clock import business_date
from fenqi.kit.errors import DomainError
from fenqi.kit.money import from_fen, parse_yuan
from fenqi.kit.web import SessionDep, commit_early, request_language
from fenqi.origination.consents import ConsentKind, current_text
from fenqi.origination.kyc import check_bank_card, check_id_number, check_mobile, check_name
from fenqi.origination.plans import price_plan
from fenqi.origination.schemas import ApplicationIn, ConsentIn, ProfileIn
from fenqi.origination.service import Origin, submit
from fenqi.web.errors import page_error_text
from fenqi.web.labels import ANSWERS
from fenqi.web.render import render
from fenqi.web.shopper import personal
from fenqi.web.shopper.common import Posted, Shopper, attempt, error_page
from fenqi.web.shopper.coupons import SHARE_COOKIE

router = APIRouter()

ADULT_AGE = 18
CONSENTS = (ConsentKind.CREDIT_INQUIRY, ConsentKind.PERSONAL_INFO)
# The form's choices: value → (中文, English), the same words as the till's (fenqi/web/labels.py).
CHOICES = ANSWERS
COUNTS = {"employment_years": 80, "residence_years": 100, "existing_loans": 100}
TEXT_FIELDS = ("name", "id_number", "phone", "bank_card", "store", "monthly_income", *CHOICES, *COUNTS)
# Field messages (the server's; the browser shows the same texts before submitting).
MESSAGES: dict[str, tuple[str, str]] = {
    "name": ("请填写身份证上的真实姓名（2 至 30 个字）", "Enter your name as on your ID card (2 to 30 characters)"),
    "id_number": ("身份证号码无效", "Invalid resident ID number"),
    "age": ("须年满 18 周岁才能申请分期", "You must be 18 or older to apply"),
    "phone": ("请填写 11 位中国大陆手机号码", "Enter an 11-digit mainland China mobile number"),
    "bank_card": ("银行卡号无效（15 至 19 位数字，校验位须正确）",
                  "Invalid bank card number (15 to 19 digits with a correct check digit)"),
    "store": ("请选择有现货的取货门店", "Choose a store that has the phone in stock"),
    "monthly_income": ("请填写月收入（元，最多两位小数）", "Enter your monthly income in yuan (at most two decimals)"),
    "choice": ("请选择一项", "Choose one"),
    "count": ("请填写 0 或正整数", "Enter 0 or a whole number"),
    "consent": ("须阅读并单独同意此项授权", "Read and agree to this consent separately"),
}


@dataclass
class Checked:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def _msg(key: str, lang: str) -> str:
    zh, en = MESSAGES[key]
    return zh if lang == "zh" else en


def _detail(exc: DomainError, lang: str) -> str:
    """Origination's details are "中文 / English": keep the page's half."""
    zh, sep, en = exc.detail.partition(" / ")
    return (zh if lang == "zh" else en) if sep else exc.detail


def check_form(values: dict[str, str], consents: dict[str, bool], today: date, store_codes: set[str],
               lang: str) -> Checked:
    """Every field checked on its own, so all mistakes are shown at once."""
    out = Checked(values)
    err = out.errors
    try:
        check_name(values["name"])
    except DomainError:
        err["name"] = _msg("name", lang)
    try:
        if check_id_number(values["id_number"], today).age_on(today) < ADULT_AGE:
            err["id_number"] = _msg("age", lang)
    except DomainError as exc:
        err["id_number"] = f"{_msg('id_number', lang)}：{_detail(exc, lang)}" if lang == "zh" else \
            f"{_msg('id_number', lang)}: {_detail(exc, lang)}"
    for name, check in (("phone", check_mobile), ("bank_card", check_bank_card)):
        try:
            check(values[name])
        except DomainError:
            err[name] = _msg(name, lang)
    if values["store"] not in store_codes:
        err["store"] = _msg("store", lang)
    try:
        if parse_yuan(values["monthly_income"] or "x", field="monthly_income") < 0:
            raise ValueError
    except (DomainError, ValueError):
        err["monthly_income"] = _msg("monthly_income", lang)
    for name, options in CHOICES.items():
        if values[name] not in options:
            err[name] = _msg("choice", lang)
    for name, top in COUNTS.items():
        if not values[name].isdecimal() or int(values[name]) > top:
            err[name] = _msg("count", lang)
    for kind in CONSENTS:
        if not consents[kind.value]:
            err[f"consent_{kind.value}"] = _msg("consent", lang)
    return out


def _plan_context(session: Session, sku_code: str, product: str, term: int, down_payment: str) -> dict[str, Any]:
    """The chosen phone and plan (priced exactly as the chooser showed it; a stale choice is refused)."""
    sku = get_sku(session, sku_code)
    option = price_plan(session, price_fen=sku.price_fen, product_code=product, term=term,
                        down_payment=down_payment or None, start=business_date(session))
    q = option.quote
    return {
        "sku": sku, "product": option.product, "term": term, "apr": q.apr,
        "down_payment": str(q.request.down_payment), "down_payment_text": f"{q.request.down_payment:,.2f}",
        "monthly": f"{max(i.total for i in q.installments):,.2f}", "price": f"{from_fen(sku.price_fen):,.2f}",
        "stores": stores_with_stock(session, sku.code),
    }


def _form(request: Request, session: Session, plan: dict[str, Any], checked: Checked, consents: dict[str, bool],
          error: str = "", status: int = 200) -> HTMLResponse:
    texts = [current_text(kind) for kind in CONSENTS]
    return render(request, "shopper/apply.html", {
        "plan": plan, "v": checked.values, "errors": checked.errors, "consents": consents, "texts": texts,
        "choices": CHOICES, "error": error, "messages": {k: _msg(k, request_language(request)) for k in MESSAGES},
    }, status_code=status)


EMPTY = {"name": "", "id_number": "", "phone": "", "bank_card": "", "store": "", "monthly_income": "",
         "employment": "employed", "housing": "rent", "bank_account": "low_balance",
         "savings": "none", "assets": "none", "employment_years": "0", "residence_years": "0", "existing_loans": "0",
         "is_full_time_student": "", "coupon": ""}


@router.get("/shop/apply", response_class=HTMLResponse)
def apply_page(
    request: Request, sku: str, product: str, term: int, down_payment: AmountText = "",
    *, session: SessionDep, who: Principal = Shopper,
) -> HTMLResponse:
    try:
        plan = _plan_context(session, sku, product, term, down_payment)
    except DomainError as exc:
        return error_page(request, exc, f"/shop/phones/{sku}", exc.status)
    values = dict(EMPTY)
    values["phone"] = verified_phone(session, who.user_id) or ""  # the number the SMS sign-in proved is theirs
    if len(plan["stores"]) == 1:
        values["store"] = plan["stores"][0].code
    return _form(request, session, plan, Checked(values), {k.value: False for k in CONSENTS})


@router.post("/shop/apply")
def apply_submit(
    request: Request, form: dict[str, str] = Posted, *, session: SessionDep, who: Principal = Shopper,
) -> Response:
    raw = {k: str(form.get(k, "")).strip() for k in ("sku", "product", "term", "down_payment")}
    lang = request_language(request)
    try:
        plan = _plan_context(session, raw["sku"], raw["product"], int(raw["term"]) if raw["term"].isdecimal() else 0,
                             raw["down_payment"])
    except DomainError as exc:
        return error_page(request, exc, "/shop", exc.status)
    values = {k: str(form.get(k, "")).strip() for k in TEXT_FIELDS}
    values["is_full_time_student"] = "1" if form.get("is_full_time_student") == "1" else ""
    values["coupon"] = str(form.get("coupon", "")).strip()[:20]
    consents = {k.value: form.get(f"consent_{k.value}") == current_text(k).version for k in CONSENTS}
    checked = check_form(values, consents, business_date(session), {s.code for s in plan["stores"]}, lang)
    if checked.errors:
        return _form(request, session, plan, checked, consents, status=400)
    try:
        with attempt(session):
            app_id = _submit(request, session, who, plan, values)
    except DomainError as exc:
        return _form(request, session, plan, checked, consents, error=page_error_text(request, exc), status=exc.status)
    except ValidationError:
        return _form(request, session, plan, checked, consents, error=_msg("choice", lang), status=400)
    commit_early(session)
    return RedirectResponse(f"/shop/applications/{app_id}", status_code=303)


def _share_token(request: Request) -> str | None:
    """The share link the shopper came through (its cookie), if it looks like a token at all."""
    token = request.cookies.get(SHARE_COOKIE, "")[:16]
    return token if token and all(ch.isalnum() or ch in "-_" for ch in token) else None


def _submit(request: Request, session: Session, who: Principal, plan: dict[str, Any], v: dict[str, str]) -> int:
    store = next(s for s in plan["stores"] if s.code == v["store"])
    device = device_in_stock(session, sku_code=plan["sku"].code, store_id=store.id)
    body = ApplicationIn(
        store=store.code, sku=plan["sku"].code, imei=device.imei if device else None, product=plan["product"].code,
        term=plan["term"], down_payment=plan["down_payment"], name=v["name"], id_number=v["id_number"],
        phone=v["phone"], bank_card=v["bank_card"],
        profile=ProfileIn(
            is_full_time_student=v["is_full_time_student"] == "1",
            employment=v["employment"],
            employment_years=int(v["employment_years"]), monthly_income=v["monthly_income"],
            housing=v["housing"], residence_years=int(v["residence_years"]),
            bank_account=v["bank_account"], savings=v["savings"], assets=v["assets"],
            existing_loans=int(v["existing_loans"]),
        ),
        consents=[ConsentIn(kind=k.value, version=current_text(k).version) for k in CONSENTS],
        device=request.headers.get("user-agent", "")[:200] or None, coupon=v.get("coupon") or None,
        share=_share_token(request),
    )
    ip = request.client.host if request.client else "unknown"
    result = submit(session, body, who, Origin(ip=ip, device=body.device or "unknown"))
    personal.link_visitor(session, request, who.user_id)  # what they saw as a visitor counts for the account
    return int(result.application.id)
