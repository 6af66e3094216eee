"""The callback inbox: every verified notification (or polled result) is stored once per
(channel, event id) with INSERT ... ON CONFLICT DO NOTHING — on SQLite and PostgreSQL alike — and
only the transaction that inserted it processes it. Copies, retries and races all find the row
taken and do nothing; the order's guarded status change covers different events of one payment.

Payments settle here; what follows a refund event or a failed payment belongs to the steps that
started them (refunds, auto-debit), which register their handlers at start-up
(`fenqi.payments.install`, called by `fenqi.wiring.install()`): the inbox imports none of the
modules that feed it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from fenqi.kit.db import utcnow
from fenqi.kit.log import log
from fenqi.payments import service
from fenqi.payments.channels import Notification
from fenqi.payments.errors import RetryLater
from fenqi.payments.handlers import WiringMissing
from fenqi.payments.models import CallbackInbox, PaymentOrder

__all__ = [
    "OUTCOMES",
    "RetryLater",
    "insert_once",
    "process",
    "register_failure_handler",
    "register_refund_handler",
]

OUTCOMES = ("processed", "duplicate", "rejected", "ignored")

RefundHandler = Callable[[Session, Notification], tuple[str, str]]  # → (inbox status, note)
FailureHandler = Callable[[Session, PaymentOrder], None]

_refund_handler: list[RefundHandler] = []
_failure_handlers: list[FailureHandler] = []


def register_refund_handler(handler: RefundHandler) -> None:
    """`handler(session, event)` applies a refund event and says how it ended (one handler)."""
    _refund_handler[:] = [handler]


def register_failure_handler(handler: FailureHandler) -> None:
    """`handler(session, order)` runs when a pending order was reported failed or closed."""
    if handler not in _failure_handlers:
        _failure_handlers.append(handler)


@lru_cache
def _insert_statement(dialect: str) -> Any:
    """Built once per dialect: INSERT ... ON CONFLICT (channel, event_id) DO NOTHING RETURNING id."""
    table = cast(Table, CallbackInbox.__table__)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=["channel", "event_id"]).returning(table.c.id)


def insert_once(session: Session, channel: str, n: Notification, source: str) -> int | None:
    """Store the event; the new row's id, or None when it was already there."""
    values: dict[str, Any] = {
        "channel": channel, "event_id": n.event_id[:128], "kind": n.kind, "source": source,
        "out_trade_no": n.out_trade_no[:64], "amount_fen": n.amount_fen, "payload": n.payload,
        # Optimistic: the common outcome; the other paths rewrite it in the same transaction.
        "status": "processed", "note": "", "received_at": utcnow(),
    }
    stmt = _insert_statement(session.get_bind().dialect.name)
    return session.execute(stmt, values).scalar_one_or_none()


def _finish(session: Session, inbox_id: int, status: str, note: str = "") -> str:
    session.execute(update(CallbackInbox).where(CallbackInbox.id == inbox_id)
                    .values(status=status, note=note[:200]).execution_options(synchronize_session=False))
    return status


def _claim_and_settle(session: Session, channel: str, n: Notification) -> bool:
    claimed = service.claim_paid(session, n.out_trade_no, channel, trade_no=n.trade_no, paid_at=n.paid_at,
                                 amount_fen=n.amount_fen)
    if claimed is None:
        return False
    service.settle(session, claimed)
    return True


def process(session: Session, channel: str, n: Notification, *, source: str = "callback") -> str:
    """Inbox the event and, if it is new, apply it. Returns one of OUTCOMES."""
    inbox_id = insert_once(session, channel, n, source)
    if inbox_id is None:
        log.info("payments.inbox.duplicate", channel=channel, event_id=n.event_id, source=source)
        return "duplicate"
    if n.kind == "refund":
        if not _refund_handler:
            raise WiringMissing("no refund handler: fenqi.wiring.install() was not called in this process")
        return _finish(session, inbox_id, *_refund_handler[0](session, n))
    if n.kind == "payment" and _claim_and_settle(session, channel, n):
        return "processed"
    order = service.find_order(session, n.out_trade_no)
    if order is None or order.channel != channel:
        log.warning("payments.inbox.unknown_order", channel=channel, out_trade_no=n.out_trade_no, source=source)
        if source == "callback":
            raise RetryLater(n.out_trade_no)
        return _finish(session, inbox_id, "rejected", "unknown order")
    if n.kind == "payment":
        if n.amount_fen != order.amount_fen:
            # Never apply a payment whose amount differs from the order: finance sees it in the inbox
            # and in reconciliation (amount mismatch), and decides.
            log.warning("payments.inbox.amount_mismatch", out_trade_no=order.out_trade_no,
                        expected_fen=order.amount_fen, got_fen=n.amount_fen)
            return _finish(session, inbox_id, "rejected",
                           f"amount mismatch: order {order.amount_fen} fen, channel {n.amount_fen} fen")
        if order.status in service.PAYABLE and _claim_and_settle(session, channel, n):
            # The order's transaction committed between the claim above and this read (a channel that
            # answers before the debit's transaction ends): it is claimable now, so claim it now.
            return "processed"
        return _finish(session, inbox_id, "ignored", f"order already {order.status}")
    if n.kind == "payment_failed":
        status = "failed" if n.status == "failed" else "closed"
        if service.mark_unpaid(session, order, status, f"channel: {n.payload.get('trade_status', n.status)}"):
            for handler in _failure_handlers:
                handler(session, order)
            return "processed"
        return _finish(session, inbox_id, "ignored", f"order already {order.status}")
    return _finish(session, inbox_id, "ignored", f"event {n.kind}")
