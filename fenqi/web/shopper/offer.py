"""After submitting: the decision page (approved, under review, declined), the offer with the e-contract
and signing, and the confirmation page the payment channel's cashier sends the shopper back to."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_sku
from fenqi.identity.deps import Principal
from fenqi.kit.bounds import EntityId
from fenqi.kit.errors import DomainError, NotFound
from fenqi.kit.money import from_fen
from fenqi.kit.web import SessionDep, commit_early, request_language
from fenqi.origination import signing
from fenqi.origination import suggestions as suggested
from fenqi.origination.consents import ConsentKind, current_text
from fenqi.origination.schemas import ApplicationStatus
from fenqi.origination.service import Origin, change_plan, plan_allowed
from fenqi.pricing.service import get_product
from fenqi.promotions import coupons
from fenqi.servicing.service import get_loan, installments, scheduled
from fenqi.web import decisions
from fenqi.web.errors import page_error_text
from fenqi.web.render import render
from fenqi.web.shopper import cashier, huabei, pdfpages
from fenqi.web.shopper.common import (
    CHANNELS,
    Posted,
    Shopper,
    attempt,
    error_page,
    own_application,
    pickup_store,
    site_url,
    yuan,
)

if TYPE_CHECKING:  # the application comes from origination's service; its table is not read here
    from fenqi.origination.models import Application

router = APIRouter()


def _origin(request: Request) -> Origin:
    ip = request.client.host if request.client else "unknown"
    return Origin(ip=ip, device=request.headers.get("user-agent", "unknown")[:200] or "unknown")


def _headline(session: Session, app: Application, lang: str) -> dict[str, Any]:
    sku = get_sku(session, app.sku_code)
    product = get_product(session, app.product_code)
    return {
        "id": app.id, "status": app.status, "phone": sku.name_zh if lang == "zh" else sku.name_en,
        "product": product.name_zh if lang == "zh" else product.name_en, "term": app.term, "apr": app.apr,
        "price": yuan(app.price_fen), "down_payment": yuan(app.down_payment_fen), "financed": yuan(app.financed_fen),
        "monthly": yuan(app.installment_fen), "limit": yuan(app.credit_limit_fen), "sku": app.sku_code,
        "reasons": decisions.reasons(app, lang),
        "plan_allowed": plan_allowed(app) if app.status == "approved" else True,
        "allowed": [{"product": p["product_code"], "terms": p["terms"],
                     "name": _product_name(session, p["product_code"], lang)} for p in app.allowed_plans],
    }


def _product_name(session: Session, code: str, lang: str) -> str:
    product = get_product(session, code)
    return product.name_zh if lang == "zh" else product.name_en


@router.get("/shop/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    application_id: EntityId, request: Request, session: SessionDep, who: Principal = Shopper,
) -> Response:
    app = own_application(session, application_id, who)
    if app.status == "signed":
        return RedirectResponse(f"/shop/applications/{app.id}/done", status_code=303)
    lang = request_language(request)
    return render(request, "shopper/decision.html", {
        "app": _headline(session, app, lang), "suggestions": decisions.suggestion_views(session, app, lang),
        "adjusted": decisions.adjusted_view(session, app, lang),
    })


@router.post("/shop/applications/{application_id}/suggestion")
def take_suggestion(
    application_id: EntityId, request: Request, form: dict[str, str] = Posted, *, session: SessionDep,
    who: Principal = Shopper,
) -> Response:
    """After a decline: apply again on a plan the rules would approve, with the details already given."""
    app = own_application(session, application_id, who)
    try:
        with attempt(session):
            result = suggested.take(session, app, str(form.get("suggestion", ""))[:200], who, _origin(request))
    except DomainError as exc:
        return error_page(request, exc, f"/shop/applications/{app.id}", exc.status)
    commit_early(session)
    return RedirectResponse(f"/shop/applications/{result.application.id}", status_code=303)


@router.get("/shop/applications/{application_id}/status", response_model=ApplicationStatus)
def application_status(
    application_id: EntityId, session: SessionDep, who: Principal = Shopper,
) -> dict[str, str]:
    """Polled by the "under review" page: it reloads when a risk officer has decided."""
    return {"status": own_application(session, application_id, who).status}


@router.post("/shop/applications/{application_id}/plan")
def choose_allowed_plan(
    application_id: EntityId, request: Request, form: dict[str, str] = Posted, *, session: SessionDep,
    who: Principal = Shopper,
) -> Response:
    """After an approval for less than asked: take one of the plans the decision allows."""
    app = own_application(session, application_id, who)
    term = str(form.get("term", ""))
    try:
        with attempt(session):
            change_plan(session, app, product=str(form.get("product", "")), term=int(term) if term.isdecimal() else 0,
                        down_payment=None)
            signing.generate_contract(session, app)
    except DomainError as exc:
        return error_page(request, exc, f"/shop/applications/{app.id}",
                          exc.status)
    commit_early(session)
    return RedirectResponse(f"/shop/applications/{app.id}/offer", status_code=303)


def _offer_page(request: Request, session: Session, app: Application, error: str = "", channel: str = "",
                status: int = 200) -> HTMLResponse:
    lang = request_language(request)
    routing = cashier.routed(session, app.shopper_user_id, app.id)
    with attempt(session):
        offer = signing.offer(session, app)
        contract, new = signing.contract_to_sign(session, app)
    if new:
        commit_early(session)  # the page's pictures of the contract are fetched as soon as it arrives
    text = current_text(ConsentKind.E_CONTRACT)
    schedule = [{"period": i["period"], "due_date": i["due_date"], "principal": _y(i["principal"]),
                 "charge": _y(str(from_fen(_fen(i["interest"]) + _fen(i["fee"])))), "total": _y(i["total"])}
                for i in offer["installments"]]
    return render(request, "shopper/offer.html", {
        "app": _headline(session, app, lang), "offer": offer, "schedule": schedule,
        "total_cost": _y(offer["total_cost"]), "total_repayment": _y(offer["total_repayment"]),
        "financed": _y(offer["financed"]), "down_payment": _y(offer["down_payment"]),
        "first": schedule[0]["total"] if schedule else "0.00", "contract": contract,
        "pdf_url": f"/api/v1/applications/{app.id}/contract.pdf", "pages": pdfpages.page_count(contract.pdf),
        "text": text, "channels": cashier.offered(routing),
        "channel": channel or routing.channels[0], "error": error, "routing": cashier.note(routing),
        "huabei": huabei.cashier_options(session, app.merchant_id, app.down_payment_fen)
        if "alipay" in routing.channels else [],
        "own_row": huabei.own_plan_row(offer, schedule[0]["total"] if schedule else "0.00"),
        "coupon": _coupon_line(session, app, lang),
    }, status_code=status)


def _coupon_line(session: Session, app: Application, lang: str) -> str:
    """The coupon the plan is priced with, as the shopper reads it ("" without one)."""
    held = coupons.claimed(session, app.id)
    if held is None:
        return ""
    kind = coupons.KINDS[held.kind][0 if lang == "zh" else 1]
    return f"{kind} {held.code}（签约时核销）" if lang == "zh" else f"{kind} {held.code} (used when you sign)"


def _fen(text: str) -> int:
    return int(Decimal(text) * 100)


def _y(text: str) -> str:
    return f"{Decimal(text):,.2f}"


@router.get("/shop/applications/{application_id}/contract/{page}.png")
def contract_page(
    application_id: EntityId, page: Annotated[int, Path(ge=1, le=1000)], session: SessionDep,
    who: Principal = Shopper,
) -> Response:
    """One page of the latest e-contract as a picture (phones rarely show a PDF inside a page)."""
    contract = signing.latest_contract(session, own_application(session, application_id, who).id)
    png = pdfpages.page_png(contract.pdf, page) if contract is not None else None
    if png is None:
        raise NotFound.saying(f"合同第 {page} 页", f"contract page {page}")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.get("/shop/applications/{application_id}/offer", response_class=HTMLResponse)
def offer_page(
    application_id: EntityId, request: Request, session: SessionDep, who: Principal = Shopper,
) -> Response:
    app = own_application(session, application_id, who)
    if app.status == "signed":
        return RedirectResponse(f"/shop/applications/{app.id}/done", status_code=303)
    try:
        return _offer_page(request, session, app)
    except DomainError as exc:
        return error_page(request, exc, f"/shop/applications/{app.id}",
                          exc.status)


@router.post("/shop/applications/{application_id}/sign")
def sign(
    application_id: EntityId, request: Request, form: dict[str, str] = Posted, *, session: SessionDep,
    who: Principal = Shopper,
) -> Response:
    app = own_application(session, application_id, who)
    channel = str(form.get("channel", "alipay"))
    pay_with, hb_fq_num = huabei.parse_choice(channel)
    lang = request_language(request)
    if form.get("consent_e_contract") != current_text(ConsentKind.E_CONTRACT).version:
        msg = "请阅读合同并勾选同意后再签署" if lang == "zh" else "Read the contract and tick the box before signing"
        return _offer_page(request, session, app, error=msg, channel=channel, status=400)
    refused = cashier.refusal(session, app.shopper_user_id, app.id, pay_with, lang)
    if refused:  # failover: the channel failed too often in the window; the page again, the best one chosen
        return _offer_page(request, session, app, error=refused, status=409)
    try:
        with attempt(session):
            signed = signing.sign(
                session, app, contract_sha256=str(form.get("contract_sha256", "")),
                consent_version=str(form.get("consent_e_contract")), imei=None, channel=pay_with, principal=who,
                origin=_origin(request), return_url=site_url(request, f"/shop/applications/{app.id}/done"),
                hb_fq_num=hb_fq_num,
            )
    except DomainError as exc:
        try:
            return _offer_page(request, session, app, error=page_error_text(request, exc), channel=channel,
                               status=exc.status)
        except DomainError as again:
            return error_page(request, again, f"/shop/applications/{app.id}", again.status)
    commit_early(session)
    if signed.payment and signed.payment.get("pay_url"):
        return RedirectResponse(str(signed.payment["pay_url"]), status_code=303)
    return RedirectResponse(f"/shop/applications/{app.id}/done", status_code=303)


@router.get("/shop/applications/{application_id}/done", response_class=HTMLResponse)
def confirmation_page(
    application_id: EntityId, request: Request, session: SessionDep, who: Principal = Shopper,
) -> Response:
    app = own_application(session, application_id, who)
    if app.status != "signed" or app.loan_id is None:
        return RedirectResponse(f"/shop/applications/{app.id}", status_code=303)
    lang = request_language(request)
    order = signing.down_payment_as_now(session, app)
    loan = get_loan(session, app.loan_id)
    rows = installments(session, app.loan_id)
    first = next((r for r in rows if r.status in ("pending", "due")), None)
    return render(request, "shopper/done.html", {
        "app": _headline(session, app, lang), "order": order, "loan": loan,
        "order_amount": yuan(order.amount_fen) if order else "", "channels": CHANNELS,
        "next_due": first.due_date.isoformat() if first else "",
        "next_amount": yuan(scheduled(first)) if first else "",
        "imei": app.device_imei or "", "paid": app.down_payment_paid or app.down_payment_fen == 0,
        "store": pickup_store(session, app),
    })
