"""The till's sale in a minute (收银台): the phone scanned (or picked) first and only its plans offered, each
with its monthly payment and APR; the shopper's answers asked, never filled in beforehand; the down
payment's status followed by the page itself; and the handover (交付) recorded, with a receipt to show or
print. The till form, the application page and the handover itself are in fenqi.web.console.merchant."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from fenqi.aftersales.service import policy_for
from fenqi.catalog.service import SkuView, get_merchant, get_sku, get_store, sku_name
from fenqi.catalog.stock import check_device_for_sale, sku_of_device
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.errors import DomainError, InvalidInput
from fenqi.kit.money import fmt_percent, from_fen, parse_yuan
from fenqi.kit.settings import get_settings
from fenqi.kit.web import SessionDep, request_language
from fenqi.origination import service as origination
from fenqi.origination import signing
from fenqi.origination.schemas import ApplicationProgress
from fenqi.pricing.service import get_product, menu_for_price
from fenqi.servicing.service import installments, scheduled
from fenqi.web.console.common import yuan
from fenqi.web.errors import page_message
from fenqi.web.labels import QUESTIONS
from fenqi.web.render import render

if TYPE_CHECKING:
    from fenqi.origination.models import Application

router = APIRouter(prefix="/merchant", include_in_schema=False)
staff = require_roles("clerk", "merchant_owner")
sellers = require_roles("clerk")

# What the clerk must ask the shopper besides the choices (no answer is filled in beforehand).
ASKED_NUMBERS = ("monthly_income", "employment_years", "residence_years", "existing_loans")


def require_answers(form: dict[str, str], choices: Iterable[str]) -> None:
    """Every question on the till form answered: one refusal naming all that are missing."""
    missing = [key for key in (*choices, *ASKED_NUMBERS) if not form.get(key, "").strip()]
    if missing:
        names = [_question(key) for key in missing]
        raise InvalidInput(zh="请询问顾客并填写：" + "、".join(dict.fromkeys(zh for zh, _ in names)),
                           en="Ask the shopper and fill in: " + ", ".join(dict.fromkeys(en for _, en in names)))


def _question(key: str) -> tuple[str, str]:
    """A question by its name on the forms (fenqi/web/labels.py), without the unit in brackets."""
    zh, en = QUESTIONS.get(key, ("必填项", "a required field"))
    return zh.split("（")[0].strip(), en.split(" (")[0].strip()


def ip_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def device_of(request: Request) -> str:
    return "门店收银台 / till: " + request.headers.get("user-agent", "unknown")[:150]


def qr_svg(url: str) -> Markup:
    return Markup(segno.make(url, error="m").svg_inline(scale=4, title="QR"))


def plan_names(session: Session, app: Application, lang: str) -> dict[str, str]:
    """Each plan product the application may take, by its name on the page."""
    names = {}
    for code in {app.product_code, *(p["product_code"] for p in app.allowed_plans or [])}:
        try:
            product = get_product(session, code)
        except DomainError:
            names[code] = code
            continue
        names[code] = product.name_zh if lang == "zh" else product.name_en
    return names


# --- step one: the phone, and only its plans -------------------------------------------------------------


def till_phone_and_plans(
    session: Session, values: dict[str, Any], merchant_id: int, lang: str = "zh",
) -> tuple[SkuView | None, list[dict[str, Any]], str]:
    """The phone the clerk scanned (its IMEI: this merchant's, in stock) or picked, and the plans offerable
    on it at the down payment typed (each product's minimum when empty): (phone, plans, what went wrong)."""
    imei, sku_code = str(values.get("imei") or "").strip(), str(values.get("sku") or "").strip()
    phone, problem = None, ""
    if imei:
        try:
            phone = sku_of_device(session, imei)
            check_device_for_sale(session, imei, phone.code, merchant_id=merchant_id)
        except DomainError as exc:
            phone, problem = None, page_message(exc.code, exc.status, exc.message(lang), exc.detail, lang)
    if phone is None and sku_code:  # a phone picked by model (or a form sent back with an IMEI refused)
        try:
            phone = get_sku(session, sku_code)
        except DomainError as exc:
            problem = problem or page_message(exc.code, exc.status, exc.message(lang), exc.detail, lang)
    if phone is None:
        return None, [], problem
    try:
        typed = str(values.get("down_payment") or "").strip()
        down = parse_yuan(typed, field="down_payment") if typed else None
        options = menu_for_price(session, from_fen(phone.price_fen), down)
    except DomainError as exc:
        return phone, [], page_message(exc.code, exc.status, exc.message(lang), exc.detail, lang)
    # Each term's plans by what the shopper really pays (down payment + every installment), least first.
    ranked = sorted(options, key=lambda o: (o.quote.request.term, o.quote.request.down_payment
                                            + o.quote.total_repayment, o.quote.apr))
    plans, terms_seen = [], set()
    for option in ranked:
        q = option.quote
        first, last = q.installments[0].total, q.installments[-1].total
        plans.append({
            "key": f"{option.product.code}|{q.request.term}", "term": q.request.term,
            "name": option.product.name_zh if lang == "zh" else option.product.name_en,
            "monthly": f"{first:,.2f}", "last": f"{last:,.2f}" if abs(last - first) >= 1 else "",
            "apr": fmt_percent(q.apr),
            "down_payment": f"{q.request.down_payment:,.2f}", "total_cost": f"{q.total_cost:,.2f}",
            "paid": f"{q.request.down_payment + q.total_repayment:,.2f}", "least": q.request.term not in terms_seen,
        })
        terms_seen.add(q.request.term)
    return phone, plans, problem or ("" if plans else _NO_PLAN[lang])


_NO_PLAN = {"zh": "这款手机按此首付没有可选的分期方案，请调整首付",
            "en": "No plan fits this phone at this down payment; change the down payment"}


# --- the down payment's status, the handover and the receipt ---------------------------------------------


@router.get("/applications/{application_id}/status", response_model=ApplicationProgress)
def application_status(application_id: EntityId, who: Principal = Depends(staff), *, session: SessionDep,
                       ) -> dict[str, Any]:
    """Polled by the application page while it waits (a decision, the down payment): it reloads on a change.
    A pending down payment is asked of its channel, in case the channel's notice is late."""
    app = origination.get_application(session, application_id, who)
    if app.payment_order and not app.down_payment_paid:
        signing.down_payment_as_now(session, app)
    return {"status": app.status, "paid": app.down_payment_paid, "handed_over": app.handed_over_at is not None}


@router.get("/applications/{application_id}/receipt", response_class=HTMLResponse)
def receipt(request: Request, application_id: EntityId, who: Principal = Depends(staff), *,
            session: SessionDep) -> Response:
    """The handover receipt (交付凭证): what was sold on which plan, what was paid, when the phone was handed
    over and until when it may be returned or exchanged; printable. Before the handover: the application page."""
    app = origination.get_application(session, application_id, who)
    lang = request_language(request)
    if app.handed_over_at is None or app.handed_over_on is None or app.loan_id is None:
        return RedirectResponse(f"/merchant/applications/{app.id}", 303)  # where the sale goes on
    return render(request, "merchant/receipt.html", {**_receipt_context(session, app, lang), "who": who})


def _receipt_context(session: Session, app: Application, lang: str) -> dict[str, Any]:
    assert app.loan_id is not None and app.handed_over_on is not None
    policy, _ = policy_for(session, app.merchant_id)
    rows = installments(session, app.loan_id)
    on: date = app.handed_over_on
    loan_url = f"{get_settings().base_url.rstrip('/')}/shop/loans/{app.loan_id}"
    windows = [("性能故障可退货至", "Return for a fault until", on + timedelta(days=policy.fault_return_days)),
               ("性能故障可换货至", "Exchange for a fault until", on + timedelta(days=policy.fault_exchange_days))]
    if app.channel == "online" or policy.no_reason_in_store:
        windows.insert(0, ("无理由退货至", "No-reason return until", on + timedelta(days=policy.no_reason_return_days)))
    return {
        "app": app, "contract_no": signing.contract_no(app), "name": origination.masked_name(app),
        "phone": sku_name(session, app.sku_code, lang), "merchant": get_merchant(session, app.merchant_id),
        "store": get_store(session, app.store_id), "plan": plan_names(session, app, lang).get(app.product_code, ""),
        "price": yuan(app.price_fen), "down": yuan(app.down_payment_fen), "financed": yuan(app.financed_fen),
        "first": rows[0] if rows else None, "installment": yuan(app.installment_fen), "windows": windows,
        "first_total": yuan(scheduled(rows[0])) if rows else "",
        "loan_url": loan_url, "loan_qr": qr_svg(loan_url),
    }


@router.get("/applications/{application_id}/contract/read", response_class=HTMLResponse)
def contract_text(request: Request, application_id: EntityId, who: Principal = Depends(staff), *,
                  session: SessionDep) -> Response:
    """The contract as a web page for staff: the same words as the signed PDF, the borrower's name masked."""
    app = origination.get_application(session, application_id, who)
    if signing.latest_contract(session, app.id) is None:
        return RedirectResponse(f"/merchant/applications/{app.id}", 303)  # not drawn up yet: do it there
    copy, _ = signing.contract_copy(session, app, who)
    return render(request, "merchant/contract.html", {"app": app, "copy": copy, "who": who})


__all__ = ["plan_names", "qr_svg", "require_answers", "router", "till_phone_and_plans"]
