"""Reactions to other domains' events, registered when the origination API is loaded."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fenqi.origination.signing import mark_down_payment_paid
from fenqi.payments.service import on_paid


@on_paid("down_payment")
def down_payment_paid(session: Session, order: Any) -> None:
    """The shopper paid the down payment: the clerk may hand the phone over."""
    if order.application_id is not None:
        mark_down_payment_paid(session, order.application_id)
