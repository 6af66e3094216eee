"""Read-only selectables for reporting (analytics): down payment orders per application."""

from __future__ import annotations

from sqlalchemy import Subquery, case, func, select

from fenqi.payments.models import PaymentOrder


def down_payments() -> Subquery:
    """Per application: when its down payment was first paid, and how many of its orders expired unpaid."""
    o = PaymentOrder
    expired = case(((o.status == "closed") & (o.failure_reason == "expired"), 1), else_=0)
    return (
        select(o.application_id, func.min(case((o.paid_at.is_not(None), o.paid_at))).label("paid_at"),
               func.sum(expired).label("expired_orders"))
        .where(o.purpose == "down_payment", o.application_id.is_not(None), o.training.is_(False))
        .group_by(o.application_id)
        .subquery("rep_down_payments")
    )
