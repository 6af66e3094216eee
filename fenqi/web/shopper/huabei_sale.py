"""The whole price paid with 花呗分期 (3/6/12 periods) online: the plan chooser shows each Huabei plan beside
our own plans of the same term, on the same footing (what the shopper pays in all, the APR of the shopper's
cash flows by the same `apr`, the merchant's cost per sale); choosing one holds a phone at the chosen pick-up
store and sends the shopper to Alipay's cashier for the whole price; the confirmation page follows the payment
and names the store and the phone's IMEI. There is no loan of ours: Alipay carries the credit."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.catalog.service import SkuView, get_merchant, get_sku, get_store, hb_seller_percent, sku_name
from fenqi.catalog.stock import stores_with_stock
from fenqi.identity.deps import Principal
from fenqi.kit.bounds import EntityId
from fenqi.kit.errors import DomainError, InvalidInput
from fenqi.kit.money import from_fen
from fenqi.kit.web import SessionDep, commit_early, request_language
from fenqi.origination import huabei_sales
from fenqi.payments.polling import refresh_order
from fenqi.payments.settings import get_payment_settings
from fenqi.pricing.platform import platform_plan, platform_plans
from fenqi.web.render import render
from fenqi.web.shopper.common import Posted, Shopper, attempt, error_page, site_url, yuan

router = APIRouter()


def plan_context(session: Session, sku: SkuView, own_terms: list[tuple[int, list[dict[str, Any]]]]) -> dict[str, Any]:
    """The Huabei whole-price plans of this phone for the plan chooser: one per term, with how it compares
    with our cheapest plan of that term, and the pick-up stores holding the phone. The fee split is the
    merchant's setting (the first store's merchant; each store's own at the cashier)."""
    stores = stores_with_stock(session, sku.code)
    if not stores:
        return {"plans": [], "by_term": {}, "stores": []}
    percent = hb_seller_percent(session, stores[0].merchant_id)
    least = {term: min(p["total_paid_d"] for p in plans) for term, plans in own_terms if plans}
    rows = []
    for plan in platform_plans(sku.price_fen, percent, get_payment_settings().hb_fee_rates()):
        paid = from_fen(plan.total_repayment_fen)
        own = least.get(plan.term)
        rows.append({
            "term": plan.term, "first": yuan(plan.installments_fen[0]), "last": yuan(plan.installments_fen[-1]),
            "level": len(set(plan.installments_fen)) == 1, "total_cost": yuan(plan.shopper_fee_fen),
            "total_paid": f"{paid:,.2f}", "apr": plan.apr, "interest_free": plan.interest_free,
            "merchant_cost": yuan(plan.merchant_fee_fen),
            "vs_own": None if own is None else f"{abs(paid - own):,.2f}",
            "cheaper": own is not None and paid < own, "same": own is not None and paid == own,
        })
    return {"plans": rows, "by_term": {r["term"]: r for r in rows},
            "stores": [{"id": s.id, "name": s.name, "city": s.city} for s in stores],
            "nonce": secrets.token_urlsafe(12)}


@router.post("/shop/phones/{code}/huabei")
def buy(code: str, request: Request, form: dict[str, str] = Posted, *, session: SessionDep,
        who: Principal = Shopper) -> Response:
    """Hold the phone at the chosen store and go to Alipay's cashier for the whole price. The form's nonce
    makes a double submit the same sale (and the same cashier), never a second one."""
    back = f"/shop/phones/{code}#huabei-buy"
    try:
        store_text = form.get("store_id", "").strip()
        if not (store_text.isascii() and store_text.isdigit()) or len(store_text) > 18:
            raise InvalidInput("store_id", zh="请选择取货门店", en="Choose the store to collect the phone from")
        nonce = form.get("nonce", "").strip()[:40]
        with attempt(session):
            sale = huabei_sales.start_sale(
                session, sku_code=code, store_id=int(store_text), hb_fq_num=form.get("hb_fq_num", ""),
                channel="online", shopper_user_id=who.user_id, scene="h5",
                return_url_for=lambda sale_id: site_url(request, f"/shop/huabei/{sale_id}"),
                idempotency_key=f"shop:{who.user_id}:{nonce}" if nonce else None,
            )
            if sale.shopper_user_id != who.user_id:  # a nonce is never shared; refuse rather than show another's
                raise InvalidInput("nonce", zh="请刷新页面后重新提交", en="Reload the page and submit again")
            url = huabei_sales.pay_url(session, sale) if sale.status == "pending" else ""
    except DomainError as exc:
        return error_page(request, exc, back, exc.status)
    commit_early(session)
    return RedirectResponse(url or f"/shop/huabei/{sale.id}", status_code=303)


STATUS = {
    "pending": ("等待支付结果", "Waiting for the payment"),
    "paid": ("已付款，请到门店取货", "Paid: collect your phone"),
    "handed_over": ("已取货", "Collected"), "returned": ("已退货退款", "Returned and refunded"),
    "expired": ("订单已超时关闭，手机已释放", "The order timed out; the phone was released"),
    "no_phone": ("已付款，但手机已售出，门店将为您退款",
                 "Paid, but the phone was sold meanwhile: the store will refund you"),
}


@router.get("/shop/huabei/{sale_id}", response_class=HTMLResponse)
def confirmation(sale_id: EntityId, request: Request, session: SessionDep, who: Principal = Shopper) -> Response:
    """Where Alipay's cashier sends the shopper back: the payment asked of Alipay while it is pending (its
    notification may be late), then the phone, its IMEI and the pick-up store."""
    try:
        sale = huabei_sales.get_sale(session, sale_id, who)
    except DomainError as exc:
        return error_page(request, exc, "/shop", exc.status)
    order = refresh_order(session, sale.out_trade_no) if sale.status == "pending" else None
    session.refresh(sale)  # settled by the poll above or by the notification meanwhile
    return render(request, "shopper/huabei_done.html", sale_context(session, sale, request_language(request), order))


def sale_context(session: Session, sale: Any, lang: str, order: Any = None) -> dict[str, Any]:
    store = get_store(session, sale.store_id)
    plan = platform_plan(sale.price_fen, sale.hb_fq_num, sale.hb_fq_seller_percent,
                         get_payment_settings().hb_fee_rates())
    try:
        sku = get_sku(session, sale.sku_code, with_stock=False)
        phone = sku.name_zh if lang == "zh" else sku.name_en
    except DomainError:
        phone = ""
    zh, en = STATUS.get(sale.status, (sale.status, sale.status))
    deadline = huabei_sales.return_deadline(sale)
    return {
        "sale": sale, "status_text": zh if lang == "zh" else en, "phone": phone, "price": yuan(sale.price_fen),
        "first": yuan(plan.installments_fen[0]), "level": len(set(plan.installments_fen)) == 1,
        "last": yuan(plan.installments_fen[-1]), "shopper_fee": yuan(plan.shopper_fee_fen),
        "interest_free": plan.interest_free, "apr": plan.apr, "total_paid": yuan(plan.total_repayment_fen),
        "store": {"name": store.name, "city": store.city, "address": store.address,
                  "merchant": get_merchant(session, store.merchant_id).name},
        "pay_url": getattr(order, "pay_url", "") if sale.status == "pending" else "",
        "return_until": deadline.isoformat() if deadline else "", "zero": Decimal(0),
    }


def purchases(session: Session, who: Principal, lang: str) -> list[dict[str, Any]]:
    """The shopper's own 花呗分期购机 for "My loans": phone, amount, term, status, pick-up store and the
    last day of the 7-day return (once paid)."""
    rows = []
    for sale in huabei_sales.sales_of_shopper(session, who.user_id):
        store = get_store(session, sale.store_id)
        zh, en = STATUS.get(sale.status, (sale.status, sale.status))
        deadline = huabei_sales.return_deadline(sale) if sale.status in ("paid", "handed_over") else None
        rows.append({"sale": sale, "phone": sku_name(session, sale.sku_code, lang), "price": yuan(sale.price_fen),
                     "status_text": zh if lang == "zh" else en, "store": f"{store.city} · {store.name}",
                     "return_until": deadline.isoformat() if deadline else ""})
    return rows
