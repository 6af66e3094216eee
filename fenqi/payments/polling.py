"""Asking the channel about orders we heard nothing of: the late or lost notification found by polling
(the periodic job in `fenqi.payments.tasks`, a staff request, the shopper's page back from the cashier),
settled through the inbox exactly as the notification would have been; expired unpaid orders closed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.kit.db import utcnow
from fenqi.kit.errors import DomainError
from fenqi.kit.log import log
from fenqi.payments.channels import Notification, TradeInfo, get_channel
from fenqi.payments.channels.base import payment_event_id
from fenqi.payments.inbox import process
from fenqi.payments.models import PaymentOrder
from fenqi.payments.service import find_order, loan_orders, mark_unpaid


def poll_order(session: Session, order: PaymentOrder, *, now: datetime | None = None) -> str:
    """Ask the channel about an order we heard nothing of; settle it the same way a notification
    would (through the inbox). Close it at the channel once it has expired unpaid."""
    now = now or utcnow()
    channel = get_channel(order.channel)
    info = channel.query(order.out_trade_no)
    if info.status == "pending" or info.status == "not_found":
        if order.expires_at > now or order.status != "pending":
            return "pending"
        if channel.close(order.out_trade_no):
            mark_unpaid(session, order, "closed", "expired")
            return "closed"
        info = channel.query(order.out_trade_no)  # paid in the meantime
    if info.status == "paid":
        return process(session, order.channel, _polled(info), source="poll")
    if info.status in ("closed", "failed") and order.status == "pending":
        mark_unpaid(session, order, info.status, info.reason or f"channel says {info.status}")
        return info.status
    return info.status


def _polled(info: TradeInfo) -> Notification:
    return Notification(kind="payment", event_id=payment_event_id(info.out_trade_no, info.trade_no),
                        out_trade_no=info.out_trade_no, trade_no=info.trade_no, amount_fen=info.amount_fen,
                        status="paid", paid_at=info.paid_at,
                        payload={"source": "query", "trade_no": info.trade_no, "amount_fen": info.amount_fen})


def refresh_order(session: Session, out_trade_no: str | None) -> PaymentOrder | None:
    """The order as the shopper sees it on coming back from the cashier (or reloading the page that waits
    for it): while it is still pending, the channel is asked at once and a payment it reports is settled
    here, through the inbox like its notification — which may be late, lost, or still on its way. Both
    go through the same inbox row and the same guarded UPDATE, and neither locks the order before its
    inbox row, so whichever comes second finds the payment settled and does nothing. A channel that
    cannot be reached leaves the order pending: the page says "confirming" and asks again."""
    if not out_trade_no:
        return None
    order = find_order(session, out_trade_no)
    if order is None or order.status != "pending":
        return order
    try:
        with session.begin_nested():
            poll_order(session, order)
    except DomainError as exc:
        log.info("payments.refresh.unreachable", out_trade_no=out_trade_no, error=exc.code)
    # Read it again: when the notification settled it in another transaction meanwhile, the poll above
    # found its inbox row taken and changed nothing here, so the object in this session is stale.
    session.refresh(order)
    return order


def refresh_latest_of_loan(session: Session, loan_id: int) -> PaymentOrder | None:
    """A loan's newest payment order, refreshed as `refresh_order` does: the shopper is back from the
    cashier on the loan's page, which does not know which order was just paid."""
    newest = loan_orders(session, loan_id, limit=1)
    return refresh_order(session, newest[0].out_trade_no) if newest else None


def orders_to_poll(session: Session, *, older_than: timedelta, now: datetime | None = None,
                   limit: int = 200) -> list[str]:
    """Pending orders opened more than `older_than` ago (their notification is late or lost)."""
    cutoff = (now or utcnow()) - older_than
    q = (select(PaymentOrder.out_trade_no)
         .where(PaymentOrder.status == "pending", PaymentOrder.created_at <= cutoff,
                PaymentOrder.training.is_(False))  # a practice order is at no channel
         .order_by(PaymentOrder.id).limit(limit))
    return list(session.scalars(q))
