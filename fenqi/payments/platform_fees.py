"""花呗分期 fees on refunds: what Alipay gives back to the merchant, booked and reconciled.

The rule (Alipay's for a fee the merchant paid, hb_fq_seller_percent=100): a refund gives the merchant
back the 花呗分期 fee in proportion to the amount refunded — the whole fee on a full refund — counted
cumulatively over the order's refunds in the order they were made, so refunds in parts give back
exactly the whole fee (`fenqi.pricing.platform.returned_fee_fen`). The shopper-paid fee (percent 0) is
between the shopper and Huabei: nothing of it passes through the merchant's account, nothing is booked.

Ledger, when the refund is paid out: Dr cash clearing (the channel) / Cr platform installment fees,
under the refund's number, so the fee expense of a fully refunded sale comes back to zero.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.ledger import Account, Line, Reason, cash_account, post_entry
from fenqi.payments.models import PaymentOrder, PaymentRefund
from fenqi.payments.statement_parsers import fen
from fenqi.pricing.platform import returned_fee_fen


def returned_fee(session: Session, order: PaymentOrder, item: PaymentRefund) -> int:
    """The merchant's 花呗分期 fee this refund gives back (0 for an order without a merchant-paid fee)."""
    fee = order.hb_merchant_fee_fen
    if not fee:
        return 0
    before = session.scalar(select(func.coalesce(func.sum(PaymentRefund.amount_fen), 0)).where(
        PaymentRefund.order_id == order.id, PaymentRefund.id < item.id, PaymentRefund.status != "failed")) or 0
    return returned_fee_fen(fee, order.paid_amount_fen or order.amount_fen, int(before), item.amount_fen)


def book_returned_fee(session: Session, order: PaymentOrder, item: PaymentRefund) -> int:
    """Post the fee the refund gives back (once: the entry's key is the refund's number); the amount."""
    back = returned_fee(session, order, item)
    if back:
        post_entry(session, reason=Reason.PLATFORM_INSTALLMENT_FEE,
                   idempotency_key=f"hbfee_returned:{item.out_refund_no}", loan_id=order.loan_id,
                   payment_ref=item.out_refund_no, memo=f"花呗分期手续费退回 {order.channel} {order.out_trade_no}",
                   lines=[Line.dr(cash_account(order.channel), back), Line.cr(Account.PLATFORM_INSTALLMENT_FEE, back)])
    return back


def expected_returns(session: Session, out_refund_nos: list[str]) -> dict[str, int]:
    """out_refund_no → the fee we expect the channel to give back with it, for our refunds among these
    numbers whose order carries a merchant-paid 花呗分期 fee (others are absent)."""
    out: dict[str, int] = {}
    for i in range(0, len(out_refund_nos), 500):
        rows = session.execute(
            select(PaymentRefund, PaymentOrder).join(PaymentOrder, PaymentOrder.id == PaymentRefund.order_id)
            .where(PaymentRefund.out_refund_no.in_(out_refund_nos[i:i + 500]), PaymentOrder.hb_fq_num.is_not(None))
        ).all()
        for refund, order in rows:
            if order.hb_merchant_fee_fen:
                out[refund.out_refund_no] = returned_fee(session, order, refund)
    return out


def stated_return(note: str) -> int:
    """The fee a refund line's 备注 says was given back ("花呗分期手续费退回45.00"), 0 if none."""
    prefix = "花呗分期手续费退回"
    return fen(note[len(prefix):]) if note.startswith(prefix) else 0
