"""Reactions to other domains' events (loaded by payments' `_load_hooks` and at start-up)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fenqi.aftersales.exchanges import difference_paid
from fenqi.aftersales.returns import refund_paid
from fenqi.payments.refunds import on_refund_paid
from fenqi.payments.service import on_paid

on_refund_paid(refund_paid)


@on_paid("down_payment")
def exchange_difference_paid(session: Session, order: Any) -> None:
    """The extra down payment of a pricier exchange was paid."""
    difference_paid(session, order)
