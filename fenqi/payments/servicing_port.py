"""What payments needs from servicing and the ledger, in one place.

Installment and payoff payments go to `fenqi.servicing.service.apply_repayment` (which posts the
cash entry itself); refunds of a loan's money first move the shopper's credit balance to refunds
payable with `refund_credit`; the auto-debit batch asks what a loan has due.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session


def apply_repayment(session: Session, *, loan_id: int, amount_fen: int, payment_ref: str, channel: str,
                    purpose: str) -> None:
    from fenqi.servicing.service import apply_repayment as servicing_apply

    servicing_apply(session, loan_id=loan_id, amount_fen=amount_fen, payment_ref=payment_ref, channel=channel,
                    purpose="payoff" if purpose == "payoff" else "installment")


def refund_credit(session: Session, *, loan_id: int, amount_fen: int, refund_ref: str) -> None:
    from fenqi.servicing.service import refund_credit as servicing_refund

    servicing_refund(session, loan_id, amount_fen=amount_fen, refund_ref=refund_ref)


def amount_due(session: Session, loan_id: int, on: date) -> tuple[date, int] | None:
    """The oldest unpaid due date and what brings the loan up to date on `on` (servicing's figure:
    installments due, penalties, less the credit balance), or None when nothing is due."""
    from fenqi.servicing.service import amount_due as servicing_amount_due
    from fenqi.servicing.service import installments

    total = servicing_amount_due(session, loan_id, on)
    if total <= 0:
        return None
    unpaid = [
        row.due_date
        for row in installments(session, loan_id)
        if row.due_date <= on
        and row.status != "cancelled"
        and row.principal_fen + row.interest_fen + row.fee_fen
        > row.paid_principal_fen + row.paid_interest_fen + row.paid_fee_fen
    ]
    return (min(unpaid), total) if unpaid else None
