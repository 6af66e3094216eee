"""Test helpers for the console tests."""

from __future__ import annotations

from sqlalchemy.orm import Session


def pay(session: Session, out_trade_no: str) -> None:
    """The shopper pays the order at the cashier (the payment service's own settlement path)."""
    from fenqi.analytics.history import pay_order

    pay_order(session, out_trade_no)
