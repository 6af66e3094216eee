"""The till sells a scanned phone for its whole price with 花呗分期 (3/6/12 periods): the phone held, a QR code
of Alipay's cashier for the shopper to scan (as the till does for a down payment), the page following the
payment, then the handover (交付); within 7 days a return refunds the whole price through Alipay and puts
the phone back on the shelf. There is no application and no loan of ours: Alipay carries the credit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_device, get_merchant, get_store, hb_seller_percent, sku_name
from fenqi.catalog.stock import sku_of_device
from fenqi.identity.deps import Principal, require_roles
from fenqi.identity.service import masked_phones
from fenqi.kit.bounds import EntityId
from fenqi.kit.errors import DomainError
from fenqi.kit.web import SessionDep, commit_early, request_language
from fenqi.origination import huabei_sales
from fenqi.payments.polling import refresh_order
from fenqi.payments.settings import get_payment_settings
from fenqi.pricing.platform import platform_plans
from fenqi.web.console.common import merchant_in_scope, yuan
from fenqi.web.console.till import qr_svg
from fenqi.web.errors import page_message
from fenqi.web.render import render

router = APIRouter(prefix="/merchant", include_in_schema=False)
staff = require_roles("clerk", "merchant_owner")
sellers = require_roles("clerk")

STATUS = {
    "pending": ("待顾客付款", "Waiting for the shopper to pay"),
    "paid": ("已付款，待交付", "Paid: hand the phone over"),
    "handed_over": ("已交付", "Handed over"), "returned": ("已退货退款", "Returned and refunded"),
    "expired": ("已超时关闭，手机已放回货架", "Timed out: the phone is back on the shelf"),
    "no_phone": ("已付款，但手机已售出，请为顾客退款", "Paid, but the phone was sold meanwhile: refund the shopper"),
}


def till_options(session: Session, imei: str, merchant_id: int) -> list[dict[str, Any]]:
    """The 花呗分期 choices for the scanned phone at this merchant (its fee setting), for the till page."""
    try:
        price = sku_of_device(session, imei).price_fen
    except DomainError:
        return []
    rates = get_payment_settings().hb_fee_rates()
    return [{"term": p.term, "first": yuan(p.installments_fen[0]), "apr": p.apr, "interest_free": p.interest_free,
             "total_cost": yuan(p.shopper_fee_fen), "merchant_cost": yuan(p.merchant_fee_fen)}
            for p in platform_plans(price, hb_seller_percent(session, merchant_id), rates)]


def _message(request: Request, exc: DomainError) -> str:
    lang = request_language(request)
    return page_message(exc.code, exc.status, exc.message(lang), exc.detail, lang)


async def _posted(request: Request) -> dict[str, str]:
    """The form, read on the event loop so that the endpoint itself runs in the thread pool: it calls Alipay
    (in the demo, the emulator on this very server), which must never hold up the event loop."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


@router.post("/till/huabei")
def sell(request: Request, form: dict[str, str] = Depends(_posted), who: Principal = Depends(sellers), *,
         session: SessionDep) -> Response:
    """Hold the scanned phone and open the whole price's order at Alipay; the sale's page shows the QR code.
    The form's nonce makes a double submit the same sale. The shopper's mobile number, when typed, links the
    sale to the shopper's account (their "My loans"); a number that is not one is refused, nothing written."""
    imei, nonce = form.get("imei", "").strip()[:40], form.get("nonce", "").strip()[:40]
    try:
        nested = session.begin_nested()
        try:
            shopper = huabei_sales.till_shopper(session, form.get("shopper_phone", "")[:40])
            device = get_device(session, imei)
            sale = huabei_sales.start_sale(
                session, sku_code=sku_of_device(session, imei).code, store_id=device.store_id,
                hb_fq_num=form.get("hb_fq_num", ""), channel="store", imei=imei, clerk_user_id=who.user_id,
                shopper_user_id=shopper, scene="qr", idempotency_key=f"till:{who.user_id}:{nonce}" if nonce else None,
            )
            huabei_sales.get_sale(session, sale.id, who)  # this clerk's merchant's phone only
        except DomainError:
            nested.rollback()
            raise
        nested.commit()
    except DomainError as exc:
        return render(request, "merchant/huabei_sale.html", {"who": who, "error": _message(request, exc),
                                                              "back": f"/merchant/till?imei={imei}"},
                      status_code=exc.status)
    commit_early(session)
    return RedirectResponse(f"/merchant/huabei/{sale.id}", 303)


@router.get("/huabei", response_class=HTMLResponse)
def sales_list(request: Request, who: Principal = Depends(staff), *, session: SessionDep) -> Response:
    """The merchant's 花呗 sales, newest first, each linking to its page: how the till finds a sale again
    (a 7-day return after the clerk has left its page)."""
    lang = request_language(request)
    merchant_id = merchant_in_scope(session, who)
    sales = huabei_sales.sales_of_merchant(session, merchant_id)
    shoppers = masked_phones(session, [s.shopper_user_id for s in sales if s.shopper_user_id is not None])
    # the shopper by the masked mobile number only: staff never see it in full
    rows = [{"sale": sale, "phone": sku_name(session, sale.sku_code, lang), "price": yuan(sale.price_fen),
             "shopper": shoppers.get(sale.shopper_user_id or 0, ""),
             "status_text": STATUS.get(sale.status, (sale.status, sale.status))[0 if lang == "zh" else 1]}
            for sale in sales]
    return render(request, "merchant/huabei_sales.html", {"who": who, "rows": rows, "limit": huabei_sales.LISTED})


@router.get("/huabei/{sale_id}", response_class=HTMLResponse)
def sale_page(request: Request, sale_id: EntityId, who: Principal = Depends(staff), *,
              session: SessionDep) -> Response:
    sale = huabei_sales.get_sale(session, sale_id, who)
    order = refresh_order(session, sale.out_trade_no)
    session.refresh(sale)
    return render(request, "merchant/huabei_sale.html", _context(session, sale, order, who, request_language(request)))


class SaleStatus(BaseModel):
    """What the sale's page polls for while the shopper pays."""

    status: str = Field(description="pending | paid | handed_over | returned | expired | no_phone")
    settled: bool = Field(description="true once the sale is no longer waiting for the payment")


@router.get("/huabei/{sale_id}/status", response_model=SaleStatus)
def sale_status(sale_id: EntityId, who: Principal = Depends(staff), *, session: SessionDep) -> SaleStatus:
    """Polled by the sale's page while the shopper pays: it reloads once the status changes."""
    sale = huabei_sales.get_sale(session, sale_id, who)
    if sale.status == "pending":
        refresh_order(session, sale.out_trade_no)
        session.refresh(sale)
    return SaleStatus(status=sale.status, settled=sale.status != "pending")


@router.post("/huabei/{sale_id}/handover")
def handover(request: Request, sale_id: EntityId, who: Principal = Depends(sellers), *,
             session: SessionDep) -> Response:
    return _act(request, session, sale_id, who, lambda: huabei_sales.hand_over(session, sale_id, who))


@router.post("/huabei/{sale_id}/return")
def give_back(request: Request, sale_id: EntityId, who: Principal = Depends(staff), *,
              session: SessionDep) -> Response:
    return _act(request, session, sale_id, who, lambda: huabei_sales.return_sale(session, sale_id, who))


def _act(request: Request, session: Session, sale_id: int, who: Principal, step: Any) -> Response:
    nested = session.begin_nested()
    try:
        step()
        nested.commit()
    except DomainError as exc:
        nested.rollback()
        sale = huabei_sales.get_sale(session, sale_id, who)
        context = _context(session, sale, None, who, request_language(request))
        return render(request, "merchant/huabei_sale.html", {**context, "error": _message(request, exc)},
                      status_code=exc.status)
    commit_early(session)
    return RedirectResponse(f"/merchant/huabei/{sale_id}", 303)


def _context(session: Session, sale: Any, order: Any, who: Principal, lang: str) -> dict[str, Any]:
    store = get_store(session, sale.store_id)
    zh, en = STATUS.get(sale.status, (sale.status, sale.status))
    deadline = huabei_sales.return_deadline(sale)
    pay_url = getattr(order, "pay_url", "") if sale.status == "pending" and order is not None else ""
    return {
        "who": who, "sale": sale, "status_text": zh if lang == "zh" else en,
        "phone": sku_name(session, sale.sku_code, lang), "price": yuan(sale.price_fen),
        "fee": yuan(sale.hb_fee_fen), "merchant_fee": yuan(sale.hb_fee_fen * sale.hb_fq_seller_percent // 100),
        "store": store.name, "merchant": get_merchant(session, store.merchant_id).name,
        "pay_url": pay_url, "qr": qr_svg(pay_url) if pay_url else "",
        "return_until": deadline.isoformat() if deadline else "", "error": "",
        "shopper": _masked(session, sale.shopper_user_id),
    }


def _masked(session: Session, user_id: int | None) -> str:
    """The sale's shopper as staff see them: the mobile number masked (138****5678), or nothing."""
    return "" if user_id is None else masked_phones(session, [user_id]).get(user_id, "")
