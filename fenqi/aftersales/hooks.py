"""Reactions to other domains' events, wired by `install()` (called from `fenqi.wiring.install()` at
start-up, never on import)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fenqi.aftersales.exchanges import difference_paid
from fenqi.aftersales.repairs import day_step
from fenqi.aftersales.returns import refund_paid
from fenqi.payments.handlers import register_paid_handler
from fenqi.payments.refunds import on_refund_paid
from fenqi.servicing.cob_steps import register_day_step


def exchange_difference_paid(session: Session, order: Any) -> None:
    """The extra down payment of a pricier exchange was paid."""
    difference_paid(session, order)


def install() -> None:
    on_refund_paid(refund_paid)
    register_paid_handler("down_payment", exchange_difference_paid)
    # When a business day closes: repairs past their deadline are flagged, and repairs past the policy's
    # loaner days offer the shopper a loaner phone (in the close's own transaction).
    register_day_step("aftersales.repairs", day_step, order=200)
