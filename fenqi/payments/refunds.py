"""Refunds, full or partial, idempotent by the caller's `refund_ref`.

Ledger: when the channel confirms a refund, the money first moves to refunds payable — from the
merchant payable for a down payment (posted here), or from the shopper's credit balance for a
loan's money (servicing's `refund_credit`) — and then out of the channel's cash clearing account.
A refund the channel still reports as processing reserves the first half; the payout follows when
the notification (WeChat Pay) or a query says it succeeded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fenqi.kit.db import utcnow
from fenqi.kit.log import log
from fenqi.kit.money import from_fen
from fenqi.ledger import Account, Line, Reason, cash_account, post_entry
from fenqi.payments import servicing_port
from fenqi.payments.channels import Notification, get_channel
from fenqi.payments.channels.base import RefundInfo
from fenqi.payments.errors import (
    InvalidPaymentAmount,
    OrderNotRefundable,
    RefundExceedsPaid,
    RefundRefReused,
    RefundRefusedForGood,
    RetryLater,
)
from fenqi.payments.models import PaymentOrder, PaymentRefund
from fenqi.payments.platform_fees import book_returned_fee
from fenqi.payments.service import get_order

# Channel answers that retrying the same refund cannot change (the others — a system error, the merchant
# account short of funds, too many requests — may pass later).
PERMANENT_REFUND_ERRORS = frozenset({
    # Alipay (sub_code)
    "ACQ.TRADE_NOT_EXIST", "ACQ.TRADE_HAS_CLOSE", "ACQ.TRADE_HAS_FINISHED", "ACQ.TRADE_STATUS_ERROR",
    "ACQ.TRADE_NOT_ALLOW_REFUND", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "ACQ.REFUND_FEE_ERROR",
    "ACQ.REASON_TRADE_REFUND_FEE_ERR", "ACQ.BUYER_ERROR", "ACQ.INVALID_PARAMETER",
    # WeChat Pay (code)
    "RESOURCE_NOT_EXISTS", "INVALID_REQUEST", "PARAM_ERROR", "USER_ACCOUNT_ABNORMAL", "MCH_NOT_EXISTS", "NO_AUTH",
})


def is_permanent_refund_error(code: str) -> bool:
    return code in PERMANENT_REFUND_ERRORS


RefundHandler = Callable[[Session, PaymentRefund], None]
_refund_handlers: list[RefundHandler] = []


def on_refund_paid(handler: RefundHandler) -> RefundHandler:
    """Register `handler(session, refund)` to run, in the same transaction, when a refund is paid out
    (after-sales follows the refunds of a return without payments importing it)."""
    if handler not in _refund_handlers:
        _refund_handlers.append(handler)
    return handler


def out_refund_no_for(refund_ref: str) -> str:
    """Deterministic, so that a retried request reaches the channel with the same refund number
    (both channels are idempotent by it) even if our first transaction never committed."""
    return "RF" + hashlib.sha256(refund_ref.encode()).hexdigest()[:30].upper()


def refund(session: Session, *, out_trade_no: str, amount_fen: int, reason: str, refund_ref: str) -> PaymentRefund:
    """Refund (part of) a paid order. The same refund_ref returns the first refund."""
    opened = _open(session, out_trade_no, amount_fen, refund_ref)
    if isinstance(opened, PaymentRefund):
        return opened
    order, paid, taken = opened
    item = PaymentRefund(refund_ref=refund_ref, out_refund_no=out_refund_no_for(refund_ref), order_id=order.id,
                         amount_fen=amount_fen, reason=reason[:120] or "refund", status="processing")
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError:
        # The same refund_ref committed meanwhile for another order (which we did not lock).
        again = _same_refund(session, order, refund_ref, amount_fen)
        if again is None:
            raise RefundRefReused(refund_ref) from None
        return again
    if order.training:  # a practice order was never at a channel: its refund is paid out here
        result = RefundInfo(item.out_refund_no, "succeeded", f"TRAINING-{item.out_refund_no}"[:64], amount_fen)
    else:
        result = get_channel(order.channel).refund(out_trade_no=order.out_trade_no, out_refund_no=item.out_refund_no,
                                                   amount_fen=amount_fen, total_fen=paid, reason=item.reason)
    if result.status == "failed" and is_permanent_refund_error(result.error_code):
        # Nothing was refunded: the refund row goes with the caller's rollback; asking again cannot help.
        log.info("payments.refund.refused_for_good", out_refund_no=item.out_refund_no, code=result.error_code)
        raise RefundRefusedForGood(result.error_code)
    if result.status == "failed":
        item.status = "failed"
        session.flush()
        log.info("payments.refund.failed", out_refund_no=item.out_refund_no)
        return item
    _reserve(session, order, item)
    order.refunded_fen = taken + amount_fen
    if order.refunded_fen >= paid:
        order.status = "refunded"
    if result.status == "succeeded":
        _paid_out(session, order, item, result.refund_no)
    session.flush()
    return item


SETTLED_OUTSIDE = "settled_bank"  # paid back outside the channel (bank transfer): never at the channel's statement


def settle_outside(session: Session, *, out_trade_no: str, amount_fen: int, refund_ref: str, reference: str,
                   reason: str) -> PaymentRefund:
    """Record a refund that finance paid back outside the channel (a bank transfer, `reference` its number)
    after the channel would not: the same two halves a channel refund posts — into refunds payable, then out
    of the bank account instead of the channel's clearing account — and the order's refunded total, so that
    no later refund through the channel can pay the same money twice. The same refund_ref returns the first."""
    opened = _open(session, out_trade_no, amount_fen, refund_ref)
    if isinstance(opened, PaymentRefund):
        return opened
    order, paid, taken = opened
    item = PaymentRefund(refund_ref=refund_ref, out_refund_no=out_refund_no_for(refund_ref), order_id=order.id,
                         amount_fen=amount_fen, reason=reason[:120] or "refund", status=SETTLED_OUTSIDE,
                         refund_no=reference[:64], succeeded_at=utcnow())
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError:
        raise RefundRefReused(refund_ref) from None
    _reserve(session, order, item)
    post_entry(session, reason=Reason.REFUND, idempotency_key=f"payments.refund_paid:{item.out_refund_no}",
               loan_id=order.loan_id, payment_ref=item.out_refund_no, memo=f"bank {reference}"[:200],
               lines=[Line.dr(Account.REFUNDS_PAYABLE, amount_fen), Line.cr(Account.CASH_BANK, amount_fen)])
    order.refunded_fen = taken + amount_fen
    if order.refunded_fen >= paid:
        order.status = "refunded"
    session.flush()
    log.info("payments.refund.settled_outside", out_refund_no=item.out_refund_no, amount_fen=amount_fen)
    return item


def _open(session: Session, out_trade_no: str, amount_fen: int,
          refund_ref: str) -> PaymentRefund | tuple[PaymentOrder, int, int]:
    """What every refund checks first, with the order locked: the refund this refund_ref already made (the
    same request again), or the order with what it was paid and what is already refunded (or on its way)."""
    if not refund_ref or len(refund_ref) > 120:
        raise InvalidPaymentAmount("refund_ref must be 1-120 characters")
    # Two requests for the same order queue here; everything below is read after the other one's commit.
    order = _locked(session, out_trade_no)
    existing = _same_refund(session, order, refund_ref, amount_fen)
    if existing is not None:
        return existing
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise InvalidPaymentAmount(f"{amount_fen!r} fen")
    if order.status not in ("paid", "refunded"):
        raise OrderNotRefundable(f"{out_trade_no} is {order.status}")
    paid = order.paid_amount_fen or order.amount_fen
    taken = session.scalar(select(func.coalesce(func.sum(PaymentRefund.amount_fen), 0)).where(
        PaymentRefund.order_id == order.id, PaymentRefund.status != "failed")) or 0
    if taken + amount_fen > paid:
        raise RefundExceedsPaid(f"paid {paid} fen, refunded {taken} fen, asked {amount_fen} fen")
    return order, paid, taken


def _locked(session: Session, out_trade_no: str) -> PaymentOrder:
    """The order, locked for this transaction: a row lock on PostgreSQL; on SQLite (no FOR UPDATE) a
    write to the row, which takes the database's write lock before anything is read."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(PaymentOrder).where(PaymentOrder.out_trade_no == out_trade_no)
                        .values(updated_at=PaymentOrder.updated_at).execution_options(synchronize_session=False))
    order = get_order(session, out_trade_no, lock=True)
    session.refresh(order)
    return order


def _same_refund(session: Session, order: PaymentOrder, refund_ref: str, amount_fen: int) -> PaymentRefund | None:
    """The refund already made under this reference (the same request again), or None; a reference
    used for another order or amount is refused."""
    existing = session.scalar(select(PaymentRefund).where(PaymentRefund.refund_ref == refund_ref))
    if existing is not None and (existing.order_id != order.id or existing.amount_fen != amount_fen):
        raise RefundRefReused(refund_ref)
    return existing


def _reserve(session: Session, order: PaymentOrder, item: PaymentRefund) -> None:
    if order.purpose in ("down_payment", "sale"):  # the merchant's money, not a loan's
        post_entry(session, reason=Reason.REFUND, idempotency_key=f"payments.refund:{item.out_refund_no}",
                   loan_id=order.loan_id, payment_ref=item.out_refund_no, memo=f"refund of {order.out_trade_no}",
                   lines=[Line.dr(Account.MERCHANT_PAYABLE, item.amount_fen),
                          Line.cr(Account.REFUNDS_PAYABLE, item.amount_fen)])
    else:
        assert order.loan_id is not None
        servicing_port.refund_credit(session, loan_id=order.loan_id, amount_fen=item.amount_fen,
                                     refund_ref=item.out_refund_no)


def _paid_out(session: Session, order: PaymentOrder, item: PaymentRefund, refund_no: str) -> None:
    post_entry(session, reason=Reason.REFUND, idempotency_key=f"payments.refund_paid:{item.out_refund_no}",
               loan_id=order.loan_id, payment_ref=item.out_refund_no, memo=f"{order.channel} {refund_no}",
               lines=[Line.dr(Account.REFUNDS_PAYABLE, item.amount_fen),
                      Line.cr(cash_account(order.channel), item.amount_fen)])
    if order.hb_fq_num:  # Alipay gives back the merchant's 花呗分期 fee pro rata (fenqi.payments.platform_fees)
        book_returned_fee(session, order, item)
    item.status, item.refund_no, item.succeeded_at = "succeeded", refund_no or item.refund_no, utcnow()
    log.info("payments.refund.succeeded", out_refund_no=item.out_refund_no, amount_fen=item.amount_fen)
    for handler in _refund_handlers:
        handler(session, item)


def on_refund_event(session: Session, n: Notification) -> tuple[str, str]:
    """A refund notification: the payout half of a refund the channel had reported as processing."""
    item = session.scalar(select(PaymentRefund).where(PaymentRefund.out_refund_no == n.out_refund_no)
                          .with_for_update())
    if item is None:

        # Our refund's transaction may still be open (the channel answered and notified at once).
        raise RetryLater(n.out_refund_no)
    if item.status != "processing":
        return "ignored", f"refund already {item.status}"
    if n.status != "succeeded":
        return "ignored", f"refund status {n.status}"
    order = session.get(PaymentOrder, item.order_id)
    assert order is not None
    resource = n.payload.get("resource")
    _paid_out(session, order, item, str(resource.get("refund_id", "")) if isinstance(resource, dict) else "")
    return "processed", ""


def poll_refund(session: Session, item: PaymentRefund) -> str:
    """Ask the channel about a refund still processing (its notification is late or lost)."""
    order = session.get(PaymentOrder, item.order_id)
    assert order is not None
    info = get_channel(order.channel).query_refund(out_trade_no=order.out_trade_no, out_refund_no=item.out_refund_no)
    if info is not None and info.status == "succeeded" and item.status == "processing":
        _paid_out(session, order, item, info.refund_no)
    return item.status


def find_refund(session: Session, refund_ref: str) -> PaymentRefund | None:
    """The refund made under the caller's `refund_ref`, if any (after-sales follows its refunds this way)."""
    return session.scalar(select(PaymentRefund).where(PaymentRefund.refund_ref == refund_ref))


def refund_json(item: PaymentRefund, out_trade_no: str) -> dict[str, object]:
    return {"refund_ref": item.refund_ref, "out_refund_no": item.out_refund_no, "out_trade_no": out_trade_no,
            "amount": str(from_fen(item.amount_fen)), "reason": item.reason, "status": item.status,
            "refund_no": item.refund_no or None,
            "succeeded_at": item.succeeded_at.isoformat() if item.succeeded_at else None}
