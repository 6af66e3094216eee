"""Reactions to other domains' events, registered when the origination API is loaded."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fenqi.origination.service import apply_review
from fenqi.origination.signing import mark_down_payment_paid
from fenqi.payments.service import on_paid
from fenqi.risk.schemas import Decision
from fenqi.risk.service import on_review


@on_paid("down_payment")
def down_payment_paid(session: Session, order: Any) -> None:
    """The shopper paid the down payment: the clerk may hand the phone over."""
    if order.application_id is not None:
        mark_down_payment_paid(session, order.application_id)


@on_review
def decision_reviewed(session: Session, decision: Decision) -> None:
    """Manual review finished: the referred application moves on (approved and routed, or declined)."""
    apply_review(session, decision)
