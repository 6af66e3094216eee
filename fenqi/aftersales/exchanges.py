"""Exchanges (换货): the new phone (by IMEI, from the same merchant's shelf) is bound to the loan, the old one
comes back (in stock when the inspection found nothing wrong, else "returned — inspect"); the loan's
schedule is unchanged.

* A pricier phone, as the shopper prefers: "cashier" (the default) → the difference is an extra down
  payment, paid at the channel's cashier (a payment order of purpose down_payment: the money goes to the
  merchant like the first down payment), the loan unchanged; the case completes when it is paid (`on_paid`
  hook in fenqi.aftersales.hooks). "new_plan" → if risk allows, the difference is financed on the loan,
  re-priced with a fresh contract and APR that the shopper signs before the new phone is bound
  (fenqi.aftersales.reprice).
* A cheaper phone, per policy: "refund" → the difference is refunded through the down-payment order (to
  the channel it came from) as far as it goes; "reduce_principal" (or what the down payment cannot cover)
  → the merchant pays the difference off the loan (servicing's early repayment, no prepayment fee): the
  rest of the schedule is re-amortized for lower installments over the same term, shown with the APR.
Deductions agreed at the inspection are added to what the shopper pays (or taken off what they get back).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fenqi.aftersales.cases import complete, event, notify_shopper, phone_back
from fenqi.aftersales.models import AftersalesCase, CaseStatus
from fenqi.aftersales.policies import policy_of_case
from fenqi.aftersales.policy import fit_for_stock
from fenqi.catalog.service import get_sku
from fenqi.catalog.stock import exchange_device, set_device_status, sku_of_device
from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import fmt_fen as yuan
from fenqi.kit.money import fmt_rate, fmt_yuan, from_fen
from fenqi.payments.refunds import refund
from fenqi.payments.service import create_order, find_order, loan_orders
from fenqi.servicing.merchant_adjustments import reduce_principal_from_merchant
from fenqi.servicing.service import get_loan, installments, record_goods_price

SETTLE = ("cashier", "new_plan")  # how a pricier exchange is paid


def start_exchange(session: Session, case: AftersalesCase, *, new_imei: str | None, settle: str | None,
                   actor: int | None, channel: str = "alipay") -> AftersalesCase:
    if not new_imei:
        raise InvalidInput("new_imei", zh="请扫描换给顾客的新手机的 IMEI",
                           en="Scan the IMEI of the phone handed out instead")
    if (settle or "cashier") not in SETTLE:
        raise InvalidInput(f"settle: {' | '.join(SETTLE)}", zh="请选择差价的支付方式：收银台付清或办理新分期",
                           en="Choose how the difference is paid: at the cashier or as a new plan")
    difference = difference_for(session, case, new_imei)
    swap_phone(session, case, new_imei, actor)
    record_goods_price(session, case.loan_id, int(sku_of_device(session, new_imei).price_fen))
    case.difference_fen = difference
    ref = f"aftersales:{case.id}:exchange"
    if difference > 0:
        order = create_order(session, purpose="down_payment", amount_fen=difference, channel=channel,
                             subject=f"换货补差价 售后单{case.id}", loan_id=case.loan_id,
                             application_id=case.application_id)
        case.difference_order = order.out_trade_no
        event(session, f"case:{case.id}", "difference_due", f"需补差价{yuan(difference)}元（作为追加首付）",
              f"{yuan(difference)} yuan to pay as an extra down payment", actor)
        notify_shopper(session, case.application_id, "aftersales.exchange",
                       f"【分期】换货需补差价{yuan(difference)}元，请在收银台支付")
    elif difference < 0:
        back = -difference
        to_loan = _pay_back(session, case, back, ref)
        zh, en = f"已退还{yuan(back - to_loan)}元", f"{yuan(back - to_loan)} yuan given back"
        if to_loan:
            zh = f"{zh}，{yuan(to_loan)}元抵减贷款" if to_loan < back else f"{yuan(to_loan)}元抵减贷款"
            en = f"{en}, {yuan(to_loan)} yuan paid off the loan" if to_loan < back \
                else f"{yuan(to_loan)} yuan paid off the loan"
        complete(session, case, f"换货完成，差价{yuan(back)}元：{zh}",
                 f"Exchange completed: of the {yuan(back)} yuan difference, {en}")
    else:
        complete(session, case, "换货完成", "Exchange completed")
    return case


def difference_for(session: Session, case: AftersalesCase, new_imei: str) -> int:
    """What the shopper owes for the new phone: its price − the price on the loan + the agreed deductions."""
    return int(sku_of_device(session, new_imei).price_fen) - get_loan(session, case.loan_id).price_fen \
        + case.deduction_fen


def swap_phone(session: Session, case: AftersalesCase, new_imei: str, actor: int | None) -> None:
    """The new phone is bound to the loan; the old one comes back (in stock if the inspection was clean)."""
    new_sku = sku_of_device(session, new_imei)
    device = exchange_device(session, loan_id=case.loan_id, old_imei=case.imei, new_imei=new_imei)
    clean = fit_for_stock(policy_of_case(session, case.policy_id), case.inspection)
    if clean:
        set_device_status(session, imei=case.imei, status="in_stock")
    case.new_imei = device.imei
    phone_back(session, case, "exchanged", in_stock=clean)
    case.steps = {**case.steps, "device_exchanged": new_imei}
    event(session, f"case:{case.id}", "device_exchanged", f"已换新机（{new_sku.name_zh}），原机已退回",
          f"Exchanged for a new phone ({new_sku.name_en}); the old one is back", actor)


def _pay_back(session: Session, case: AftersalesCase, amount: int, ref: str) -> int:
    """Give the difference back per policy; returns how much of it the merchant paid off the loan."""
    policy = policy_of_case(session, case.policy_id)
    left = amount
    if policy.cheaper_exchange == "refund":
        for order in loan_orders(session, case.loan_id, limit=1000):
            if order.purpose != "down_payment" or order.status not in ("paid", "refunded") or left <= 0:
                continue
            room = (order.paid_amount_fen or order.amount_fen) - order.refunded_fen
            part = min(room, left)
            if part > 0:
                item = refund(session, out_trade_no=order.out_trade_no, amount_fen=part,
                              reason=f"换货差价退款 售后单{case.id}", refund_ref=f"{ref}:{order.out_trade_no}")
                if item.status != "failed":
                    left -= part
                    event(session, f"case:{case.id}", "refunded", f"差价{yuan(part)}元已原路退回",
                          f"{yuan(part)} yuan of the difference refunded to {order.channel}")
    if left > 0:
        before = next_installment_fen(session, case.loan_id)
        paid = reduce_principal_from_merchant(session, case.loan_id, amount_fen=left, ref=ref).repayment
        after = next_installment_fen(session, case.loan_id)
        case.steps = {**case.steps, "principal_reduced": str(paid.principal_fen)}
        zh_monthly = f"，月供由{yuan(before)}元降为{yuan(after)}元" if before and after != before else ""
        en_monthly = f"; the installment goes from {yuan(before)} to {yuan(after)} yuan" \
            if before and after != before else ""
        event(session, f"case:{case.id}", "principal_reduced",
              f"差价{yuan(left)}元由商户用于提前还款（本金{yuan(paid.principal_fen)}元、"
              f"利息{yuan(paid.interest_fen + paid.fee_fen)}元），不收提前还款手续费，剩余期数不变{zh_monthly}",
              f"The merchant pays the {yuan(left)} yuan difference off the loan ({yuan(paid.principal_fen)} "
              f"principal, {yuan(paid.interest_fen + paid.fee_fen)} interest), no prepayment fee, same term"
              f"{en_monthly}")
    case.refund_fen = amount
    return left


def next_installment_fen(session: Session, loan_id: int) -> int:
    """The regular installment ahead: the first pending one after the current period (the current one's
    interest is prorated by a re-amortization), or the current one when it is the last."""
    pending = [r for r in installments(session, loan_id) if r.status == "pending"]
    row = pending[1] if len(pending) > 1 else (pending[0] if pending else None)
    return int(row.principal_fen + row.interest_fen + row.fee_fen) if row else 0


def _left(row: Any) -> tuple[int, int, int]:
    """What is still to pay of an installment: principal, interest, fee."""
    return (row.principal_fen - row.paid_principal_fen, row.interest_fen - row.paid_interest_fen,
            row.fee_fen - row.paid_fee_fen)


def schedule_json(session: Session, case: AftersalesCase) -> dict[str, Any] | None:
    """The loan's schedule after an exchange re-amortized it (a cheaper phone's difference paid off, or a
    pricier one's financed), with its APR (what the shopper is shown)."""
    changed = "principal_reduced" in case.steps or case.steps.get("reprice_status") == "signed"
    if case.outcome != "exchange" or not changed:
        return None
    loan = get_loan(session, case.loan_id)
    rows = [r for r in installments(session, case.loan_id) if r.status == "pending"]
    return {"principal_outstanding": fmt_yuan(from_fen(loan.principal_outstanding_fen)),
            "apr": fmt_rate(loan.apr), "installments": [
                {"period": r.period, "due_date": r.due_date.isoformat(), "total": fmt_yuan(from_fen(sum(_left(r)))),
                 "principal": fmt_yuan(from_fen(_left(r)[0])), "interest": fmt_yuan(from_fen(_left(r)[1])),
                 "fee": fmt_yuan(from_fen(_left(r)[2]))} for r in rows]}


def difference_paid(session: Session, order: Any) -> None:
    """The extra down payment of a pricier exchange was paid: the exchange is complete."""
    if order.loan_id is None:
        return
    from sqlalchemy import select

    case = session.scalar(select(AftersalesCase).where(AftersalesCase.difference_order == order.out_trade_no))
    if case is not None and case.status == CaseStatus.PROCESSING:
        complete(session, case, f"差价{yuan(case.difference_fen)}元已支付，换货完成",
                 f"The difference of {yuan(case.difference_fen)} yuan is paid: exchange completed")


def difference_order_json(session: Session, case: AftersalesCase) -> dict[str, Any] | None:
    if not case.difference_order:
        return None
    order = find_order(session, case.difference_order)
    if order is None:
        return None
    return {"out_trade_no": order.out_trade_no, "status": order.status, "pay_url": order.pay_url,
            "amount": str(from_fen(order.amount_fen)), "channel": order.channel}


def old_sku_name(session: Session, case: AftersalesCase) -> str:
    return get_sku(session, case.sku_code).name_zh
