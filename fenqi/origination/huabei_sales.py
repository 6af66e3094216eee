"""A phone sold for its whole price with 花呗分期 (3/6/12 periods) at Alipay's cashier: the platform carries
the credit, there is no application, no risk decision and no loan of ours.

    sale = start_sale(session, sku_code="IP16-128-1", store_id=3, hb_fq_num=6, shopper_user_id=42,
                      return_url_for=lambda sale_id: f"/shop/huabei/{sale_id}")
    redirect(sale_pay_url)   # the order's pay URL: Alipay's cashier for the whole price

The phone (one in stock at the store, or the one the clerk scanned) is held for the sale while the order is
open; the order's notification (payments' paid handler, wired in `origination.hooks`) sells it; an order
that expires unpaid gives it back to the shelf. Money: payments books the order like a down payment —
Dr cash_alipay / Cr merchant_payable for the price, and, when the merchant pays the platform's fee (seller
percent 100), Dr platform_installment_fee / Cr cash_alipay for it. A 7-day return refunds the price through
Alipay (which gives the merchant's fee back, booked by payments) and puts the phone back in stock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fenqi.catalog.outright import release_sale, reserve_for_sale, restock_sale, sell_outright
from fenqi.catalog.service import (
    get_sku,
    get_store,
    hb_seller_percent,
    is_training,
)
from fenqi.catalog.stock import check_device_for_sale, device_in_stock
from fenqi.identity.deps import Principal, ensure_merchant
from fenqi.identity.service import shopper_account_of
from fenqi.kit.clock import business_date
from fenqi.kit.db import utcnow
from fenqi.kit.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from fenqi.kit.ids import new_id
from fenqi.kit.log import log
from fenqi.origination.models import HuabeiSale
from fenqi.payments.refunds import refund
from fenqi.payments.service import create_order, find_order
from fenqi.pricing.platform import HB_TERMS

RETURN_DAYS = 7  # the no-reason return window, counted from the business date of the payment
CHANNELS = ("online", "store")
STAFF_SEEING_ALL = ("risk_officer", "finance", "collector", "admin")


class SaleNotPossible(Conflict):
    code = "huabei_sale_not_possible"
    zh = "该订单当前不能办理此操作：{detail}"
    en = "This sale cannot do that now: {detail}"


def check_term(hb_fq_num: object) -> int:
    """3, 6 or 12 periods, whatever the form sent."""
    text = str(hb_fq_num).strip()
    if not (text.isascii() and text.isdigit()) or int(text) not in HB_TERMS:  # "²".isdigit(), int("²") fails
        raise InvalidInput(f"hb_fq_num {text[:8]!r}", zh="花呗分期只能选择 3 期、6 期或 12 期",
                           en="Huabei installments come in 3, 6 or 12 periods only")
    return int(text)


def till_shopper(session: Session, phone: str) -> int | None:
    """The account of the mobile number the clerk typed for a till sale (created now if the shopper has none
    yet, as for a loan signed at the till: only a sign-in code sent to that phone opens it), so that the sale
    shows in the shopper's "My loans". None for no number, or for a number of a staff account (not linked).
    Identity's validator decides what a mainland mobile number is (letters and "²" refused)."""
    text = phone.strip()
    if not text:
        return None
    user = shopper_account_of(session, text)  # identity's validator: a mainland mobile number, else refused
    return int(user.id) if user is not None else None


def start_sale(
    session: Session, *, sku_code: str, store_id: int, hb_fq_num: object, channel: str = "online",
    imei: str | None = None, shopper_user_id: int | None = None, clerk_user_id: int | None = None,
    return_url_for: Callable[[int], str] | None = None, scene: str = "page", idempotency_key: str | None = None,
) -> HuabeiSale:
    """Hold the phone and open the whole price's order at Alipay with `hb_fq_num` and the merchant's seller
    percent. Everything is checked before anything is written; a refusal by the channel raises, so the
    caller's rollback leaves no half-written sale. The same `idempotency_key` returns the first sale."""
    if channel not in CHANNELS:
        raise InvalidInput.saying(f"花呗分期只能通过支付宝支付，不支持 {channel}",
                                  f"Huabei is paid through Alipay, not {channel}")
    if idempotency_key:
        existing = session.scalar(select(HuabeiSale).where(HuabeiSale.idempotency_key == idempotency_key))
        if existing is not None:
            return existing
    term = check_term(hb_fq_num)
    try:
        sku = get_sku(session, sku_code, with_stock=False)
    except NotFound:
        raise InvalidInput(f"sku {sku_code}", zh="这款手机已下架，不能购买",
                           en="This phone is no longer on sale") from None
    store = get_store(session, store_id)
    if is_training(session, store.merchant_id):
        raise InvalidInput("training store", zh="培训门店不能使用花呗分期整单付款",
                           en="A training store cannot take whole-price Huabei payments")
    if imei:
        device_imei = check_device_for_sale(session, imei, sku.code, merchant_id=store.merchant_id).imei
    else:
        held = device_in_stock(session, sku_code=sku.code, store_id=store.id)
        if held is None:
            raise InvalidInput(f"no stock of {sku.code} at store {store.id}", zh="该门店这款手机暂时无货，请换一家门店",
                               en="This store has no such phone in stock; choose another store")
        device_imei = held.imei
    percent = hb_seller_percent(session, store.merchant_id)
    sale = HuabeiSale(
        status="pending", channel=channel, idempotency_key=idempotency_key or None, merchant_id=store.merchant_id,
        store_id=store.id, shopper_user_id=shopper_user_id, clerk_user_id=clerk_user_id, sku_code=sku.code,
        imei=device_imei, price_fen=sku.price_fen, hb_fq_num=term, hb_fq_seller_percent=percent, hb_fee_fen=0,
        out_trade_no=new_id("HBS"), business_date=business_date(session), expires_at=utcnow(),
    )
    try:
        with session.begin_nested():  # a double submit racing this one: its insert fails on the key
            session.add(sale)
            session.flush()
    except IntegrityError:
        again = session.scalar(select(HuabeiSale).where(HuabeiSale.idempotency_key == idempotency_key))
        if again is None:
            raise
        return again
    reserve_for_sale(session, imei=device_imei, sku_code=sku.code, sale_id=sale.id, merchant_id=store.merchant_id)
    order = create_order(
        session, purpose="sale", amount_fen=sku.price_fen, channel="alipay",
        subject=f"{sku.name_zh} 花呗分期{term}期", return_url=return_url_for(sale.id) if return_url_for else "",
        scene=scene, hb_fq_num=term, hb_fq_seller_percent=percent,
    )
    sale.out_trade_no, sale.expires_at, sale.hb_fee_fen = order.out_trade_no, order.expires_at, order.hb_fee_fen
    session.flush()
    log.info("origination.huabei_sale.started", sale_id=sale.id, out_trade_no=order.out_trade_no, term=term)
    return sale


def pay_url(session: Session, sale: HuabeiSale) -> str:
    order = find_order(session, sale.out_trade_no)
    return order.pay_url if order is not None else ""


def get_sale(session: Session, sale_id: int, principal: Principal | None = None) -> HuabeiSale:
    """Shoppers see their own sales; clerks and owners their merchant's; risk, finance, admin all."""
    sale = session.get(HuabeiSale, sale_id)
    if sale is None:
        raise NotFound.saying(f"花呗订单 {sale_id}", f"Huabei sale {sale_id}")
    if principal is not None and principal.role not in STAFF_SEEING_ALL:
        if principal.role == "shopper":
            if sale.shopper_user_id != principal.user_id:
                raise Forbidden()
        else:
            ensure_merchant(principal, sale.merchant_id)
    return sale


LISTED = 200  # a list page shows the newest sales; older ones stay reachable by their page's address


def sales_of_merchant(session: Session, merchant_id: int, limit: int = LISTED) -> list[HuabeiSale]:
    """The merchant's sales, newest first: the till's way back to a sale (a return days later)."""
    query = (select(HuabeiSale).where(HuabeiSale.merchant_id == merchant_id)
             .order_by(HuabeiSale.created_at.desc(), HuabeiSale.id.desc()).limit(limit))
    return list(session.scalars(query))


def sales_of_shopper(session: Session, user_id: int, limit: int = LISTED) -> list[HuabeiSale]:
    """The shopper's own purchases, newest first."""
    query = (select(HuabeiSale).where(HuabeiSale.shopper_user_id == user_id)
             .order_by(HuabeiSale.created_at.desc(), HuabeiSale.id.desc()).limit(limit))
    return list(session.scalars(query))


def sale_of_order(session: Session, out_trade_no: str) -> HuabeiSale | None:
    return session.scalar(select(HuabeiSale).where(HuabeiSale.out_trade_no == out_trade_no))


# --- reactions to the order (registered by origination.hooks.install) ---------------------------------------


def sale_paid(session: Session, order: object) -> None:
    """The whole price is paid: the held phone is sold. A payment that arrives after the hold lapsed sells
    the phone if it is still on the shelf; if it is gone, the sale waits for staff to refund it (no_phone)."""
    sale = sale_of_order(session, str(getattr(order, "out_trade_no", "")))
    paid = getattr(order, "paid_amount_fen", None) or getattr(order, "amount_fen", 0)
    if sale is None or paid != sale.price_fen:
        log.warning("origination.huabei_sale.not_the_order", out_trade_no=getattr(order, "out_trade_no", ""))
        return
    if sale.status not in ("pending", "expired"):
        return
    try:
        with session.begin_nested():
            sell_outright(session, sale_id=sale.id, imei=sale.imei, sku_code=sale.sku_code,
                          merchant_id=sale.merchant_id)
        sale.status = "paid"
    except DomainError as exc:
        log.warning("origination.huabei_sale.phone_gone", sale_id=sale.id, error=exc.code)
        sale.status = "no_phone"
    sale.paid_at, sale.paid_on = utcnow(), business_date(session)
    session.flush()


def sale_closed(session: Session, order: object) -> None:
    """The order closed unpaid (its time ran out): the phone goes back on the shelf."""
    sale = sale_of_order(session, str(getattr(order, "out_trade_no", "")))
    if sale is None or sale.status != "pending":
        return
    release_sale(session, sale_id=sale.id)
    sale.status = "expired"
    session.flush()


# --- the till's handover and the return ---------------------------------------------------------------------


def hand_over(session: Session, sale_id: int, clerk: Principal) -> HuabeiSale:
    """The clerk gives the paid phone to the shopper (交付). Again on a handed-over sale: nothing changes."""
    sale = get_sale(session, sale_id, clerk)
    if sale.status == "handed_over":
        return sale
    if sale.status != "paid":
        raise SaleNotPossible(sale.status, zh="顾客付款成功后才能交付手机",
                              en="Hand the phone over once the shopper has paid")
    sale.status, sale.handed_over_at, sale.handed_over_by = "handed_over", utcnow(), clerk.user_id
    session.flush()
    return sale


def return_deadline(sale: HuabeiSale) -> date | None:
    return sale.paid_on + timedelta(days=RETURN_DAYS) if sale.paid_on else None


def return_sale(session: Session, sale_id: int, actor: Principal, reason: str = "7天无理由退货") -> HuabeiSale:
    """The 7-day no-reason return: the whole price refunded through Alipay (which gives the merchant's
    花呗分期 fee back — payments books it), the phone back in stock. Idempotent: the refund's reference is
    the sale's, and a returned sale is returned as it is. A paid sale whose phone was gone (no_phone) is
    refunded the same way at any time."""
    sale = get_sale(session, sale_id, actor)
    if sale.status == "returned":
        return sale
    if sale.status not in ("paid", "handed_over", "no_phone"):
        raise SaleNotPossible(sale.status, zh="未付款的订单无需退货", en="Only a paid sale can be returned")
    deadline = return_deadline(sale)
    if sale.status != "no_phone" and deadline is not None and business_date(session) > deadline:
        raise SaleNotPossible("return window", zh=f"已超过 {RETURN_DAYS} 天无理由退货期限",
                              en=f"The {RETURN_DAYS}-day no-reason return period is over")
    ref = f"huabei_sale.return:{sale.id}"
    item = refund(session, out_trade_no=sale.out_trade_no, amount_fen=sale.price_fen, reason=reason, refund_ref=ref)
    if item.status == "failed":
        raise SaleNotPossible("refund failed", zh="支付宝暂时未能退款，请稍后再试",
                              en="Alipay could not refund just now; try again later")
    restock_sale(session, sale_id=sale.id)
    sale.status, sale.returned_at, sale.refund_ref = "returned", utcnow(), ref
    session.flush()
    log.info("origination.huabei_sale.returned", sale_id=sale.id, refund=item.out_refund_no)
    return sale
